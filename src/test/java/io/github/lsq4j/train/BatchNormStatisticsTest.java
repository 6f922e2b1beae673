package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqDense;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.deeplearning4j.datasets.iterator.IteratorMultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class BatchNormStatisticsTest {
    private static final int BATCH = 16;
    private static final Set<String> RUNNING_STATISTICS = Set.of(BatchNormalizationParamInitializer.GLOBAL_MEAN,
            BatchNormalizationParamInitializer.GLOBAL_VAR, BatchNormalizationParamInitializer.GLOBAL_LOG_STD);

    @BeforeEach
    void floatPrecision() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    /** 2-bit LSQ conv - BN - ReLU - 2-bit conv - BN (log-std) + shortcut - ReLU - pool - 2-bit dense - BN (variance) - output. */
    private static ComputationGraph graph() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(3).updater(new Sgd(0.05))
                .weightInit(WeightInit.RELU).convolutionMode(ConvolutionMode.Same).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(8, 8, 1))
                .addLayer("c1", new LsqConv2D.Builder().nOut(4).kernelSize(3).convolutionMode(ConvolutionMode.Same).bits(2).inputSigned(true).hasBias(false).build(), "in")
                .addLayer("bn1", new BatchNormalization.Builder().build(), "c1")
                .addLayer("r1", new ActivationLayer(Activation.RELU), "bn1")
                .addLayer("c2", new LsqConv2D.Builder().nOut(4).kernelSize(3).convolutionMode(ConvolutionMode.Same).bits(2).inputSigned(false).hasBias(false).build(), "r1")
                .addLayer("bn2", new BatchNormalization.Builder().build(), "c2")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn2", "r1")
                .addLayer("r2", new ActivationLayer(Activation.RELU), "add")
                .addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), "r2")
                .addLayer("fc", new LsqDense.Builder().nOut(6).bits(2).inputSigned(false).build(), "pool")
                .addLayer("bn3", new BatchNormalization.Builder().useLogStd(false).build(), "fc")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "bn3")
                .setOutputs("out").build());
        g.init();
        return g;
    }

    private static DataSet data(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, 1, 8, 8).addi(0.5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1f);
        }
        return new DataSet(x, y);
    }

    /** Trains a few steps so the running statistics move away from their initial values but lag the weights. */
    private static ComputationGraph trained(DataSet train) {
        ComputationGraph g = graph();
        for (int i = 0; i < 5; i++) {
            for (DataSet b : train.batchBy(BATCH)) {
                g.fit(b);
            }
        }
        return g;
    }

    @Test
    void afterReestimatingOnOneBatchInferenceEqualsTheTrainingModeForwardPass() {
        DataSet train = data(64, 1);
        ComputationGraph g = trained(train);
        INDArray batch = train.getFeatures();
        INDArray trainingMode = g.output(true, batch)[0];
        assertTrue(maxAbsDiff(trainingMode, g.output(false, batch)[0]) > 1e-3,
                "the test needs running statistics that differ from the batch statistics");

        assertEquals(3, BatchNormStatistics.reestimate(g, new ListDataSetIterator<>(List.of(train), 64), 1));

        assertTrue(maxAbsDiff(trainingMode, g.output(false, batch)[0]) < 1e-5,
                "inference with re-estimated statistics must equal the batch-statistics forward pass");
    }

    @Test
    void statisticsAreTheExampleWeightedAverageOfBatchStatisticsAndNothingElseChanges() {
        DataSet train = data(40, 2);
        ComputationGraph g = trained(train);
        INDArray paramsBefore = g.params().dup();
        Map<String, INDArray> before = new HashMap<>();
        for (Layer layer : g.getLayers()) {
            layer.paramTable().forEach((key, p) -> before.put(layer.conf().getLayer().getLayerName() + "." + key, p.dup()));
        }
        // Batches of 16, 16 and 8: an unequal last batch checks the weighting by examples.
        List<DataSet> batches = train.batchBy(BATCH);
        INDArray expectedMean = Nd4j.zeros(DataType.DOUBLE, 4);
        INDArray expectedVar = Nd4j.zeros(DataType.DOUBLE, 4);
        for (DataSet b : batches) {
            INDArray c2 = g.feedForward(new INDArray[] {b.getFeatures()}, true).get("c2").castTo(DataType.DOUBLE);
            expectedMean.addi(c2.mean(0, 2, 3).muli(b.numExamples()));
            expectedVar.addi(c2.var(false, 0, 2, 3).muli(b.numExamples()));
        }
        expectedMean.divi(40);
        expectedVar.divi(40);

        BatchNormStatistics.reestimate(g, new ListDataSetIterator<>(train.asList(), BATCH), 10);

        Layer bn2 = g.getLayer("bn2");
        assertClose(expectedMean, bn2.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN), "bn2 mean");
        INDArray log10Std = bn2.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD).castTo(DataType.DOUBLE);
        assertClose(expectedVar, org.nd4j.linalg.ops.transforms.Transforms.pow(
                Nd4j.valueArrayOf(log10Std.shape(), 10.0, DataType.DOUBLE), log10Std.mul(2)), "bn2 variance (log10 std)");
        INDArray bn3Var = g.getLayer("bn3").getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
        assertTrue(bn3Var.minNumber().doubleValue() > 0, "bn3 keeps the variance parameterization: " + bn3Var);

        for (Layer layer : g.getLayers()) {
            layer.paramTable().forEach((key, p) -> {
                String name = layer.conf().getLayer().getLayerName() + "." + key;
                if (!RUNNING_STATISTICS.contains(key)) {
                    assertEquals(0.0, maxAbsDiff(before.get(name), p), name + " must not change");
                }
            });
        }
        INDArray paramsAfter = g.params();
        assertTrue(maxAbsDiff(paramsBefore, paramsAfter) > 0, "the statistics must have changed");
    }

    @Test
    void worksOnMultiLayerNetworksAndLeavesNetworksWithoutBatchNormAlone() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).updater(new Sgd(0.05))
                .list()
                .layer(new LsqDense.Builder().nOut(8).bits(2).inputSigned(true).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new ActivationLayer(Activation.RELU))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.feedForward(5)).build());
        net.init();
        Nd4j.getRandom().setSeed(9);
        DataSet ds = new DataSet(Nd4j.randn(DataType.FLOAT, 32, 5).muli(3).addi(1), data(32, 9).getLabels());
        for (int i = 0; i < 3; i++) {
            net.fit(ds);
        }
        INDArray trainingMode = net.output(ds.getFeatures(), true);
        assertEquals(1, BatchNormStatistics.reestimate(net, new ListDataSetIterator<>(List.of(ds), 32), 1));
        assertTrue(maxAbsDiff(trainingMode, net.output(ds.getFeatures(), false)) < 1e-5);

        MultiLayerNetwork mlp = TrainTestNets.mlp(1);
        INDArray before = mlp.params().dup();
        assertEquals(0, BatchNormStatistics.reestimate(mlp, TrainTestNets.blobs(16, 8, 1), 2));
        assertEquals(before, mlp.params());
    }

    @Test
    void reestimatesGraphsWithSeveralInputsFromMultiDataSets() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(8).updater(new Sgd(0.05))
                .graphBuilder().addInputs("a", "b")
                .setInputTypes(InputType.feedForward(3), InputType.feedForward(4))
                .addLayer("da", new LsqDense.Builder().nOut(5).bits(2).inputSigned(true).build(), "a")
                .addLayer("bna", new BatchNormalization.Builder().build(), "da")
                .addLayer("db", new LsqDense.Builder().nOut(5).bits(2).inputSigned(true).build(), "b")
                .addLayer("bnb", new BatchNormalization.Builder().build(), "db")
                .addVertex("sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bna", "bnb")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "sum")
                .setOutputs("out").build());
        g.init();
        Nd4j.getRandom().setSeed(12);
        MultiDataSet batch = new MultiDataSet(new INDArray[] {Nd4j.randn(DataType.FLOAT, 24, 3).addi(2),
                Nd4j.randn(DataType.FLOAT, 24, 4).muli(3)}, new INDArray[] {data(24, 1).getLabels()});
        for (int i = 0; i < 3; i++) {
            g.fit(batch);
        }
        INDArray trainingMode = g.output(true, batch.getFeatures())[0];

        assertEquals(2, BatchNormStatistics.reestimate(g, new IteratorMultiDataSetIterator(List.<org.nd4j.linalg.dataset.api.MultiDataSet>of(batch).iterator(), 24), 1));

        assertTrue(maxAbsDiff(trainingMode, g.output(false, batch.getFeatures())[0]) < 1e-5);
    }

    @Test
    void badArgumentsAreRefusedWithTheValue() {
        ComputationGraph g = graph();
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> BatchNormStatistics.reestimate(g, new ListDataSetIterator<>(List.of(data(4, 1)), 4), 0))
                .getMessage().contains("got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> BatchNormStatistics.reestimate(g, new ListDataSetIterator<>(List.<DataSet>of(), 4), 3))
                .getMessage().contains("no batches"));
    }

    private static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE).reshape(a.shape())).amaxNumber().doubleValue();
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double diff = maxAbsDiff(expected, actual);
        assertTrue(diff < 1e-5 * Math.max(1, expected.amaxNumber().doubleValue()), what + ": max difference " + diff
                + "\nexpected " + expected + "\nactual   " + actual);
    }
}
