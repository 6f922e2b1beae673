package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/** Wrong data and impossible geometry fail with messages that name the layer and the value. */
class LsqBadInputTest {

    @BeforeEach
    void floatPrecision() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    private static MultiLayerConfiguration conf(Layer first, int nInOut) {
        return new NeuralNetConfiguration.Builder().list().layer(first)
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(nInOut).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    private static MultiLayerNetwork net(Layer first, int nInOut) {
        return net(conf(first, nInOut));
    }

    private static MultiLayerNetwork net(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** The failure, or the first cause in its chain, must mention every fragment. */
    private static void assertFailsMentioning(Executable run, String... fragments) {
        Throwable t = assertThrows(Exception.class, run);
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c.getMessage()).append(" | ");
        }
        for (String f : fragments) {
            assertTrue(all.toString().contains(f), "'" + all + "' should mention '" + f + "'");
        }
    }

    @Test
    void wrongNumberOfFeaturesForDense() {
        MultiLayerNetwork net = net(new LsqDense.Builder().name("fc1").nIn(10).nOut(4).build(), 4);
        assertFailsMentioning(() -> net.output(Nd4j.rand(DataType.FLOAT, 3, 7)), "LsqDense 'fc1'", "7 features",
                "nIn is 10");
        assertFailsMentioning(() -> net.fit(Nd4j.rand(DataType.FLOAT, 3, 7), Nd4j.rand(DataType.FLOAT, 3, 2)),
                "LsqDense 'fc1'", "nIn is 10");
    }

    @Test
    void wrongNumberOfChannelsForConv() {
        MultiLayerNetwork net = net(new LsqConv2D.Builder().name("conv1").nIn(3).nOut(2).kernelSize(3).build(), 2);
        assertFailsMentioning(() -> net.output(Nd4j.rand(DataType.FLOAT, 2, 1, 8, 8)), "LsqConv2D 'conv1'",
                "1 channels", "nIn is 3");
        assertFailsMentioning(() -> net.output(Nd4j.rand(DataType.FLOAT, 2, 3, 8)), "LsqConv2D 'conv1'", "NCHW");
    }

    @Test
    void conflictingNInAndInputType() {
        LsqDense d = new LsqDense.Builder().name("fc").nIn(5).nOut(2).build();
        assertFailsMentioning(() -> d.setNIn(InputType.feedForward(7), false), "LsqDense 'fc'", "nIn is 5", "7 features");
        LsqConv2D c = new LsqConv2D.Builder().name("c").nIn(3).nOut(2).build();
        assertFailsMentioning(() -> c.setNIn(InputType.convolutional(9, 9, 1), false), "LsqConv2D 'c'", "nIn is 3",
                "1 channels");
        assertFailsMentioning(() -> c.setNIn(InputType.feedForward(9), false), "LsqConv2D 'c'", "convolutional");
    }

    @Test
    void kernelLargerThanInputUnderTruncate() {
        // At configuration time, from the input type.
        assertFailsMentioning(() -> new NeuralNetConfiguration.Builder().list()
                        .layer(new LsqConv2D.Builder().name("big").nOut(2).kernelSize(5).build())
                        .layer(TestNets.output(2)).setInputType(InputType.convolutional(3, 6, 1)).build(),
                "LsqConv2D 'big'", "kernel height 5", "input height 3", "Truncate");
        // At run time, without an input type.
        MultiLayerNetwork net = net(new LsqConv2D.Builder().name("big").nIn(1).nOut(2).kernelSize(3, 5).dilation(1, 2)
                .build(), 2);
        assertFailsMentioning(() -> net.output(Nd4j.rand(DataType.FLOAT, 1, 1, 8, 8)), "LsqConv2D 'big'",
                "kernel width 5", "9 with dilation 2", "input width 8");
        // Padding counts; Same mode never fails.
        MultiLayerNetwork same = net(new LsqConv2D.Builder().nIn(1).nOut(2).kernelSize(5)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build(), 2 * 3 * 3);
        TestNets.assertAllFinite(same.getLayer(0).activate(Nd4j.rand(DataType.FLOAT, 1, 1, 3, 3), false,
                org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()), "Same mode output");
    }

    @Test
    void bitsOutOfRangeInADeserializedConfigurationFailAtBuild() {
        // A configuration edited by hand: the builder validated, the setter does not, so the quantizer does,
        // whether the edit is made in code or in the configuration's JSON.
        LsqDense d = new LsqDense.Builder().name("fc").nIn(3).nOut(2).build();
        assertFailsMentioning(() -> d.getWeightQuantizer().withBits(12), "got 12");
        String json = TestNets.editLsqLayerJson(conf(d, 2).toJson(),
                layer -> ((ObjectNode) layer.get("lsq").get("weightQuantizer")).put("bits", 12));
        assertFailsMentioning(() -> net(MultiLayerConfiguration.fromJson(json)).output(Nd4j.rand(DataType.FLOAT, 2, 3)),
                "got 12");
    }

    /** NaN or infinity in a quantized input is refused naming the layer, not clamped into range. */
    @Test
    void nanOrInfinityInAQuantizedInputFailsNamingTheLayer() {
        MultiLayerNetwork net = net(new LsqDense.Builder().name("fc1").nIn(3).nOut(4).build(), 4);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3);
            x.putScalar(1, 2, bad);
            // the input step is not initialized: deriving it from the batch finds the value
            assertFailsMentioning(() -> net.output(x), "LsqDense 'fc1'", "NaN or infinite", "element 5");
            // an initialized step: the quantizer's pass counts the values
            net.getLayer(0).getParam(LsqLayerConfig.INPUT_STEP_KEY).assign(0.1);
            assertFailsMentioning(() -> net.output(x), "LsqDense 'fc1'", "NaN or infinite", "1 of 6");
            net.getLayer(0).getParam(LsqLayerConfig.INPUT_STEP_KEY).assign(0);
        }
    }
}
