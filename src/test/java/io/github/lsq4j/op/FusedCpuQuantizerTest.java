package io.github.lsq4j.op;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.quant.Quantizer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The fused loops against the array ops they replace, on the same float data: {@link EagerQuantizer} on
 * a dense C-order array (here a view into a larger buffer, as a layer's parameters are) runs the fused
 * loops, on a Fortran-order copy the array ops. Values and
 * {@code dL/dv} must be identical (up to the sign of zero), step gradients equal to float rounding;
 * per tensor and per channel, small and large (multi-threaded), with values on rounding ties and on the
 * clip boundaries.
 */
class FusedCpuQuantizerTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Quantizer.signed(4), new long[] {37, 29}),
                Arguments.of(Quantizer.unsigned(2), new long[] {8, 16, 12, 12}),
                Arguments.of(Quantizer.signed(8), new long[] {300_001}),
                Arguments.of(Quantizer.signed(3).perChannel(3), new long[] {3, 3, 8, 16}),
                Arguments.of(Quantizer.signed(4).perChannel(1), new long[] {64, 10}),
                Arguments.of(Quantizer.signed(2).perChannel(0), new long[] {16, 3, 3, 8}),
                Arguments.of(Quantizer.unsigned(4).perChannel(1), new long[] {1200, 120}),
                // a channel cycle too long to spell out: summed per run
                Arguments.of(Quantizer.signed(4).perChannel(0), new long[] {3, 30_000}),
                // long enough for two threads: per tensor, and per run with a run split between the tasks
                Arguments.of(Quantizer.signed(3), new long[] {4_194_305}),
                Arguments.of(Quantizer.signed(4).perChannel(0), new long[] {3, 1_400_001}),
                // size-1 dimensions, whose strides ND4J does not keep at the C default (a one-channel image
                // batch, a 1x1 kernel)
                Arguments.of(Quantizer.unsigned(8), new long[] {32, 1, 28, 28}),
                Arguments.of(Quantizer.signed(4).perChannel(3), new long[] {1, 1, 16, 32}));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void fusedLoopsGiveTheArrayOpsResults(Quantizer q, long[] shape) {
        Nd4j.getRandom().setSeed(shape.length * 1000L + q.bits());
        INDArray v = Nd4j.randn(DataType.FLOAT, shape).muli(0.8);
        long channels = q.isPerChannel() ? shape[q.channelAxis()] : 1;
        INDArray steps = Nd4j.linspace(DataType.FLOAT, 0.05, 0.3, channels);
        // ties (v/s = k + 0.5) and clip boundaries (v/s = Qp, -Qn) in the first elements
        float s0 = steps.getFloat(0);
        float[] special = {0.5f * s0, -0.5f * s0, 1.5f * s0, -2.5f * s0, (float) q.range().qp() * s0,
                (float) -q.range().qn() * s0, 0f, -0f};
        int placed = 0;
        for (long i = 0; placed < special.length; i++) {
            if ((i / inner(q, shape)) % channels == 0) {
                v.putScalar(i, special[placed++]);
            }
        }
        INDArray upstream = Nd4j.randn(DataType.FLOAT, shape);

        INDArray denseV = offsetView(v);
        assertTrue(denseV.offset() > 0 && FusedCpuQuantizer.applies(denseV), "a dense view takes the fused loops");
        INDArray viewV = strided(v);
        assertFalse(FusedCpuQuantizer.applies(viewV), "a strided view takes the array ops");

        INDArray fusedOut = EagerQuantizer.quantize(denseV, steps, q, Nd4j.createUninitialized(DataType.FLOAT, shape));
        INDArray opsOut = EagerQuantizer.quantize(viewV, steps, q, strided(Nd4j.zeros(DataType.FLOAT, shape)));
        assertArrayEquals(zeroSigned(opsOut), zeroSigned(fusedOut), "quantized values");

        double g = q.stepGradientScale(shape, false);
        INDArray fusedGrad = upstream.dup();
        INDArray opsGrad = strided(upstream);
        INDArray fusedSteps = EagerQuantizer.backward(denseV, steps, q, g, fusedGrad);
        INDArray opsSteps = EagerQuantizer.backward(viewV, steps, q, g, opsGrad);
        assertArrayEquals(zeroSigned(opsGrad), zeroSigned(fusedGrad), "dL/dv");
        assertEquals(channels, fusedSteps.length());
        // Step gradients agree to float summation error (the array ops sum in float, the fused loops in
        // double): relative to the sum of the terms' magnitudes.
        double[] scale = new double[(int) channels];
        double[] up = upstream.data().asDouble();
        for (int i = 0; i < up.length; i++) {
            scale[(int) ((i / inner(q, shape)) % channels)] += Math.abs(up[i]) * Math.max(q.range().qn(), q.range().qp()) * g;
        }
        for (int c = 0; c < channels; c++) {
            assertEquals(opsSteps.getDouble(c), fusedSteps.getDouble(c), 1e-5 * scale[c], "dL/ds " + c);
        }
    }

    /**
     * Fortran-ordered data (DL4J's dense weights and their gradients) takes the fused loops too, walked
     * in its own order, with the C-ordered data's results, per tensor and per channel.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void fortranOrderTakesTheFusedLoopsWithTheSameResults(Quantizer q, long[] shape) {
        Nd4j.getRandom().setSeed(11);
        INDArray v = Nd4j.randn(DataType.FLOAT, shape);
        long channels = q.isPerChannel() ? shape[q.channelAxis()] : 1;
        INDArray steps = Nd4j.linspace(DataType.FLOAT, 0.05, 0.3, channels);
        INDArray upstream = Nd4j.randn(DataType.FLOAT, shape);
        double g = q.stepGradientScale(shape, false);
        INDArray fortranV = v.dup('f');
        assertTrue(FusedCpuQuantizer.applies(fortranV, fortranV.ulike()), "Fortran order takes the fused loops");

        INDArray cOut = EagerQuantizer.quantize(v, steps, q, v.ulike());
        INDArray fOut = EagerQuantizer.quantize(fortranV, steps, q, Nd4j.createUninitialized(DataType.FLOAT, shape, 'f'));
        assertArrayEquals(zeroSigned(cOut), zeroSigned(fOut), "quantized values");
        INDArray cGrad = upstream.dup('c');
        INDArray fGrad = upstream.dup('f');
        INDArray cSteps = EagerQuantizer.backward(v, steps, q, g, cGrad);
        INDArray fSteps = EagerQuantizer.backward(fortranV, steps, q, g, fGrad);
        assertArrayEquals(zeroSigned(cGrad), zeroSigned(fGrad), "dL/dv");
        assertArrayEquals(cSteps.toDoubleVector(), fSteps.toDoubleVector(),
                1e-6 * Transforms.abs(cSteps).maxNumber().doubleValue(), "dL/ds");
    }

    @org.junit.jupiter.api.Test
    void bothPathsCountNanAndInfinity() {
        INDArray v = Nd4j.randn(DataType.FLOAT, 300, 400);
        v.putScalar(5, Float.NaN);
        v.putScalar(70_000, Float.POSITIVE_INFINITY);
        v.putScalar(119_999, Float.NEGATIVE_INFINITY);
        assertEquals(3, EagerQuantizer.quantizeCountingNonFinite(v, 0.1, Quantizer.signed(4), v.ulike()), "fused");
        assertEquals(3, EagerQuantizer.quantizeCountingNonFinite(strided(v), 0.1, Quantizer.signed(4),
                strided(v)), "array ops");
        v.putScalar(5, 1f);
        v.putScalar(70_000, 1f);
        v.putScalar(119_999, 1f);
        assertEquals(0, EagerQuantizer.quantizeCountingNonFinite(v, 0.1, Quantizer.signed(4), v.ulike()));
    }

    /** Elements after the channel axis: element {@code i} is in channel {@code (i / inner) % channels}. */
    private static long inner(Quantizer q, long[] shape) {
        long inner = 1;
        for (int d = q.isPerChannel() ? q.channelAxis() + 1 : shape.length; d < shape.length; d++) {
            inner *= shape[d];
        }
        return inner;
    }

    /**
     * The same values in a view that skips every other index of the first dimension longer than 1: the
     * fused loops do not apply, the array ops do.
     */
    private static INDArray strided(INDArray a) {
        int axis = 0;
        while (a.size(axis) == 1) {
            axis++;
        }
        long[] doubled = a.shape().clone();
        doubled[axis] *= 2;
        INDArrayIndex[] everyOther = new INDArrayIndex[a.rank()];
        for (int d = 0; d < a.rank(); d++) {
            everyOther[d] = d == axis ? NDArrayIndex.interval(0, 2, doubled[d]) : NDArrayIndex.all();
        }
        INDArray view = Nd4j.create(DataType.FLOAT, doubled).get(everyOther);
        view.assign(a);
        return view;
    }

    /** The values of a view: a layer's parameters are views into one buffer. */
    private static INDArray offsetView(INDArray a) {
        INDArray flat = Nd4j.create(DataType.FLOAT, a.length() + 1).get(NDArrayIndex.interval(1, a.length() + 1));
        INDArray view = flat.reshape('c', a.shape());
        view.assign(a);
        return view;
    }

    /** The values with -0 as +0: the two paths may differ in the sign of zero only. */
    private static float[] zeroSigned(INDArray a) {
        float[] f = a.dup('c').data().asFloat();
        for (int i = 0; i < f.length; i++) {
            f[i] += 0.0f;
        }
        return f;
    }
}
