package io.github.lsq4j.layers;

import static io.github.lsq4j.layers.TestNets.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lsq4j.op.QuietSameDiff;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The layers' SameDiff graph ({@code defineLayer}), run by DL4J's own SameDiff layer runtime, against
 * {@link LsqRuntimeLayer}, which runs the same ops itself ({@link EagerLinear}): the same outputs, and
 * gradients half of DL4J's, whose SameDiff layers return every gradient 2x too large in M2.1 (the input's
 * and every parameter's). Quantization off (the graph is the linear operation; the quantizers run around
 * it), in double precision: dense, conv with bias and stride under Same, dilated conv without bias under
 * Truncate, and the same two as depthwise convolutions with depth multipliers 2 and 3.
 */
class LsqSameDiffGraphTest {
    private static final double TOL = 1e-10;

    @Test
    void dense() {
        check(new LsqDense.Builder().nIn(6).nOut(4).activation(Activation.IDENTITY).quantize(false).build(),
                InputType.feedForward(6), Nd4j.randn(DataType.DOUBLE, 5, 6));
    }

    @Test
    void convWithBiasAndStride() {
        check(new LsqConv2D.Builder().nIn(3).nOut(4).kernelSize(3).stride(2).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.IDENTITY).quantize(false).build(), InputType.convolutional(9, 9, 3),
                Nd4j.randn(DataType.DOUBLE, 2, 3, 9, 9));
    }

    @Test
    void dilatedConvWithoutBias() {
        check(new LsqConv2D.Builder().nIn(2).nOut(3).kernelSize(3).dilation(2).hasBias(false)
                .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).quantize(false).build(),
                InputType.convolutional(10, 10, 2), Nd4j.randn(DataType.DOUBLE, 2, 2, 10, 10));
    }

    @Test
    void depthwiseWithMultiplierAndStride() {
        check(new LsqDepthwiseConv2D.Builder().nIn(3).depthMultiplier(2).kernelSize(3).stride(2)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).quantize(false).build(),
                InputType.convolutional(9, 9, 3), Nd4j.randn(DataType.DOUBLE, 2, 3, 9, 9));
    }

    @Test
    void dilatedDepthwiseWithoutBias() {
        check(new LsqDepthwiseConv2D.Builder().nIn(2).depthMultiplier(3).kernelSize(3).dilation(2).hasBias(false)
                .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).quantize(false).build(),
                InputType.convolutional(10, 10, 2), Nd4j.randn(DataType.DOUBLE, 2, 2, 10, 10));
    }

    private static void check(AbstractLsqLayer conf, InputType inputType, INDArray x) {
        Nd4j.getRandom().setSeed(3);
        MultiLayerConfiguration mlc = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).list().layer(conf).setInputType(inputType).build();
        MultiLayerNetwork net = new MultiLayerNetwork(mlc);
        net.init();
        net.initGradientsView();
        Layer ours = net.getLayer(0);
        INDArray bias = ours.getParam(LsqLayerConfig.BIAS_KEY);
        if (bias != null) {
            bias.assign(Nd4j.randn(DataType.DOUBLE, bias.shape()));
        }
        SameDiffLayer dl4j = new SameDiffLayer(ours.conf(), DataType.DOUBLE);
        dl4j.setParamsViewArray(ours.params());
        dl4j.setParamTable(ours.paramTable());
        dl4j.setBackpropGradientsViewArray(Nd4j.create(DataType.DOUBLE, 1, ours.numParams()));

        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        ours.setInput(x, ws);
        dl4j.setInput(x, ws);
        INDArray out = ours.activate(true, ws);
        assertClose(dl4j.activate(true, ws), out, TOL, "output");
        INDArray upstream = Nd4j.randn(DataType.DOUBLE, out.shape());
        Pair<Gradient, INDArray> ourGradients = ours.backpropGradient(upstream, ws);
        Pair<Gradient, INDArray> dl4jGradients = QuietSameDiff.call(() -> dl4j.backpropGradient(upstream, ws));
        assertClose(dl4jGradients.getSecond().div(2), ourGradients.getSecond(), TOL, "dL/dx = DL4J's / 2");
        Map<String, INDArray> expected = dl4jGradients.getFirst().gradientForVariable();
        assertEquals(expected.keySet(), ourGradients.getFirst().gradientForVariable().keySet(), "parameters");
        for (Map.Entry<String, INDArray> e : expected.entrySet()) {
            assertClose(e.getValue().div(2), ourGradients.getFirst().getGradientFor(e.getKey()), TOL,
                    "dL/d" + e.getKey() + " = DL4J's / 2");
        }
    }
}
