package io.github.lsq4j.layers;

import static io.github.lsq4j.layers.TestNets.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.layers.TestNets.Quant;
import io.github.lsq4j.op.QuietSameDiff;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * With quantization off, LSQ layers must compute exactly what DL4J's stock ConvolutionLayer and
 * DenseLayer compute: outputs, parameter gradients and the epsilon passed down, in double precision,
 * in a stacked MultiLayerNetwork and in a ComputationGraph with batch norm and a residual add. This is
 * what proves that the runtime layer, which runs the graph's ops itself, escapes DL4J M2.1's doubled
 * SameDiff-layer gradients.
 */
class LsqStockEquivalenceTest {
    private static final double TOL = 1e-6;

    @BeforeEach
    void doublePrecision() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @Test
    void multiLayerNetworkOutputsAndGradientsEqualStockLayers() {
        MultiLayerNetwork stock = TestNets.mln(false, Quant.OFF, DataType.DOUBLE, new NoOp(), 42);
        MultiLayerNetwork lsq = TestNets.mln(true, Quant.OFF, DataType.DOUBLE, new NoOp(), 7);
        TestNets.copyStockParams(stock, lsq);
        INDArray x = TestNets.input(DataType.DOUBLE, 1, 4, 1, 10, 10);
        INDArray y = TestNets.labels(DataType.DOUBLE, 4, 3);

        assertClose(stock.output(x), lsq.output(x), TOL, "output");
        Pair<Gradient, INDArray> gs = stock.calculateGradients(x, y, null, null);
        Pair<Gradient, INDArray> gl = lsq.calculateGradients(x, y, null, null);
        assertGradientsEqual(gs.getFirst(), gl.getFirst(), 12);
        // The epsilon the first layer passes down: d loss / d input.
        assertClose(gs.getSecond(), gl.getSecond(), TOL, "gradient w.r.t. the network input");
        assertTrue(gs.getSecond().amaxNumber().doubleValue() > 1e-6, "input gradient must not be trivially zero");
        assertEquals(stock.score(), lsq.score(), TOL, "score");
    }

    @Test
    void multiLayerNetworkTrainsLikeStockLayersWithSgd() {
        // SGD, not Adam: Adam normalizes the gradient and would hide a constant factor.
        MultiLayerNetwork stock = TestNets.mln(false, Quant.OFF, DataType.DOUBLE, new Sgd(0.1), 42);
        MultiLayerNetwork lsq = TestNets.mln(true, Quant.OFF, DataType.DOUBLE, new Sgd(0.1), 7);
        TestNets.copyStockParams(stock, lsq);
        INDArray x = TestNets.input(DataType.DOUBLE, 2, 6, 1, 10, 10);
        INDArray y = TestNets.labels(DataType.DOUBLE, 6, 3);
        for (int i = 0; i < 3; i++) {
            stock.fit(x, y);
            lsq.fit(x, y);
        }
        for (int i = 0; i < stock.getnLayers(); i++) {
            for (Map.Entry<String, INDArray> e : stock.getLayer(i).paramTable().entrySet()) {
                INDArray actual = lsq.getLayer(i).getParam(e.getKey());
                assertClose(TestNets.toLsqLayout(e.getValue(), actual), actual, TOL,
                        "layer " + i + " param " + e.getKey() + " after 3 SGD steps");
            }
        }
        assertClose(stock.output(x), lsq.output(x), TOL, "output after training");
    }

    @Test
    void computationGraphWithBatchNormAndResidualAddEqualsStockLayers() {
        ComputationGraph stock = TestNets.graph(false, Quant.OFF, DataType.DOUBLE, new NoOp(), 42, Activation.RELU);
        ComputationGraph lsq = TestNets.graph(true, Quant.OFF, DataType.DOUBLE, new NoOp(), 7, Activation.RELU);
        TestNets.copyStockParams(stock, lsq);
        INDArray x = TestNets.input(DataType.DOUBLE, 3, 5, 2, 8, 8);
        INDArray y = TestNets.labels(DataType.DOUBLE, 5, 3);

        assertClose(stock.outputSingle(x), lsq.outputSingle(x), TOL, "output");
        MultiDataSet mds = new MultiDataSet(x, y);
        stock.setInputs(x);
        stock.setLabels(y);
        lsq.setInputs(x);
        lsq.setLabels(y);
        stock.computeGradientAndScore();
        lsq.computeGradientAndScore();
        assertGradientsEqual(stock.gradient(), lsq.gradient(), 18);
        assertEquals(stock.score(), lsq.score(), TOL, "score");

        // And one SGD-like step of training through fit(): same parameters afterwards.
        ComputationGraph stockSgd = TestNets.graph(false, Quant.OFF, DataType.DOUBLE, new Sgd(0.05), 42, Activation.RELU);
        ComputationGraph lsqSgd = TestNets.graph(true, Quant.OFF, DataType.DOUBLE, new Sgd(0.05), 7, Activation.RELU);
        TestNets.copyStockParams(stockSgd, lsqSgd);
        for (int i = 0; i < 2; i++) {
            stockSgd.fit(mds);
            lsqSgd.fit(mds);
        }
        for (String name : new String[] {"c1", "bn1", "dw", "c2", "bn2", "d1", "d2", "out"}) {
            for (Map.Entry<String, INDArray> e : stockSgd.getLayer(name).paramTable().entrySet()) {
                INDArray actual = lsqSgd.getLayer(name).getParam(e.getKey());
                assertClose(TestNets.toLsqLayout(e.getValue(), actual), actual, TOL,
                        name + " param " + e.getKey() + " after 2 SGD steps");
            }
        }
    }

