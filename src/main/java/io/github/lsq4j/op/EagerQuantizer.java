package io.github.lsq4j.op;

import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMax;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMin;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarReverseSubtraction;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.same.Round;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The LSQ quantizer as eager ND4J array operations, forward and backward written out by hand: the same
 * values and gradients as {@link LsqOp} (see {@link LsqMath} for the definitions), for data that need
 * not be part of a SameDiff graph, such as a layer's input or an output layer's weights. Per tensor
 * with a {@code double} step; per tensor or per channel with a vector of steps.
 *
 * <p>On contiguous float data in CPU memory (C or Fortran order) each pass is one fused pass
 * ({@link FusedCpuQuantizer}), with the same values; elsewhere (double, other backends, non-contiguous
 * views) it is array operations: 5 passes forward, 11 backward.
 *
 * <p>Why it exists: built from stock SameDiff ops, the quantizer takes about 45 graph operations for
 * its forward and backward pass, most of them allocating a data-sized array, and SameDiff's per-op
 * scheduling costs as much again; on a layer input of a million elements that is 10-20x slower than
 * the array operations here, and those are 2-3x slower than the fused loops (see BENCHMARKS.md).
 *
 * <p>Arithmetic gives the graph op's forward values (bit for bit, up to the sign of zero): {@code v * (1/s)} with the
 * reciprocal rounded in the data type, clip, round half away from zero, times {@code s}; the step is
 * guarded to at least {@link LsqMath#MIN_STEP}. The backward pass decides the clip on {@code v/s}
 * before rounding, strictly inside {@code (-Qn, Qp)} as the paper's hardtanh does, and sums the
 * step gradient in two dot products: {@code dL/ds = g * (sum(e * round(c)) - sum(e_inside * v/s))},
 * where {@code e} is the incoming gradient and {@code c} the clipped {@code v/s}.
 */
public final class EagerQuantizer {
    private EagerQuantizer() {
    }

    /**
     * The quantized value {@code vhat = round(clip(v/s, -Qn, Qp)) * s}.
     *
     * @param v         the data, any shape
     * @param step      the step size (guarded to at least {@link LsqMath#MIN_STEP})
     * @param quantizer the quantizer, per tensor
     * @param out       receives {@code vhat}: same shape and data type as {@code v}, may be uninitialized
     * @return {@code out}
     * @throws IllegalArgumentException if the quantizer has per-channel steps or {@code out} does not match
     */
    public static INDArray quantize(INDArray v, double step, Quantizer quantizer, INDArray out) {
        quantizeCountingNonFinite(v, step, quantizer, out);
        return out;
    }

    /**
     * {@link #quantize(INDArray, double, Quantizer, INDArray)}, and how many elements of {@code v} are NaN
     * or infinite: the quantizer would clamp them into its range and hide them. The fused loop counts them
     * in its pass over the data; elsewhere it takes one more pass.
     *
     * @param v         the data, any shape
     * @param step      the step size (guarded to at least {@link LsqMath#MIN_STEP})
     * @param quantizer the quantizer, per tensor
     * @param out       receives {@code vhat}: same shape and data type as {@code v}, may be uninitialized
     * @return the number of NaN or infinite elements of {@code v} (0 for valid data)
     */
    public static long quantizeCountingNonFinite(INDArray v, double step, Quantizer quantizer, INDArray out) {
        checkSameShape("output", v, out);
        QuantRange range = perTensorRange(quantizer);
        double s = guarded(step);
        if (FusedCpuQuantizer.applies(v, out)) {
            return FusedCpuQuantizer.quantize(v, new float[] {(float) s}, v.length(), range, out);
        }
        OpExecutioner ex = Nd4j.getExecutioner();
        long nonFinite = ex.exec(new MatchCondition(v, Conditions.notFinite())).getLong(0);
        ex.exec(new ScalarMultiplication(v, null, out, reciprocal(v.dataType(), s)));
        codes(out, range, out);
        ex.exec(new ScalarMultiplication(out, null, out, inType(out, s)));
        return nonFinite;
    }

    /**
     * The backward pass: turns {@code dL/dvhat} into {@code dL/dv} in place and returns {@code dL/ds}.
     *
     * @param v         the data that was quantized
     * @param step      the step size used in the forward pass
     * @param quantizer the quantizer, per tensor
     * @param g         the step-size gradient scale ({@link Quantizer#stepGradientScale})
     * @param gradient on entry {@code dL/dvhat}, on return {@code dL/dv}; same shape as {@code v}
     * @return {@code dL/ds}, already multiplied by {@code g}
     */
    public static double backward(INDArray v, double step, Quantizer quantizer, double g, INDArray gradient) {
        QuantRange range = perTensorRange(quantizer);
        checkSameShape("gradient", v, gradient);
        double s = guarded(step);
        if (FusedCpuQuantizer.applies(v, gradient)) {
            return g * FusedCpuQuantizer.backward(v, new float[] {(float) s}, v.length(), range, gradient)[0];
        }
        OpExecutioner ex = Nd4j.getExecutioner();
        INDArray scaled = v.ulike();
        ex.exec(new ScalarMultiplication(v, null, scaled, reciprocal(v.dataType(), s)));
        INDArray codes = codes(scaled, range, v.ulike());
        double sumGradTimesCodes = dot(gradient, codes);

        INDArray mask = codes;
        ex.exec(new Step(scaled, mask, -range.qn()));                               // v/s > -Qn
        gradient.muli(mask);
        ex.exec(new ScalarReverseSubtraction(scaled, null, mask, range.qp()));      // Qp - v/s
        ex.exec(new Step(mask, mask, 0.0));                                         // v/s < Qp
        gradient.muli(mask);
        double sumInsideGradTimesScaled = dot(gradient, scaled);
        return g * (sumGradTimesCodes - sumInsideGradTimesScaled);
    }

    /**
     * The quantized value with a vector of steps: one, or one per channel of a per-channel quantizer
     * (broadcast along its axis).
     *
     * @param v         the data
     * @param steps     the step sizes, as many as the quantizer's layout needs for {@code v} (any shape)
     * @param quantizer the quantizer
     * @param out       receives {@code vhat}: same shape and data type as {@code v}
     * @return {@code out}
     */
    public static INDArray quantize(INDArray v, INDArray steps, Quantizer quantizer, INDArray out) {
        if (!quantizer.isPerChannel()) {
            return quantize(v, stepScalar(steps), quantizer, out);
        }
        checkSameShape("output", v, out);
        INDArray s = guardedSteps(v, steps, quantizer);
        char order = FusedCpuQuantizer.commonOrder(v, out);
        if (order != 0) {
            FusedCpuQuantizer.quantize(v, s.toFloatVector(), FusedCpuQuantizer.channelRun(v.shape(),
                    quantizer.channelAxis(), order), quantizer.range(), out);
            return out;
        }
        OpExecutioner ex = Nd4j.getExecutioner();
        ex.exec(new BroadcastMulOp(v, s.rdiv(1.0), out, quantizer.channelAxis()));
        codes(out, quantizer.range(), out);
        ex.exec(new BroadcastMulOp(out, s, out, quantizer.channelAxis()));
        return out;
    }

    /**
     * The backward pass with a vector of steps: turns {@code dL/dvhat} into {@code dL/dv} in place and
     * returns {@code dL/ds} per step.
     *
     * @param v         the data that was quantized
     * @param steps     the steps used in the forward pass
     * @param quantizer the quantizer
     * @param g         the step-size gradient scale ({@link Quantizer#stepGradientScale})
     * @param gradient  on entry {@code dL/dvhat}, on return {@code dL/dv}
     * @return {@code dL/ds}, a vector of one element per step, already multiplied by {@code g}
     */
    public static INDArray backward(INDArray v, INDArray steps, Quantizer quantizer, double g, INDArray gradient) {
        if (!quantizer.isPerChannel()) {
            double ds = backward(v, stepScalar(steps), quantizer, g, gradient);
            return Nd4j.createFromArray(ds).castTo(v.dataType());
        }
        checkSameShape("gradient", v, gradient);
        QuantRange range = quantizer.range();
        char order = FusedCpuQuantizer.commonOrder(v, gradient);
        if (order != 0) {
            float[] s = guardedSteps(v, steps, quantizer).toFloatVector();
            double[] ds = FusedCpuQuantizer.backward(v, s, FusedCpuQuantizer.channelRun(v.shape(),
                    quantizer.channelAxis(), order), range, gradient);
            for (int c = 0; c < ds.length; c++) {
                ds[c] *= g;
            }
            return Nd4j.createFromArray(ds).castTo(v.dataType());
        }
        int axis = quantizer.channelAxis();
        int[] others = IntStream.range(0, v.rank()).filter(d -> d != axis).toArray();
        OpExecutioner ex = Nd4j.getExecutioner();
        INDArray scaled = v.ulike();
        ex.exec(new BroadcastMulOp(v, guardedSteps(v, steps, quantizer).rdiv(1.0), scaled, axis));
        INDArray codes = codes(scaled, range, v.ulike());
        INDArray sumGradTimesCodes = gradient.mul(codes).sum(others);

        INDArray mask = codes;
        ex.exec(new Step(scaled, mask, -range.qn()));
        gradient.muli(mask);
        ex.exec(new ScalarReverseSubtraction(scaled, null, mask, range.qp()));
        ex.exec(new Step(mask, mask, 0.0));
        gradient.muli(mask);
        return sumGradTimesCodes.subi(gradient.mul(scaled).sum(others)).muli(g);
    }

    /** The steps as a vector of the data's type, guarded to at least {@link LsqMath#MIN_STEP}. */
    private static INDArray guardedSteps(INDArray v, INDArray steps, Quantizer quantizer) {
        long expected = v.size(quantizer.channelAxis());
        if (steps.length() != expected) {
            throw new IllegalArgumentException("eager quantizer: " + steps.length() + " steps for " + expected
                    + " channels on axis " + quantizer.channelAxis() + " of data " + Arrays.toString(v.shape()));
        }
        INDArray s = steps.reshape(expected).castTo(v.dataType()).dup();
        return Transforms.max(s, LsqMath.MIN_STEP, false);
    }

    private static double stepScalar(INDArray steps) {
        if (steps.length() != 1) {
            throw new IllegalArgumentException("eager quantizer: a per-tensor quantizer takes one step, got "
                    + steps.length());
        }
        return steps.getDouble(0);
    }

    /** {@code round(clip(scaled, -Qn, Qp))} into {@code out} (which may be {@code scaled}). */
    private static INDArray codes(INDArray scaled, QuantRange range, INDArray out) {
        OpExecutioner ex = Nd4j.getExecutioner();
        ex.exec(new ScalarMax(scaled, null, out, -range.qn()));
        ex.exec(new ScalarMin(out, null, out, range.qp()));
        ex.exec(new Round(out, out));
        return out;
    }

    private static QuantRange perTensorRange(Quantizer quantizer) {
        if (quantizer.isPerChannel()) {
            throw new IllegalArgumentException("eager quantizer: one step per tensor only, got " + quantizer);
        }
        return quantizer.range();
    }

    private static double dot(INDArray a, INDArray b) {
        return Nd4j.getExecutioner().exec(new Dot(a, b)).getDouble(0);
    }

    private static double guarded(double step) {
        return Math.max(step, LsqMath.MIN_STEP);
    }

    /** {@code 1/s} rounded as the graph op's {@code reciprocal} rounds it, in the data's own type. */
    private static Number reciprocal(DataType type, double s) {
        return type == DataType.DOUBLE ? 1.0 / s : (Number) (1.0f / (float) s);
    }

    /** {@code s} as a scalar of the data's type, so float data is multiplied by the float step. */
    private static Number inType(INDArray a, double s) {
        return a.dataType() == DataType.DOUBLE ? s : (Number) (float) s;
    }

    private static void checkSameShape(String what, INDArray v, INDArray other) {
        if (!Arrays.equals(v.shape(), other.shape()) || v.dataType() != other.dataType()) {
            throw new IllegalArgumentException("eager quantizer: " + what + " must match the data's shape "
                    + Arrays.toString(v.shape()) + " and type " + v.dataType() + ", got " + Arrays.toString(other.shape())
                    + " " + other.dataType());
        }
    }
}
