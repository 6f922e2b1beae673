package io.github.lsq4j.convert;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqOutputLayer;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Layer kinds without an LSQ mapping (transposed convolutions, recurrent layers): kept in float
 * with a warning, or refused, as the policy says.
 */
class UnsupportedLayerTest {

    static Stream<Layer> unsupported() {
        return Stream.of(
                new Deconvolution2D.Builder(3, 3).name("odd").nOut(4).convolutionMode(ConvolutionMode.Same).build());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupported")
    void keptInFloatByDefault(Layer odd) {
        MultiLayerNetwork net = net(odd);
        MultiLayerNetwork converted = LsqConverter.convert(net, QuantizationPolicy.paper(4));
        assertInstanceOf(LsqConv2D.class, converted.getLayer(0).conf().getLayer());
        assertInstanceOf(odd.getClass(), converted.getLayer(1).conf().getLayer());
        assertInstanceOf(LsqOutputLayer.class, converted.getLayer(2).conf().getLayer());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, 8, 8);
        INDArray out = LsqConverter.convert(net, QuantizationPolicy.builder(4).quantize(false).build()).output(x);
        assertTrue(net.output(x).equalsWithEps(out, 1e-5), "the float layer keeps its parameters");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupported")
    void refusedWhenThePolicySaysSo(Layer odd) {
        QuantizationPolicy strict = QuantizationPolicy.builder(4)
                .unsupportedLayers(QuantizationPolicy.UnsupportedLayers.FAIL).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsqConverter.convert(net(odd), strict));
        assertTrue(e.getMessage().contains("'odd'") && e.getMessage().contains(odd.getClass().getSimpleName()),
                e.getMessage());
    }

    @Test
    void recurrentLayersStayInFloatOrAreRefused() {
        MultiLayerNetwork rnn = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).list()
                .layer(new LSTM.Builder().name("lstm").nIn(3).nOut(4).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build());
        rnn.init();
        MultiLayerNetwork converted = LsqConverter.convert(rnn, QuantizationPolicy.paper(4));
        assertInstanceOf(LSTM.class, converted.getLayer(0).conf().getLayer());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 5);
        assertTrue(rnn.output(x).equalsWithEps(converted.output(x), 1e-6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LsqConverter.convert(rnn,
                QuantizationPolicy.builder(4).unsupportedLayers(QuantizationPolicy.UnsupportedLayers.FAIL).build()));
        assertTrue(e.getMessage().contains("'lstm' (LSTM)"), e.getMessage());
    }

    private static MultiLayerNetwork net(Layer odd) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.RELU)
                        .convolutionMode(ConvolutionMode.Same).build())
                .layer(odd.clone())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutional(8, 8, 1))
                .build());
        net.init();
        return net;
    }
}
