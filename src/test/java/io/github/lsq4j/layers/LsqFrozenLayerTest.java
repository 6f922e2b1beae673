package io.github.lsq4j.layers;

import static io.github.lsq4j.layers.TestNets.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Frozen LSQ layers, as DL4J's transfer learning makes them: they quantize with their own steps, write no
 * parameter, and (with {@link FrozenLayerWithBackprop}) pass on exactly the gradients the unfrozen layer
 * would.
 */
class LsqFrozenLayerTest {

    private static MultiLayerNetwork net(boolean freezeSecond, IUpdater updater) {
        Layer second = new LsqConv2D.Builder().nOut(3).kernelSize(3).convolutionMode(ConvolutionMode.Same)
                .activation(new ActivationLReLU(0.1)).bits(4).build();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(21).dataType(DataType.DOUBLE)
                .updater(updater).weightInit(WeightInit.XAVIER).list()
                .layer(new LsqConv2D.Builder().nOut(3).kernelSize(3).activation(Activation.RELU).bits(4).build())
                .layer(freezeSecond ? new FrozenLayerWithBackprop(second) : second)
                .layer(new LsqDense.Builder().nOut(5).activation(Activation.TANH).bits(4).build())
                .layer(TestNets.output(3))
                .setInputType(InputType.convolutional(6, 6, 2)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void frozenLayerWithBackpropPassesTheUnfrozenLayersGradientsAndWritesNothing() {
        MultiLayerNetwork frozen = net(true, new NoOp());
        MultiLayerNetwork plain = net(false, new NoOp());
        plain.setParams(frozen.params().dup());
        INDArray x = TestNets.input(DataType.DOUBLE, 4, 5, 2, 6, 6);
        INDArray y = TestNets.labels(DataType.DOUBLE, 5, 3);

        Gradient gf = frozen.calculateGradients(x, y, null, null).getFirst();
        Gradient gp = plain.calculateGradients(x, y, null, null).getFirst();
        int compared = 0;
        for (Map.Entry<String, INDArray> e : gp.gradientForVariable().entrySet()) {
            if (!e.getKey().startsWith("1_")) {
                assertClose(e.getValue(), gf.getGradientFor(e.getKey()), 1e-10, "gradient " + e.getKey());
                compared++;
            }
        }
        assertEquals(10, compared, "W, b, sw, sx of layers 0 and 2, W and b of the output layer");
        assertTrue(gp.getGradientFor("0_sx").getDouble(0) != 0, "the first layer's input step gets a gradient");
        assertEquals(0.0, frozen.getLayer(1).getParam("sx").getDouble(0),
                "the frozen layer quantizes its input with the batch's step and stores none");
        assertTrue(plain.getLayer(1).getParam("sx").getDouble(0) != 0, "the unfrozen layer stored its step");
    }

    @Test
    void frozenLayerWithBackpropIsNotTrained() {
        MultiLayerNetwork net = net(true, new Sgd(0.1));
        INDArray x = TestNets.input(DataType.DOUBLE, 4, 5, 2, 6, 6);
        INDArray y = TestNets.labels(DataType.DOUBLE, 5, 3);
        net.fit(x, y); // initializes the steps of the trainable layers
        Map<String, INDArray> frozenBefore = copy(net.getLayer(1).paramTable());
        INDArray trainableBefore = net.getLayer(0).params().dup();
        for (int i = 0; i < 3; i++) {
            net.fit(x, y);
        }
        assertEquals(frozenBefore, copy(net.getLayer(1).paramTable()), "frozen parameters, steps included");
        assertNotEquals(trainableBefore, net.getLayer(0).params(), "the layer below the frozen one trains");
    }

    @Test
    void transferLearningFineTunesOnlyTheHeadOfAConvertedNetwork() {
        MultiLayerNetwork stock = stockNet();
        MultiLayerNetwork lsq = LsqConverter.convert(stock, QuantizationPolicy.paper(4));
        INDArray x = TestNets.input(DataType.FLOAT, 8, 16, 2, 6, 6);
        INDArray y = TestNets.labels(DataType.FLOAT, 16, 3);
        lsq.fit(x, y); // first batch: every step initialized
        INDArray featuresBefore = lsq.feedForwardToLayer(1, x, false).get(2).dup();

        MultiLayerNetwork tuned = new TransferLearning.Builder(lsq)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Sgd(0.05)).build())
                .setFeatureExtractor(1).build();
        Map<String, INDArray> frozenBefore = new HashMap<>();
        for (int i = 0; i <= 1; i++) {
            frozenBefore.putAll(prefixed(i, tuned.getLayer(i).paramTable()));
        }
        INDArray headBefore = tuned.getLayer(2).params().dup();
        double scoreBefore = tuned.score(new org.nd4j.linalg.dataset.DataSet(x, y));
        for (int i = 0; i < 10; i++) {
            tuned.fit(x, y);
        }
        Map<String, INDArray> frozenAfter = new HashMap<>();
        for (int i = 0; i <= 1; i++) {
            frozenAfter.putAll(prefixed(i, tuned.getLayer(i).paramTable()));
        }
        assertEquals(frozenBefore, frozenAfter, "the frozen LSQ layers, steps included, are not trained");
        assertNotEquals(headBefore, tuned.getLayer(2).params(), "the head trains");
        assertTrue(tuned.score(new org.nd4j.linalg.dataset.DataSet(x, y)) < scoreBefore, "the head learns");
        assertEquals(featuresBefore, tuned.feedForwardToLayer(1, x, false).get(2),
                "the frozen layers compute what they did before freezing");
    }

    private static MultiLayerNetwork stockNet() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).updater(new Sgd(0.05))
                .weightInit(WeightInit.XAVIER).list()
                .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(4)
                        .activation(Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(8).activation(Activation.RELU)
                        .build())
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(6).activation(Activation.RELU)
                        .build())
                .layer(TestNets.output(3))
                .setInputType(InputType.convolutional(6, 6, 2)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> params) {
        Map<String, INDArray> c = new HashMap<>();
        params.forEach((k, v) -> c.put(k, v.dup()));
        return c;
    }

    private static Map<String, INDArray> prefixed(int layer, Map<String, INDArray> params) {
        Map<String, INDArray> c = new HashMap<>();
        params.forEach((k, v) -> c.put(layer + "_" + k, v.dup()));
        return c;
    }
}