    /**
     * Run by DL4J's own SameDiff layer runtime, a layer's gradients are 2x too large in M2.1: one reason
     * LsqRuntimeLayer runs its graph's ops itself. This canary fails if a DL4J upgrade fixes the bug.
     */
    @Test
    void stockSameDiffRuntimeLayerDoublesGradients() {
        org.deeplearning4j.nn.conf.MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.DOUBLE).updater(new NoOp()).list()
                .layer(new UnfixedDense.Builder().nIn(4).nOut(3).activation(Activation.IDENTITY).quantize(false).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(3).nOut(2).activation(Activation.SOFTMAX)
                        .lossFunction(org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).build()).build();
        MultiLayerNetwork unfixed = new MultiLayerNetwork(conf);
        unfixed.init();
        org.deeplearning4j.nn.conf.MultiLayerConfiguration fixedConf = new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.DOUBLE).updater(new NoOp()).list()
                .layer(new LsqDense.Builder().nIn(4).nOut(3).activation(Activation.IDENTITY).quantize(false).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(3).nOut(2).activation(Activation.SOFTMAX)
                        .lossFunction(org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).build()).build();
        MultiLayerNetwork fixed = new MultiLayerNetwork(fixedConf);
        fixed.init();
        fixed.setParams(unfixed.params().dup());
        INDArray x = TestNets.input(DataType.DOUBLE, 4, 3, 4);
        INDArray y = TestNets.labels(DataType.DOUBLE, 3, 2);
        // the stock SameDiff layer prints SameDiff's gradient lines; QuietSameDiff keeps them off the test output
        INDArray gUnfixed = QuietSameDiff.call(() -> unfixed.calculateGradients(x, y, null, null)).getFirst()
                .getGradientFor("0_W");
        INDArray gFixed = fixed.calculateGradients(x, y, null, null).getFirst().getGradientFor("0_W");
        assertClose(gFixed.mul(2), gUnfixed, 1e-12, "stock SameDiff layer gradient = 2 x correct gradient");
    }

    private static void assertGradientsEqual(Gradient stock, Gradient lsq, int expectedCount) {
        Map<String, INDArray> s = stock.gradientForVariable();
        Map<String, INDArray> l = lsq.gradientForVariable();
        assertEquals(s.keySet(), l.keySet(), "gradient keys");
        assertEquals(expectedCount, s.size(), "number of parameter gradients");
        for (Map.Entry<String, INDArray> e : s.entrySet()) {
            INDArray actual = l.get(e.getKey());
            assertClose(TestNets.toLsqLayout(e.getValue(), actual), actual, TOL, "gradient " + e.getKey());
        }
    }

    /** An LsqDense whose runtime layer is DL4J's stock SameDiff layer, without the gradient fix. */
    static class UnfixedDense extends LsqDense {
        UnfixedDense() {
        }

        UnfixedDense(LsqDense d) {
            setNIn(d.getNIn());
            setNOut(d.getNOut());
            setActivationFn(d.getActivationFn());
            setLsq(new LsqOptions(null, null, null));
            setWeightInit(d.getWeightInit());
            setUpdater(d.getUpdater());
            setRegularization(d.getRegularization());
            setRegularizationBias(d.getRegularizationBias());
        }

        @Override
        public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                java.util.Collection<org.deeplearning4j.optimize.api.TrainingListener> listeners, int index,
                INDArray view, boolean initialize, DataType dt) {
            org.deeplearning4j.nn.layers.samediff.SameDiffLayer ret =
                    new org.deeplearning4j.nn.layers.samediff.SameDiffLayer(conf, dt);
            ret.setIndex(index);
            ret.setParamsViewArray(view);
            ret.setParamTable(initializer().init(conf, view, initialize));
            ret.setConf(conf);
            return ret;
        }

        static final class Builder extends LsqDense.Builder {
            @Override
            public UnfixedDense build() {
                return new UnfixedDense(super.build());
            }
        }
    }
}
