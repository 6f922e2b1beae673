package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.op.LsqOp;
import io.github.lsq4j.op.QuietSameDiff;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * A quantizing layer's output and every gradient (input, weights, bias, both steps) against a plain
 * SameDiff graph of the same layer with both quantizers as {@link LsqOp} (tested against the golden
 * numbers): this checks the runtime layer's input quantizer, which runs outside the graph, its step
 * gradient, and the 2x gradient fix, in double precision.
 */
class LsqLayerGradientTest {
    private static final double TOL = 1e-9;

    @Test
    void denseLayerMatchesTheGraphReference() {
        AbstractLsqLayer conf = new LsqDense.Builder().nIn(12).nOut(5).activation(Activation.TANH).bits(3)
                .inputSigned(true).build();
        check(conf, Activation.TANH, InputType.feedForward(12), Nd4j.randn(DataType.DOUBLE, 7, 12).muli(1.5));
    }

    @Test
    void convLayerWithPerChannelWeightStepsMatchesTheGraphReference() {
        AbstractLsqLayer conf = new LsqConv2D.Builder().nIn(3).nOut(4).kernelSize(3).stride(2)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).bits(2).inputSigned(false)
                .perChannelWeights(true).hasBias(false).build();
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 3, 9, 9).muli(2);
        check(conf, Activation.IDENTITY, InputType.convolutional(9, 9, 3), x);
    }

    @Test
    void depthwiseLayerWithPerChannelWeightStepsMatchesTheGraphReference() {
        AbstractLsqLayer conf = new LsqDepthwiseConv2D.Builder().nIn(3).depthMultiplier(2).kernelSize(3).stride(2)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).bits(3).inputSigned(true)
                .perChannelWeights(true).build();
        check(conf, Activation.IDENTITY, InputType.convolutional(9, 9, 3), Nd4j.randn(DataType.DOUBLE, 5, 3, 9, 9));
    }

    /** @param activation the layer's activation, which the reference graph applies as SameDiff ops */
    private static void check(AbstractLsqLayer conf, Activation activation, InputType inputType, INDArray x) {
        Nd4j.getRandom().setSeed(42);
        MultiLayerConfiguration mlc = new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).list().layer(conf).setInputType(inputType).build();
        MultiLayerNetwork net = new MultiLayerNetwork(mlc);
        net.init();
        net.initGradientsView();
        Layer layer = net.getLayer(0);
        AbstractLsqLayer c = (AbstractLsqLayer) layer.conf().getLayer();
        layer.getParam(AbstractLsqLayer.INPUT_STEP_KEY).assign(0.37);
        layer.getParam(AbstractLsqLayer.WEIGHT_STEP_KEY).assign(
                Nd4j.linspace(DataType.DOUBLE, 0.05, 0.09, c.numWeightSteps()).reshape(
                        layer.getParam(AbstractLsqLayer.WEIGHT_STEP_KEY).shape()));
        if (c.isHasBias()) {
            layer.getParam(AbstractLsqLayer.BIAS_KEY).assign(Nd4j.randn(DataType.DOUBLE,
                    layer.getParam(AbstractLsqLayer.BIAS_KEY).shape()));
        }

        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(x, ws);
        INDArray out = layer.activate(true, ws);
        INDArray upstream = Nd4j.randn(DataType.DOUBLE, out.shape());
        Pair<Gradient, INDArray> got = layer.backpropGradient(upstream, ws);

        Map<String, INDArray> params = layer.paramTable();
        SameDiff sd = SameDiff.create();
        SDVariable xv = sd.var("x", x.dup());
        Map<String, SDVariable> p = new java.util.LinkedHashMap<>();
        params.forEach((k, v) -> p.put(k, sd.var(k, v.dup())));
        SDVariable xq = LsqOp.quantize(sd, "qx", xv, p.get(AbstractLsqLayer.INPUT_STEP_KEY), c.getInputQuantizer(),
                true).value();
        SDVariable wq = LsqOp.quantize(sd, "qw", p.get(AbstractLsqLayer.WEIGHT_KEY),
                p.get(AbstractLsqLayer.WEIGHT_STEP_KEY), c.getWeightQuantizer(), false).value();
        SDVariable z = activation.asSameDiff("out", sd,
                c.linear(sd, xq, wq, c.isHasBias() ? p.get(AbstractLsqLayer.BIAS_KEY) : null));
        sd.sum("loss", z.mul(sd.constant(upstream))).markAsLoss();
        String[] wrt = java.util.stream.Stream.concat(java.util.stream.Stream.of("x"), params.keySet().stream())
                .toArray(String[]::new);
        Map<String, INDArray> expected = QuietSameDiff.call(() -> sd.calculateGradients(null, wrt));

        assertClose(sd.outputSingle(Map.of(), "out"), out, "output");
        assertClose(expected.get("x"), got.getSecond(), "dL/dx");
        for (String k : params.keySet()) {
            assertClose(expected.get(k), got.getFirst().getGradientFor(k), "dL/d" + k);
        }
        double stepGradient = got.getFirst().getGradientFor(AbstractLsqLayer.INPUT_STEP_KEY).getDouble(0);
        assertTrue(Math.abs(stepGradient) > 1e-6, "input step gradient must not be trivially zero: " + stepGradient);
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        assertEquals(expected.length(), actual.length(), what + ": length");
        double diff = expected.reshape(expected.length()).sub(actual.reshape(actual.length())).amaxNumber()
                .doubleValue();
        double scale = Math.max(1, expected.amaxNumber().doubleValue());
        assertTrue(diff <= TOL * scale, what + ": max |difference| " + diff + " (expected max |value| " + scale + ")");
    }
}
