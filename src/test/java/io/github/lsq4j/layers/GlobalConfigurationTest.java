package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.regularization.L2Regularization;

/**
 * The LSQ layers take from the network's global configuration what DL4J's stock layers take: the
 * activation, the convolution mode, the weight initialization (and, through DL4J's SameDiff layer,
 * updater and regularization). Swapping a stock layer for its LSQ twin under the same global
 * configuration changes nothing with quantization off.
 */
class GlobalConfigurationTest {

    private static MultiLayerNetwork net(Layer conv, Layer dense) {
        return net(Activation.RELU, conv, dense);
    }

    private static MultiLayerNetwork net(Activation globalActivation, Layer conv, Layer dense) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE)
                .activation(globalActivation).biasInit(0.3).convolutionMode(ConvolutionMode.Same).weightInit(WeightInit.XAVIER_UNIFORM)
                .updater(new Adam(0.01)).l2(1e-3).list()
                .layer(conv).layer(dense).layer(TestNets.output(3))
                .setInputType(InputType.convolutional(7, 7, 2)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void lsqLayersInheritWhatStockLayersInherit() {
        MultiLayerNetwork stock = net(new ConvolutionLayer.Builder(3, 3).nOut(4).build(),
                new DenseLayer.Builder().nOut(5).build());
        MultiLayerNetwork lsq = net(new LsqConv2D.Builder().nOut(4).kernelSize(3).quantize(false).build(),
                new LsqDense.Builder().nOut(5).quantize(false).build());
        LsqConv2D conv = (LsqConv2D) lsq.getLayer(0).conf().getLayer();
        LsqDense dense = (LsqDense) lsq.getLayer(1).conf().getLayer();
        assertEquals(Activation.RELU.getActivationFunction(), conv.getActivationFn());
        assertEquals(Activation.RELU.getActivationFunction(), dense.getActivationFn());
        assertEquals(0.3, conv.getBiasInit());
        assertEquals(0.3, lsq.getLayer(1).getParam(AbstractLsqLayer.BIAS_KEY).minNumber().doubleValue(),
                "the bias initialized from the global biasInit");
        assertEquals(ConvolutionMode.Same, conv.getConvolutionMode());
        assertEquals(WeightInit.XAVIER_UNIFORM, conv.getWeightInit());
        assertEquals(new Adam(0.01), conv.getUpdater());
        assertEquals(java.util.List.of(new L2Regularization(1e-3)), dense.getRegularizationByParam("W"));

        TestNets.copyStockParams(stock, lsq);
        INDArray x = TestNets.input(DataType.DOUBLE, 9, 4, 2, 7, 7);
        TestNets.assertClose(stock.output(x), lsq.output(x), 1e-12, "the same network as the stock one");

        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(lsq.getLayerWiseConfigurations().toJson());
        assertEquals(lsq.getLayerWiseConfigurations(), restored, "inherited settings survive JSON");
    }

    @Test
    void settingsOnTheLayerWin() {
        MultiLayerNetwork lsq = net(new LsqConv2D.Builder().nOut(4).kernelSize(3).activation(Activation.TANH)
                        .convolutionMode(ConvolutionMode.Truncate).weightInit(WeightInit.RELU).build(),
                new LsqDense.Builder().nOut(5).activation(Activation.IDENTITY).build());
        LsqConv2D conv = (LsqConv2D) lsq.getLayer(0).conf().getLayer();
        assertEquals(Activation.TANH.getActivationFunction(), conv.getActivationFn());
        assertEquals(ConvolutionMode.Truncate, conv.getConvolutionMode());
        assertEquals(WeightInit.RELU, conv.getWeightInit());
        assertEquals(Activation.IDENTITY.getActivationFunction(),
                ((LsqDense) lsq.getLayer(1).conf().getLayer()).getActivationFn());
    }

    @Test
    void anyGlobalActivationIsTakenAsTheStockLayersTakeIt() {
        MultiLayerNetwork stock = net(Activation.SELU, new ConvolutionLayer.Builder(3, 3).nOut(4).build(),
                new DenseLayer.Builder().nOut(5).build());
        MultiLayerNetwork lsq = net(Activation.SELU, new LsqConv2D.Builder().nOut(4).kernelSize(3).quantize(false).build(),
                new LsqDense.Builder().nOut(5).quantize(false).build());
        assertEquals(Activation.SELU.getActivationFunction(),
                ((LsqConv2D) lsq.getLayer(0).conf().getLayer()).getActivationFn());
        TestNets.copyStockParams(stock, lsq);
        INDArray x = TestNets.input(DataType.DOUBLE, 9, 4, 2, 7, 7);
        TestNets.assertClose(stock.output(x), lsq.output(x), 1e-12, "the same network as the stock one");
    }
}
