package io.github.lsq4j.op;

import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import io.github.lsq4j.quant.StepLayout;
import java.util.Arrays;
import java.util.Map;
import org.nd4j.autodiff.samediff.NameScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.custom.BitCast;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMax;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Builds the LSQ quantizer into a SameDiff graph: {@code vhat = round(clip(v / s, -Qn, Qp)) * s} with
 * the paper's gradients (see {@link LsqMath} for the definitions).
 *
 * <p>DL4J M2.1 has no user-defined custom op, and a subclass that overrides {@code doDiff} is silently
 * replaced by the stock op when SameDiff builds the gradient graph. So the gradients are composed from
 * stock ops with stop-gradients, the pattern {@code stop(A) + (B - stop(B))}: the value of {@code A}
 * exactly (because {@code B - stop(B)} is exactly zero), the gradient of {@code B}. That gives the
 * paper's two tricks:
 * <ul>
 *   <li>gradscale: {@code s' = stop(s) + (s - stop(s)) * g}, the value of {@code s}, gradient
 *       {@code g} times the incoming one;</li>
 *   <li>roundpass: {@code stop(round(c)) + (c - stop(c))}, the integer code, identity gradient.</li>
 * </ul>
 * Here {@code stop} is not {@code StopGradient} but a bit-exact round trip through an integer type
 * (see {@link #cut}), which keeps the frozen branches out of the gradient graph altogether.
 * The clip is {@code clipByValue}, whose gradient is 1 strictly inside the range only, so a value
 * exactly at {@code -Qn} or {@code Qp} counts as clipped, as with the paper's hardtanh. The step's
 * value is guarded to at least {@link LsqMath#MIN_STEP} with an identity gradient, so a step pushed to
 * zero or below by an update never divides by zero; {@code v / s} is computed as
 * {@code v * (1 / s)} because ND4J's {@code div} by a broadcast step has a wrong gradient.
 *
 * <p>Every op used here exists on nd4j-native and nd4j-cuda; nothing loops over elements in Java.
 */
public final class LsqOp {
    private LsqOp() {
    }

    /**
     * Adds a quantizer to {@code sd}.
     *
     * @param sd   the graph
     * @param name a name unique in the graph; the quantizer's variables live in this name scope
     * @param v    the data to quantize; its rank must be known
     * @param step      the step size(s): one element per tensor, or one per channel of the quantizer
     * @param quantizer bit width, signedness, step layout and gradient scale
     * @param batched   whether axis 0 of {@code v} is the batch (layer inputs: the paper's gradient scale
     *                  then counts the elements of one example) or not (weights)
     * @return the quantized value, its integer codes and the step
     * @throws IllegalArgumentException if the step count does not match the data's channels, per-channel
     *                                  steps lie on the batch axis, or the step variable holds a value
     *                                  that is not finite and positive
     */
    public static QuantizedVariable quantize(SameDiff sd, String name, SDVariable v, SDVariable step,
                                             Quantizer quantizer, boolean batched) {
        long[] vShape = v.getShape();
        if (vShape == null) {
            throw new IllegalArgumentException("quantizer " + name + ": the rank of '" + v.name() + "' must be known");
        }
        if (batched && quantizer.channelAxis() == 0) {
            throw new IllegalArgumentException("quantizer " + name
                    + ": per-channel steps cannot lie on axis 0 of batched data (the batch)");
        }
        StepLayout layout = quantizer.layout();
        long numSteps = checkStepCount(name, vShape, step, layout);
        checkStepValues(name, step);
        QuantRange range = quantizer.range();
        try (NameScope ignored = sd.withNameScope(name)) {
            SDVariable s = sd.reshape(step, layout.broadcastShape(vShape.length, numSteps));
            SDVariable sFrozen = cut(sd, s);
            SDVariable sGuarded = new ScalarMax(sd, sFrozen, LsqMath.MIN_STEP).outputVariable();
            SDVariable sScaled = sGuarded.add(s.sub(sFrozen).mul(gradientScale(sd, v, numSteps, quantizer, batched)));

            SDVariable clipped = sd.math.clipByValue(v.mul(sd.math.reciprocal(sScaled)), -range.qn(), range.qp());
            SDVariable clippedFrozen = cut(sd, clipped);
            SDVariable codes = sd.math.round(clippedFrozen);
            SDVariable roundPassed = codes.add(clipped.sub(clippedFrozen));
            SDVariable value = roundPassed.mul("vhat", sScaled);
            return new QuantizedVariable(value, codes, sGuarded);
        }
    }

    /**
     * The gradient scale {@code g} as a graph constant or, for the counting modes, computed from the
     * data's runtime shape (the batch size of layer inputs is only known then).
     */
    private static SDVariable gradientScale(SameDiff sd, SDVariable v, long numSteps, Quantizer quantizer,
                                            boolean batched) {
        GradientScale policy = quantizer.gradientScale();
        DataType type = v.dataType();
        if (!policy.counts()) {
            return sd.constant(Nd4j.scalar(type, policy.fixedValue()));
        }
        SDVariable elements = sd.prod(sd.shape(v)).castTo(type);
        if (policy.mode() == GradientScale.Mode.PAPER && batched) {
            elements = elements.div(sd.sizeAt(v, 0).castTo(type));
        }
        SDVariable g = sd.math.rsqrt(elements.mul((double) quantizer.range().qp() / numSteps));
        return cut(sd, g);
    }

    private static long checkStepCount(String name, long[] vShape, SDVariable step, StepLayout layout) {
        long[] stepShape = step.getShape();
        long given = stepShape == null ? -1 : Arrays.stream(stepShape).reduce(1, (a, b) -> a * b);
        if (!layout.perChannelSteps()) {
            if (given != 1) {
                throw new IllegalArgumentException("quantizer " + name + ": a per-tensor step must have one element, '"
                        + step.name() + "' has shape " + Arrays.toString(stepShape));
            }
            return 1;
        }
        int axis = layout.axis();
        if (axis >= vShape.length) {
            throw new IllegalArgumentException("quantizer " + name + ": channel axis " + axis
                    + " does not exist in data of shape " + Arrays.toString(vShape));
        }
        long channels = vShape[axis];
        if (given < 1 || (channels >= 0 && given != channels)) {
            throw new IllegalArgumentException("quantizer " + name + ": per-channel step '" + step.name() + "' has "
                    + given + " elements, but the data has " + channels + " channels on axis " + axis
                    + " (shape " + Arrays.toString(vShape) + ")");
        }
        return given;
    }

    private static void checkStepValues(String name, SDVariable step) {
        INDArray arr = step.isPlaceHolder() ? null : step.getArr();
        if (arr == null) {
            return;
        }
        double[] values = arr.dup().data().asDouble();
        for (int i = 0; i < values.length; i++) {
            LsqMath.checkStep("quantizer " + name + ": step " + i, values[i]);
        }
    }

    /**
     * The value of {@code x} with no gradient, as a round trip through an integer type of the same width
     * ({@code bitcast}, bit-exact, and cheap: no data-sized copy was measured).
     *
     * <p>Unlike {@code StopGradient}, this cuts {@code x}'s producers out of the gradient graph: SameDiff
     * differentiates every op on a floating-point path to the loss, so the ops upstream of a
     * {@code StopGradient} still get differentiated with zero gradients ({@code zeroslike} plus their
     * backprop ops, each a data-sized array), and {@code StopGradient} itself copies its input. A path
     * through an integer-typed variable is not a floating-point path, so SameDiff leaves it alone.
     */
    private static SDVariable cut(SameDiff sd, SDVariable x) {
        DataType type = x.dataType();
        DataType bits = switch (type) {
            case DOUBLE -> DataType.INT64;
            case FLOAT -> DataType.INT32;
            case HALF, BFLOAT16 -> DataType.INT16;
            default -> throw new IllegalArgumentException("quantizer data must be floating point, got " + type);
        };
        return bitCast(sd, bitCast(sd, x, bits), type);
    }

    private static SDVariable bitCast(SameDiff sd, SDVariable x, DataType to) {
        BitCast op = new SerializableBitCast(sd, x, sd.constant(Nd4j.scalar(to.toInt())));
        op.addIArgument(to.toInt());
        return op.outputVariable();
    }

    /**
     * {@code BitCast} without the properties that M2.1 cannot read back. When SameDiff copies a graph
     * through FlatBuffers (e.g. to build the gradient function), a custom op writes its integer
     * arguments as properties named after the native op's arguments ({@code newType}), and the copy,
     * a stock {@code BitCast}, looks for Java fields of those names, finds none and logs a warning per
     * op: hundreds of them for a network. The target type travels in the integer argument anyway, which
     * the copy receives, so this class writes no properties. Only the writing side changes: the copy is
     * the stock op, as before.
     */
    private static final class SerializableBitCast extends BitCast {
        SerializableBitCast(SameDiff sd, SDVariable in, SDVariable dataType) {
            super(sd, in, dataType);
        }

        @Override
        public Map<String, Object> propertiesForFunction() {
            return Map.of();
        }
    }
}
