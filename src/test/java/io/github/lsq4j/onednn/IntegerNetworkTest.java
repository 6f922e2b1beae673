package io.github.lsq4j.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.AnyModel;
import io.github.lsq4j.TrainedLsq;
import io.github.lsq4j.convert.ConvertTestNets;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.IntegerInference;
import io.github.lsq4j.layers.IntegerKernel;
import io.github.lsq4j.train.LsqRecipe;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The compiled integer network computes what the trained LSQ network computes on its float path: small networks
 * of every fused pattern (convolution, pooling and dense in a MultiLayerNetwork with the CNN-to-dense flattening,
 * batch norms folded, residual sums, depthwise, separable and dilated convolutions) at 8, 4 and 2 bits; bad
 * inputs are refused.
 */
class IntegerNetworkTest {

    @BeforeEach
    void floatPrecisionAndFixedSeed() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(12345);
    }


    /**
     * Asserts that two outputs of one network agree: the same class (over axis 1) for all but one example in
     * eight, and as many within {@code tolerance} of the largest value, when it is positive. What may differ:
     * where a layer's output lands within float rounding of a quantizer's rounding boundary (x.5 steps), the
     * float path (float sums in ND4J's order) and the integer path (exact sums; oneDNN rounds ties to even,
     * lsq4j away from zero) can pick neighbouring codes, and the difference carries through the layers after it:
     * in a deep untrained network on random inputs, far.
     */
    static void assertAgrees(INDArray expected, INDArray actual, String what, double tolerance) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        long n = expected.size(0);
        long same = 0;
        long close = 0;
        for (long i = 0; i < n; i++) {
            INDArray e = expected.slice(i);
            INDArray a = actual.slice(i);
            if (e.rank() == 1 ? e.argMax().getInt(0) == a.argMax().getInt(0) : e.argMax(0).equals(a.argMax(0))) {
                same++;
            }
            if (e.sub(a).amaxNumber().doubleValue() <= tolerance * Math.max(1e-6, e.amaxNumber().doubleValue())) {
                close++;
            }
        }
        System.out.printf("%s: %d of %d examples the same class, %d within %.0e; largest difference %.3g of %.3g%n", what,
                same, n, close, tolerance, expected.sub(actual).amaxNumber().doubleValue(),
                expected.amaxNumber().doubleValue());
        assertTrue(same * 8 >= n * 7, what + ": " + same + " of " + n + " the same class");
        if (tolerance > 0) {
            assertTrue(close * 8 >= n * 7, what + ": " + close + " of " + n + " within " + tolerance);
        }
    }

    /** A small network to convert, with its input shape. */
    enum Net {
        LE_NET(new long[] {1, 28, 28}, 10, () -> ConvertTestNets.leNet(3, DataType.FLOAT)),
        MLP(new long[] {1, 28, 28}, 10, () -> ConvertTestNets.mlp(3)),
        RESIDUAL(new long[] {1, 12, 12}, 5, () -> ConvertTestNets.residual(3, DataType.FLOAT)),
        DEPTHWISE(new long[] {1, 12, 12}, 5, () -> ConvertTestNets.depthwise(3, DataType.FLOAT)),
        SEPARABLE_DILATED(new long[] {2, 12, 12}, 3, () -> ConvertTestNets.separable(3, DataType.FLOAT));

        final long[] shape;
        final int classes;
        final Supplier<Model> factory;

        Net(long[] shape, int classes, Supplier<Model> factory) {
            this.shape = shape;
            this.classes = classes;
            this.factory = factory;
        }
    }

    static Stream<Arguments> cases() {
        return Arrays.stream(Net.values()).flatMap(net -> Stream.of(
                Arguments.of(net, QuantizationPolicy.paper(4), "4 bits, per tensor"),
                Arguments.of(net, QuantizationPolicy.builder(2).perChannelWeights(true)
                        .build(), "2 bits, per channel"),
                Arguments.of(net, QuantizationPolicy.builder(8).build(), "8 bits")));
    }

    /** Converted, calibrated and trained a few steps; then the compiled network predicts what the network does. */
    @ParameterizedTest(name = "{0}, {2}")
    @MethodSource("cases")
    void computesWhatTheFloatPathComputes(Net net, QuantizationPolicy policy, String what) {
        long[] batch = new long[net.shape.length + 1];
        batch[0] = 32;
        System.arraycopy(net.shape, 0, batch, 1, net.shape.length);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch);
        Model floatNet = net.factory.get();
        Model lsq = TrainedLsq.trained(AnyModel.convert(floatNet, policy), x, net.classes, 3);
        IntegerInference.setEnabled(false);
        try (IntegerNetwork compiled = IntegerNetwork.compile(lsq, net.shape)) {
            assertAgrees(AnyModel.output(lsq, x), compiled.output(x), net + ", " + what, 1e-4);
        } finally {
            IntegerInference.setEnabled(true);
        }
    }

    /** The paper's recipe trains with {@code DecayedBatchNormalization}: folded as a stock batch norm. */
    @Test
    void compilesANetworkFineTunedWithThePapersRecipe() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 12, 12);
        ComputationGraph lsq = LsqConverter.convert(ConvertTestNets.residual(3, DataType.FLOAT), QuantizationPolicy.paper(4));
        lsq = LsqRecipe.paper(lsq).applyTo(lsq, 10);
        TrainedLsq.trained(lsq, x, 5, 3);
        IntegerInference.setEnabled(false);
        try (IntegerNetwork compiled = IntegerNetwork.compile(lsq, 1, 12, 12)) {
            assertTrue(compiled.toString().contains("stem_bn"), compiled.toString());
            assertAgrees(lsq.outputSingle(x), compiled.output(x), "residual, the paper's recipe", 1e-4);
        } finally {
            IntegerInference.setEnabled(true);
        }
    }

    @Test
    void refusesInputsOfAnotherShapeAndNetworksWithoutCalibration() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28);
        MultiLayerNetwork uncalibrated = LsqConverter.convert(ConvertTestNets.leNet(3, DataType.FLOAT),
                QuantizationPolicy.paper(4));
        IllegalStateException notCalibrated = assertThrows(IllegalStateException.class,
                () -> IntegerNetwork.compile(uncalibrated, 1, 28, 28));
        assertTrue(notCalibrated.getMessage().contains("input step is not initialized"), notCalibrated.getMessage());
        MultiLayerNetwork net = TrainedLsq.trained(uncalibrated, x, 10, 0);
        try (IntegerNetwork compiled = IntegerNetwork.compile(net, 1, 28, 28)) {
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> compiled.output(Nd4j.rand(DataType.FLOAT, 4, 1, 27, 28)));
            assertTrue(shape.getMessage().contains("expected [N, 1, 28, 28]"), shape.getMessage());
            INDArray nan = x.dup();
            nan.putScalar(5, Float.NaN);
            IllegalArgumentException notFinite = assertThrows(IllegalArgumentException.class, () -> compiled.output(nan));
            assertTrue(notFinite.getMessage().contains("NaN"), notFinite.getMessage());
            // the last element of the last example, and one infinity among finite values that overflow no sum
            INDArray infinite = x.dup();
            infinite.putScalar(new long[] {3, 0, 27, 27}, Float.NEGATIVE_INFINITY);
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> compiled.output(infinite));
            assertTrue(refused.getMessage().contains("1 of 3136"), refused.getMessage());
            assertEquals(1, ((IntegerKernel.NonFiniteInputException) refused.getCause()).count());
            // finite values whose sum overflows: the check counts them exactly, finds nothing, and runs the network
            INDArray huge = x.dup();
            huge.get(NDArrayIndex.point(1)).assign(Float.MAX_VALUE);
            assertEquals(4, compiled.output(huge).rows());
        }
    }
}
