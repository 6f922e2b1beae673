package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.Quantizer;
import io.github.lsq4j.quant.StepLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Step-size initialization (weights, first batch, calibration), inference before training, positivity. */
class LsqInitTest {

    @BeforeEach
    void doublePrecision() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    private static MultiLayerNetwork net(boolean perChannel, org.nd4j.linalg.learning.config.IUpdater stepUpdater) {
        LsqConv2D.Builder conv = new LsqConv2D.Builder().name("c1").nOut(4).kernelSize(3).activation(Activation.RELU)
                .convolutionMode(ConvolutionMode.Same).weightBits(4).inputBits(8).perChannelWeights(perChannel);
        LsqDense.Builder dense = new LsqDense.Builder().name("fc").nOut(5).activation(Activation.TANH).bits(3)
                .inputSigned(false);
        if (stepUpdater != null) {
            conv.stepUpdater(stepUpdater);
            dense.stepUpdater(stepUpdater);
        }
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
                .updater(new Adam(1e-2)).list().layer(conv.build()).layer(dense.build()).layer(TestNets.output(3))
                .setInputType(InputType.convolutional(6, 6, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static LsqRuntimeLayer lsq(MultiLayerNetwork net, int i) {
        return (LsqRuntimeLayer) net.getLayer(i);
    }

    private static double inputStep(INDArray x, QuantizedLayer l) {
        return LsqMath.initialSteps(x, l.lsqConf().getInputQuantizer().perTensor()).getDouble(0);
    }

    @Test
    void inferenceBeforeTrainingIsFiniteAndDoesNotStoreTheInputStep() {
        MultiLayerNetwork net = net(false, null);
        INDArray x = TestNets.input(DataType.DOUBLE, 1, 4, 1, 6, 6);
        INDArray out = net.output(x);
        TestNets.assertAllFinite(out, "output before training");
        assertEquals(0.0, net.getLayer(0).getParam("sx").getDouble(0), "inference must not set the input step");
        assertEquals(0.0, net.getLayer(1).getParam("sx").getDouble(0), "inference must not set the input step");
        // The weight step is a function of the weights only, so it is derived (and kept) on first use.
        assertEquals(LsqMath.initialSteps(net.getLayer(0).getParam("W"),
                lsq(net, 0).lsqConf().getWeightQuantizer().perTensor()).getDouble(0),
                net.getLayer(0).getParam("sw").getDouble(0), 1e-15);
        // Inference before training quantizes each batch with that batch's own step: deterministic.
        assertEquals(out, net.output(x));
    }

    /**
     * Inference on a fresh network writes no parameter: each layer uses its batch's input step without
     * storing it, so every input step stays at exactly 0 (uninitialized), and nothing but the weight
     * steps (derived from the weights on first use) changes.
     */
    @Test
    void inferenceBeforeTrainingWritesNoParameterButTheWeightSteps() {
        MultiLayerNetwork net = net(false, null);
        Map<String, INDArray> before = new HashMap<>();
        net.paramTable().forEach((k, v) -> before.put(k, v.dup()));
        INDArray x = TestNets.input(DataType.DOUBLE, 21, 4, 1, 6, 6);
        net.output(x);
        net.output(x.mul(7));
        for (int i = 0; i < 2; i++) {
            assertEquals(0.0, net.getLayer(i).getParam("sx").getDouble(0), 0.0, "layer " + i + " sx after inference");
        }
        net.paramTable().forEach((k, v) -> {
            if (!k.endsWith("_sw")) {
                assertEquals(before.get(k), v, "inference wrote parameter " + k);
            }
        });
    }

    /** A calibration that sees no batch fails, and leaves the trained input steps as they were. */
    /**
     * Two threads share one network for inference (DL4J serializes {@code output()} calls on a network):
     * each gets what a single thread gets for its input, although each batch of a fresh network is
     * quantized with its own input step, and no parameter changes.
     */
    @Test
    void twoThreadsShareOneNetworkForInference() throws Exception {
        MultiLayerNetwork net = net(false, null);
        INDArray[] inputs = {TestNets.input(DataType.DOUBLE, 31, 4, 1, 6, 6),
                TestNets.input(DataType.DOUBLE, 32, 4, 1, 6, 6).muli(9)};
        INDArray[] expected = {net.output(inputs[0]), net.output(inputs[1])};
        INDArray paramsBefore = net.params().dup();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<Integer>> mismatches = new java.util.ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int mine = t;
                mismatches.add(pool.submit(() -> {
                    int wrong = 0;
                    for (int i = 0; i < 50; i++) {
                        wrong += net.output(inputs[mine]).equals(expected[mine]) ? 0 : 1;
                    }
                    return wrong;
                }));
            }
            for (java.util.concurrent.Future<Integer> m : mismatches) {
                assertEquals(0, m.get(), "outputs that differ from the single-thread output");
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(paramsBefore, net.params(), "inference from two threads wrote a parameter");
        assertTrue(expected[1].sub(expected[0]).amaxNumber().doubleValue() > 1e-3,
                "the two inputs give different outputs (different batch input steps)");
    }

    @Test
    void failedCalibrationKeepsTheTrainedInputSteps() {
        MultiLayerNetwork net = net(false, null);
        INDArray x = TestNets.input(DataType.DOUBLE, 22, 4, 1, 6, 6);
        net.fit(new DataSet(x, TestNets.labels(DataType.DOUBLE, 4, 3)));
        double sx0 = net.getLayer(0).getParam("sx").getDouble(0);
        double sx1 = net.getLayer(1).getParam("sx").getDouble(0);
        assertTrue(sx0 > 0 && sx1 > 0);
        ListDataSetIterator<DataSet> empty = new ListDataSetIterator<>(List.of(), 1);
        assertThrows(IllegalArgumentException.class, () -> LsqLayers.calibrate(net, empty, 1));
        assertEquals(sx0, net.getLayer(0).getParam("sx").getDouble(0), 0.0);
        assertEquals(sx1, net.getLayer(1).getParam("sx").getDouble(0), 0.0);
    }

    @Test
    void firstTrainingBatchSetsTheInputStep() {
        MultiLayerNetwork net = net(false, null);
        INDArray x = TestNets.input(DataType.DOUBLE, 2, 4, 1, 6, 6);
        List<INDArray> acts = net.feedForward(x, true);
        assertEquals(inputStep(x, lsq(net, 0)), net.getLayer(0).getParam("sx").getDouble(0), 1e-15);
        // The dense layer's input is the conv output (flattened by the preprocessor; mean|x| is the same).
        assertEquals(inputStep(acts.get(1), lsq(net, 1)), net.getLayer(1).getParam("sx").getDouble(0), 1e-15);
        // A later batch does not re-initialize.
        double sx = net.getLayer(0).getParam("sx").getDouble(0);
        net.feedForward(x.mul(3), true);
        assertEquals(sx, net.getLayer(0).getParam("sx").getDouble(0));
    }

    @Test
    void weightStepFollowsWeightsCopiedInAfterInit() {
        for (boolean perChannel : new boolean[] {false, true}) {
            MultiLayerNetwork net = net(perChannel, null);
            INDArray w = net.getLayer(0).getParam("W");
            Nd4j.getRandom().setSeed(9);
            INDArray pretrained = Nd4j.randn(DataType.DOUBLE, w.shape()).muli(0.3);
            w.assign(pretrained);
            net.output(TestNets.input(DataType.DOUBLE, 3, 2, 1, 6, 6));
            StepLayout layout = perChannel ? StepLayout.perChannel(3) : StepLayout.perTensor();
            INDArray expected = LsqMath.initialSteps(pretrained, new Quantizer(
                    lsq(net, 0).lsqConf().getWeightQuantizer().range().bits(),
                    lsq(net, 0).lsqConf().getWeightQuantizer().range().signed(), layout.axis(), GradientScale.paper()));
            TestNets.assertClose(expected, net.getLayer(0).getParam("sw").reshape(expected.shape()), 1e-15,
                    "weight step from the pretrained weights, perChannel=" + perChannel);
            assertEquals(perChannel ? 4 : 1, expected.length());
        }
    }

    @Test
    void initWeightStepsRederivesAfterAForwardPass() {
        MultiLayerNetwork net = net(false, null);
        INDArray x = TestNets.input(DataType.DOUBLE, 4, 2, 1, 6, 6);
        net.output(x);
        double before = net.getLayer(1).getParam("sw").getDouble(0);
        net.getLayer(1).getParam("W").muli(5);
        net.output(x);
        assertEquals(before, net.getLayer(1).getParam("sw").getDouble(0), "initialized steps are not re-derived");
        LsqLayers.initWeightSteps(net);
        assertEquals(5 * before, net.getLayer(1).getParam("sw").getDouble(0), 1e-12);
        // Zeroing a step marks it uninitialized again.
        net.getLayer(1).getParam("W").divi(5);
        net.getLayer(1).getParam("sw").assign(0);
        net.output(x);
        assertEquals(before, net.getLayer(1).getParam("sw").getDouble(0), 1e-12);
    }

    @Test
    void calibrateSetsInputStepsFromSeveralBatches() {
        MultiLayerNetwork net = net(false, null);
        INDArray a = TestNets.input(DataType.DOUBLE, 10, 4, 1, 6, 6);
        INDArray b = TestNets.input(DataType.DOUBLE, 11, 4, 1, 6, 6).muli(2);
        INDArray c = TestNets.input(DataType.DOUBLE, 12, 4, 1, 6, 6).muli(9);
        INDArray y = TestNets.labels(DataType.DOUBLE, 4, 3);
        ListDataSetIterator<DataSet> it = new ListDataSetIterator<>(
                List.of(new DataSet(a, y), new DataSet(b, y), new DataSet(c, y)), 1); // 1 list element per batch
        net.fit(new DataSet(c, y)); // steps set from c; calibrate must replace them
        Map<String, Double> steps = LsqLayers.calibrate(net, it, 2);
        double expected = inputStep(Nd4j.concat(0, a, b), lsq(net, 0));
        assertEquals(expected, net.getLayer(0).getParam("sx").getDouble(0), 1e-12);
        assertEquals(expected, steps.get("c1"), 1e-12);
        assertTrue(steps.get("fc") > 0);
        assertEquals(steps.get("fc"), net.getLayer(1).getParam("sx").getDouble(0), 0);
    }

    /**
     * Behind batch norm the two modes see different inputs: batch statistics (the paper's reference
     * calibrates in training mode) or the running ones. Neither may touch any other parameter.
     */
    @Test
    void calibrationModeDecidesWhichBatchNormStatisticsTheInputStepSees() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .list().layer(new BatchNormalization.Builder().nOut(4).build())
                .layer(new LsqDense.Builder().name("fc").nOut(5).bits(3).build())
                .layer(TestNets.output(3)).setInputType(InputType.feedForward(4)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        LsqLayers.initWeightSteps(net); // else derived on the first forward pass, which is not calibration's doing
        INDArray x = TestNets.input(DataType.DOUBLE, 21, 32, 4).muli(2).addi(3); // far from running mean 0, var 1
        ListDataSetIterator<DataSet> data = new ListDataSetIterator<>(
                List.of(new DataSet(x, TestNets.labels(DataType.DOUBLE, 32, 3))), 32);
        Map<String, INDArray> before = new HashMap<>();
        net.paramTable().forEach((k, v) -> before.put(k, v.dup()));
        QuantizedLayer fc = LsqLayers.layer(net, "fc");
        double eps = ((BatchNormalization) net.getLayer(0).conf().getLayer()).getEps();

        double training = LsqLayers.calibrate(net, data, 1, CalibrationMode.TRAINING).get("fc");
        INDArray batchNormalized = x.subRowVector(x.mean(0)).divRowVector(Transforms.sqrt(x.var(false, 0).addi(eps)));
        assertEquals(inputStep(batchNormalized, fc), training, 1e-12);
        assertEquals(training, LsqLayers.calibrate(net, data).get("fc"), 0, "training mode is the default");

        double inference = LsqLayers.calibrate(net, data, 1, CalibrationMode.INFERENCE).get("fc");
        assertEquals(inputStep(x.div(Math.sqrt(1 + eps)), fc), inference, 1e-12);
        assertTrue(inference > 2 * training, "the running statistics leave x un-normalized: " + inference);

        before.forEach((key, value) -> {
            if (!key.equals("1_" + LsqLayerConfig.INPUT_STEP_KEY)) {
                assertEquals(value, net.getParam(key), key + " changed in calibration");
            }
        });
    }

    @Test
    void calibrateWorksOnAComputationGraph() {
        ComputationGraph g = TestNets.graph(true, TestNets.Quant.ON, DataType.DOUBLE, new Sgd(0.1), 1, Activation.RELU);
        INDArray x = TestNets.input(DataType.DOUBLE, 13, 5, 2, 8, 8);
        ListDataSetIterator<DataSet> it = new ListDataSetIterator<>(
                List.of(new DataSet(x, TestNets.labels(DataType.DOUBLE, 5, 3))), 1);
        Map<String, Double> steps = LsqLayers.calibrate(g, it, 10);
        assertEquals(List.of("c1", "dw", "c2", "d1", "d2"), List.copyOf(steps.keySet()));
        assertEquals(inputStep(x, LsqLayers.layer(g, "c1")), g.getLayer("c1").getParam("sx").getDouble(0), 1e-12);
        for (String name : steps.keySet()) {
            assertTrue(g.getLayer(name).getParam("sx").getDouble(0) > 0, name);
        }
    }

    @Test
    void stepsStayPositive() {
        MultiLayerNetwork net = net(true, new Sgd(1.0));
        INDArray x = TestNets.input(DataType.DOUBLE, 6, 4, 1, 6, 6);
        INDArray y = TestNets.labels(DataType.DOUBLE, 4, 3);
        net.fit(x, y);
        // Steps driven to zero or below (e.g. by a too large step learning rate): the op computes with
        // at least MIN_STEP, and after each update the parameters are clamped back.
        net.getLayer(0).getParam("sw").assign(-0.5);
        net.getLayer(0).getParam("sx").assign(-1e-3);
        net.getLayer(1).getParam("sx").assign(-7);
        TestNets.assertAllFinite(net.output(x), "output with negative steps");
        net.fit(x, y);
        for (int i = 0; i < 2; i++) {
            for (String key : new String[] {"sw", "sx"}) {
                INDArray s = net.getLayer(i).getParam(key);
                assertTrue(s.minNumber().doubleValue() >= LsqMath.MIN_STEP, "layer " + i + " " + key + " = " + s);
            }
        }
        TestNets.assertAllFinite(net.params(), "parameters");
        TestNets.assertAllFinite(net.output(x), "output");
    }
}
