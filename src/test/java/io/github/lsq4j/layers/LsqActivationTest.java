package io.github.lsq4j.layers;

import static io.github.lsq4j.layers.TestNets.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationCube;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationGELU;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationMish;
import org.nd4j.linalg.activations.impl.ActivationRationalTanh;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationRectifiedTanh;
import org.nd4j.linalg.activations.impl.ActivationSELU;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationThresholdedReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * Every activation DL4J's stock layers take works in the LSQ layers, with its parameters, because the
 * runtime layer applies the {@link IActivation} around the SameDiff graph as the stock layers do: with
 * quantization off a conv + dense network equals its stock twin (outputs, every parameter gradient, the
 * gradient passed down) in double precision, and passes DL4J's gradient check for the smooth ones.
 */
class LsqActivationTest {
    private static final double TOL = 1e-9;

    @BeforeEach
    void doublePrecision() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    static Stream<IActivation> activations() {
        return Stream.of(new ActivationLReLU(0.1), new ActivationReLU6(), new ActivationSwish(), new ActivationGELU(),
                new ActivationGELU(true), new ActivationSELU(), new ActivationELU(0.5), new ActivationHardSigmoid(),
                new ActivationMish(), new ActivationRationalTanh(), new ActivationRectifiedTanh(),
                new ActivationThresholdedReLU(0.2), new ActivationReLU(4.0, 0.1, 0.05), new ActivationCube(),
                new ActivationSoftPlus());
    }

    /** Not the precise GELU: DL4J's own derivative of it is off by about 1e-5 relative, in the stock layers too. */
    static Stream<IActivation> smoothActivations() {
        return Stream.of(new ActivationSwish(), new ActivationGELU(), new ActivationMish(),
                new ActivationSoftPlus(), new ActivationRationalTanh());
    }

    private static MultiLayerNetwork net(boolean lsq, IActivation fn) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .updater(new NoOp()).weightInit(WeightInit.XAVIER).list()
                .layer(lsq ? new LsqConv2D.Builder().nOut(3).kernelSize(3).convolutionMode(ConvolutionMode.Same)
                        .activation(fn).quantize(false).build()
                        : new ConvolutionLayer.Builder(3, 3).nOut(3).convolutionMode(ConvolutionMode.Same)
                        .activation(fn).build())
                .layer(lsq ? new LsqDense.Builder().nOut(5).activation(fn).quantize(false).build()
                        : new DenseLayer.Builder().nOut(5).activation(fn).build())
                .layer(TestNets.output(3))
                .setInputType(InputType.convolutional(5, 5, 2)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @ParameterizedTest
    @MethodSource("activations")
    void equalsTheStockLayers(IActivation fn) {
        MultiLayerNetwork stock = net(false, fn);
        MultiLayerNetwork lsq = net(true, fn);
        TestNets.copyStockParams(stock, lsq);
        INDArray x = TestNets.input(DataType.DOUBLE, 11, 6, 2, 5, 5);
        INDArray y = TestNets.labels(DataType.DOUBLE, 6, 3);

        assertClose(stock.output(x), lsq.output(x), TOL, fn + ": output");
        Pair<Gradient, INDArray> gs = stock.calculateGradients(x, y, null, null);
        Pair<Gradient, INDArray> gl = lsq.calculateGradients(x, y, null, null);
        assertEquals(gs.getFirst().gradientForVariable().keySet(), gl.getFirst().gradientForVariable().keySet());
        for (Map.Entry<String, INDArray> e : gs.getFirst().gradientForVariable().entrySet()) {
            INDArray actual = gl.getFirst().getGradientFor(e.getKey());
            assertClose(TestNets.toLsqLayout(e.getValue(), actual), actual, TOL,
                    fn + ": gradient " + e.getKey());
        }
        assertClose(gs.getSecond(), gl.getSecond(), TOL, fn + ": gradient w.r.t. the input");
        assertTrue(gs.getSecond().amaxNumber().doubleValue() > 1e-8, fn + ": input gradient must not be zero");
    }

    @ParameterizedTest
    @MethodSource("smoothActivations")
    void passesDl4jGradientCheck(IActivation fn) {
        MultiLayerNetwork lsq = net(true, fn);
        INDArray x = TestNets.input(DataType.DOUBLE, 12, 3, 2, 5, 5);
        INDArray y = TestNets.labels(DataType.DOUBLE, 3, 3);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(lsq).input(x).labels(y)
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9));
        assertTrue(ok, fn + ": gradient check of LSQ layers (quantization off)");
    }

    @Test
    void theConverterKeepsEachActivationWithItsParameters() {
        MultiLayerNetwork stock = net(false, new ActivationLReLU(0.1));
        MultiLayerNetwork exact = LsqConverter.convert(stock, QuantizationPolicy.builder(4).quantize(false).build());
        assertEquals(new ActivationLReLU(0.1), ((LsqConv2D) exact.getLayer(0).conf().getLayer()).getActivationFn());
        assertEquals(new ActivationLReLU(0.1), ((LsqDense) exact.getLayer(1).conf().getLayer()).getActivationFn());
        INDArray x = TestNets.input(DataType.DOUBLE, 13, 4, 2, 5, 5);
        assertClose(stock.output(x), exact.output(x), TOL, "converted with quantization off");
    }
}
