package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The quantized weights kept between inference passes ({@link QuantizedWeights}): inference quantizes
 * each layer's weights once while they are unchanged, and every way DL4J or a user changes parameters
 * makes the next pass quantize again, giving exactly the outputs of a network that never kept anything
 * (a clone, whose layers start empty). Float data takes the memory comparison, double the ND4J one.
 */
class QuantizedWeightsTest {
    private static final int[] LSQ_LAYERS = {0, 1, 2};

    /** A 4-bit LSQ convolution, dense layer and output layer on 1x6x6 input. */
    private static MultiLayerNetwork net(DataType dataType) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(dataType)
                .updater(new Sgd(0.5)).weightInit(WeightInit.XAVIER).list()
                .layer(new LsqConv2D.Builder().nOut(4).kernelSize(3).activation(Activation.RELU).bits(4).build())
                .layer(new LsqDense.Builder().nOut(5).activation(Activation.TANH).bits(4).build())
                .layer(new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).bits(4).build())
                .setInputType(InputType.convolutional(6, 6, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray x = input(dataType);
        net.fit(x, labels(dataType)); // initializes the steps
        return net;
    }

    private static INDArray input(DataType dataType) {
        Nd4j.getRandom().setSeed(11);
        return Nd4j.rand(DataType.DOUBLE, 8, 1, 6, 6).castTo(dataType);
    }

    private static INDArray labels(DataType dataType) {
        INDArray y = Nd4j.zeros(dataType, 8, 3);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 3, 1);
        }
        return y;
    }

    private static long[] quantizations(MultiLayerNetwork net) {
        return Arrays.stream(LSQ_LAYERS).mapToLong(i -> {
            Layer l = net.getLayer(i);
            return l instanceof LsqRuntimeLayer r ? r.weightQuantizations()
                    : ((LsqOutputRuntimeLayer) l).weightQuantizations();
        }).toArray();
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT", "DOUBLE"})
    void inferenceQuantizesUnchangedWeightsOnce(DataType dataType) {
        MultiLayerNetwork net = net(dataType);
        INDArray x = input(dataType);
        INDArray first = net.output(x);
        long[] afterFirst = quantizations(net);
        INDArray second = net.output(x);
        INDArray third = net.output(x.dup());
        assertArrayEquals(values(first), values(second));
        assertArrayEquals(values(first), values(third));
        assertEquals(Arrays.toString(afterFirst), Arrays.toString(quantizations(net)),
                "unchanged weights are not quantized again");
    }

    /** Every way parameters change, in place or by replacement, with or without telling the layer. */
    static Stream<Arguments> changes() {
        return Stream.of(
                Arguments.of("a training step (fit)", (Consumer<MultiLayerNetwork>) net ->
                        net.fit(input(net.params().dataType()), labels(net.params().dataType()))),
                Arguments.of("network setParams", (Consumer<MultiLayerNetwork>) net ->
                        net.setParams(net.params().mul(0.7))),
                Arguments.of("network params().assign (ParallelWrapper's averaging)", (Consumer<MultiLayerNetwork>) net ->
                        net.params().muli(-1)),
                Arguments.of("layer setParam", (Consumer<MultiLayerNetwork>) net ->
                        net.getLayer(1).setParam(LsqLayerConfig.WEIGHT_KEY, net.getLayer(1).getParam("W").neg())),
                Arguments.of("one weight written into its view", (Consumer<MultiLayerNetwork>) QuantizedWeightsTest::flipOneWeight),
                Arguments.of("a weight step", (Consumer<MultiLayerNetwork>) net -> {
                    for (int i : LSQ_LAYERS) {
                        net.getLayer(i).getParam(LsqLayerConfig.WEIGHT_STEP_KEY).muli(3);
                    }
                }),
                Arguments.of("parameters of a restored model", (Consumer<MultiLayerNetwork>) net -> {
                    MultiLayerNetwork other = net.clone();
                    other.fit(input(net.params().dataType()), labels(net.params().dataType()));
                    net.setParams(restored(other).params());
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("changes")
    void changedParametersAreQuantizedAgain(String change, Consumer<MultiLayerNetwork> changeParams) {
        for (DataType dataType : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            MultiLayerNetwork net = net(dataType);
            INDArray x = input(dataType);
            INDArray before = net.output(x);
            changeParams.accept(net);
            INDArray after = net.output(x);
            assertNotEquals(before, after, change + " changes the outputs (" + dataType + ")");
            assertArrayEquals(values(net.clone().output(x)), values(after), change + ": as a network that kept nothing (" + dataType + ")");
        }
    }

    private static double[] values(INDArray a) {
        return a.ravel().toDoubleVector();
    }

    /** Moves one weight of the convolution across the range, so that its code changes. */
    private static void flipOneWeight(MultiLayerNetwork net) {
        INDArray w = net.getLayer(0).getParam(LsqLayerConfig.WEIGHT_KEY);
        double step = net.getLayer(0).getParam(LsqLayerConfig.WEIGHT_STEP_KEY).getDouble(0);
        double w0 = w.getDouble(0);
        w.putScalar(0, (w0 > 0 ? -8 : 8) * step);
    }

    private static MultiLayerNetwork restored(MultiLayerNetwork net) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ModelSerializer.writeModel(net, bytes, true);
            return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes.toByteArray()), true);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
