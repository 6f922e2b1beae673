package io.github.lsq4j.quant;

import java.io.Serializable;
import java.util.Arrays;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonInclude;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The factor {@code g} applied to the step-size gradient, as a policy.
 *
 * <p>The paper uses {@code g = 1 / sqrt(N * Qp)}, with {@code N} the number of weights that share the
 * step for a weight quantizer, and the number of features of one example ({@code C*H*W}) for an
 * activation quantizer. PyTorch and several reimplementations count the whole activation tensor,
 * batch included ({@link Mode#BATCH_INCLUSIVE}). {@link Mode#FIXED} uses a given value and
 * {@link Mode#NONE} leaves the gradient unscaled. For weights, which have no batch axis, the paper's
 * mode and the batch-inclusive mode agree.
 *
 * <p>In JSON: {@code {"mode": "PAPER"}}, or {@code {"mode": "FIXED", "value": 0.01}}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class GradientScale implements Serializable {
    private static final long serialVersionUID = 1L;

    /** How {@code g} is chosen. */
    public enum Mode {
        /** The paper: {@code N} counts the elements of one example that share a step. */
        PAPER,
        /** {@code N} counts every element that shares a step, batch included. */
        BATCH_INCLUSIVE,
        /** A given value. */
        FIXED,
        /** {@code g = 1}. */
        NONE
    }

    private static final GradientScale PAPER = new GradientScale(Mode.PAPER, Double.NaN);
    private static final GradientScale BATCH_INCLUSIVE = new GradientScale(Mode.BATCH_INCLUSIVE, Double.NaN);
    private static final GradientScale NONE = new GradientScale(Mode.NONE, 1.0);

    private final Mode mode;
    private final double fixedValue;

    private GradientScale(Mode mode, double fixedValue) {
        this.mode = mode;
        this.fixedValue = fixedValue;
    }

    /** @return the paper's gradient scale (the default) */
    public static GradientScale paper() {
        return PAPER;
    }

    /** @return the gradient scale that counts the whole tensor, batch included */
    public static GradientScale batchInclusive() {
        return BATCH_INCLUSIVE;
    }

    /** @return no scaling ({@code g = 1}) */
    public static GradientScale none() {
        return NONE;
    }

    /**
     * A fixed gradient scale.
     *
     * @param g the factor, finite and positive
     * @return the policy
     * @throws IllegalArgumentException if {@code g} is not finite and positive
     */
    public static GradientScale fixed(double g) {
        if (!(g > 0) || Double.isInfinite(g)) {
            throw new IllegalArgumentException("fixed gradient scale must be finite and > 0, got " + g);
        }
        return new GradientScale(Mode.FIXED, g);
    }

    /**
     * The policy for a mode, with {@code fixedValue} used only by {@link Mode#FIXED} (how JSON is read).
     *
     * @param mode       the mode
     * @param fixedValue the value for {@link Mode#FIXED}, ignored otherwise
     * @return the policy
     * @throws IllegalArgumentException naming the value if the mode is null, or FIXED without a
     *                                  finite positive value
     */
    @JsonCreator
    public static GradientScale of(@JsonProperty("mode") Mode mode, @JsonProperty("value") Double fixedValue) {
        if (mode == null) {
            throw new IllegalArgumentException("gradient scale mode must be one of " + Arrays.toString(Mode.values())
                    + ", got null");
        }
        return switch (mode) {
            case PAPER -> PAPER;
            case BATCH_INCLUSIVE -> BATCH_INCLUSIVE;
            case NONE -> NONE;
            case FIXED -> fixed(fixedValue == null ? Double.NaN : fixedValue);
        };
    }

    /**
     * The paper's formula {@code 1 / sqrt(n * Qp)}.
     *
     * @param n     the element count {@code N}
     * @param range the quantizer's range
     * @return {@code g}
     */
    public static double paperFormula(double n, QuantRange range) {
        return 1.0 / Math.sqrt(n * range.qp());
    }

    /** @return the mode */
    @JsonProperty("mode")
    public Mode mode() {
        return mode;
    }

    /** @return the fixed value ({@code 1} for {@link Mode#NONE}, NaN for the counting modes) */
    @JsonIgnore
    public double fixedValue() {
        return fixedValue;
    }

    /** The JSON property {@code value}: written for {@link Mode#FIXED} only. */
    @JsonProperty("value")
    private Double jsonValue() {
        return mode == Mode.FIXED ? fixedValue : null;
    }

    /** @return whether {@code g} depends on the element count (and so, for activations, on the batch) */
    @JsonIgnore
    public boolean counts() {
        return mode == Mode.PAPER || mode == Mode.BATCH_INCLUSIVE;
    }

    /**
     * {@code g} for a tensor.
     *
     * @param elementsPerStepPerExample elements of one example that share one step (all of them for
     *                                  a weight tensor, per channel when steps are per channel)
     * @param batchSize                 examples in the tensor (1 for weights)
     * @param range                     the quantizer's range
     * @return the gradient scale
     */
    public double value(long elementsPerStepPerExample, long batchSize, QuantRange range) {
        return switch (mode) {
            case PAPER -> paperFormula(elementsPerStepPerExample, range);
            case BATCH_INCLUSIVE -> paperFormula((double) elementsPerStepPerExample * batchSize, range);
            case FIXED, NONE -> fixedValue;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GradientScale s && s.mode == mode
                && Double.compare(s.fixedValue, fixedValue) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * mode.hashCode() + Double.hashCode(fixedValue);
    }

    @Override
    public String toString() {
        return mode == Mode.FIXED ? "GradientScale(FIXED, g=" + fixedValue + ")" : "GradientScale(" + mode + ")";
    }
}
