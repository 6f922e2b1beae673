package io.github.lsq4j.quant;

import java.io.Serializable;
import java.util.Objects;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * What one LSQ quantizer is: its bit width, whether the data it quantizes can be negative, whether
 * it has one step per tensor or one per channel along an axis, and how its step-size gradient is
 * scaled. The one object that a layer's configuration, the conversion policy, the SameDiff op, the
 * eager quantizer, the plain-Java reference ({@link LsqMath}) and integer export all read; its
 * integer range {@code [-Qn, Qp]} is derived in one place, {@link #range()}.
 *
 * <p>Immutable and validated when made: a bit width outside {@value QuantRange#MIN_BITS} to
 * {@value QuantRange#MAX_BITS}, a channel axis below -1 or a null gradient scale is refused with a
 * message that names the value. Serializable to JSON with DL4J's configuration mapper (it is stored in
 * the LSQ layers' configurations).
 *
 * <pre>{@code
 * Quantizer w = Quantizer.signed(4);                      // 4-bit weights, one step
 * Quantizer x = Quantizer.unsigned(4);                    // 4-bit inputs after a ReLU
 * Quantizer wc = Quantizer.signed(4).perChannel(3);       // one step per output channel (conv weights)
 * }</pre>
 *
 * <p>Adding an option to the quantizer is a field here (with its JSON property and {@code with...}
 * method) plus its use.
 */
public final class Quantizer implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The {@link #channelAxis()} of a quantizer with one step for the whole tensor. */
    public static final int PER_TENSOR = -1;

    @JsonProperty("bits")
    private final int bits;
    @JsonProperty("signed")
    private final boolean signed;
    @JsonProperty("channelAxis")
    private final int channelAxis;
    @JsonProperty("gradientScale")
    private final GradientScale gradientScale;

    /**
     * @param bits          bit width, 2 to 8
     * @param signed        whether the data can be negative
     * @param channelAxis   the axis that holds one step per index, or {@link #PER_TENSOR}
     * @param gradientScale the step-gradient scale policy (null: the paper's)
     * @throws IllegalArgumentException naming the value if {@code bits} or {@code channelAxis} is invalid
     */
    @JsonCreator
    public Quantizer(@JsonProperty("bits") int bits, @JsonProperty("signed") boolean signed,
                     @JsonProperty("channelAxis") int channelAxis,
                     @JsonProperty("gradientScale") GradientScale gradientScale) {
        QuantRange.checkBits("quantizer bits", bits);
        if (channelAxis < PER_TENSOR) {
            throw new IllegalArgumentException("quantizer channelAxis must be >= 0, or " + PER_TENSOR
                    + " for one step per tensor, got " + channelAxis);
        }
        this.bits = bits;
        this.signed = signed;
        this.channelAxis = channelAxis;
        this.gradientScale = gradientScale == null ? GradientScale.paper() : gradientScale;
    }

    /**
     * @param bits bit width, 2 to 8
     * @return a quantizer of signed data (weights, or inputs that can be negative): one step, the
     *         paper's gradient scale
     */
    public static Quantizer signed(int bits) {
        return new Quantizer(bits, true, PER_TENSOR, GradientScale.paper());
    }

    /**
     * @param bits bit width, 2 to 8
     * @return a quantizer of non-negative data (inputs after a ReLU): one step, the paper's gradient scale
     */
    public static Quantizer unsigned(int bits) {
        return new Quantizer(bits, false, PER_TENSOR, GradientScale.paper());
    }

    /** @return the bit width */
    public int bits() {
        return bits;
    }

    /** @return whether the data can be negative */
    public boolean signed() {
        return signed;
    }

    /** @return the axis with one step per index, or {@link #PER_TENSOR} */
    public int channelAxis() {
        return channelAxis;
    }

    /** @return the step-gradient scale policy */
    public GradientScale gradientScale() {
        return gradientScale;
    }

    /** @return the integer range {@code [-Qn, Qp]}: the one place Qn and Qp are derived */
    @JsonIgnore
    public QuantRange range() {
        return QuantRange.of(bits, signed);
    }

    /** @return how the steps map onto the data */
    @JsonIgnore
    public StepLayout layout() {
        return StepLayout.forAxis(channelAxis);
    }

    /** @return whether there is one step per channel */
    @JsonIgnore
    public boolean isPerChannel() {
        return channelAxis != PER_TENSOR;
    }

    /**
     * The paper's step-gradient scale {@code g} for data of a given shape under this quantizer's policy.
     *
     * @param shape   the data's shape
     * @param batched whether axis 0 of the data is the batch (layer inputs) or not (weights)
     * @return {@code g}
     */
    public double stepGradientScale(long[] shape, boolean batched) {
        long batch = batched ? shape[0] : 1;
        long elementsPerStep = layout().elementsPerStep(shape);
        return gradientScale.value(elementsPerStep / batch, batch, range());
    }

    /**
     * @param newBits bit width, 2 to 8
     * @return a copy with that bit width
     */
    public Quantizer withBits(int newBits) {
        return new Quantizer(newBits, signed, channelAxis, gradientScale);
    }

    /**
     * @param newSigned whether the data can be negative
     * @return a copy with that signedness
     */
    public Quantizer withSigned(boolean newSigned) {
        return new Quantizer(bits, newSigned, channelAxis, gradientScale);
    }

    /**
     * @param axis the channel axis (for weights, the layer's output-channel axis)
     * @return a copy with one step per index along {@code axis}
     */
    public Quantizer perChannel(int axis) {
        if (axis < 0) {
            throw new IllegalArgumentException("quantizer channel axis must be >= 0, got " + axis);
        }
        return new Quantizer(bits, signed, axis, gradientScale);
    }

    /** @return a copy with one step for the whole tensor */
    public Quantizer perTensor() {
        return new Quantizer(bits, signed, PER_TENSOR, gradientScale);
    }

    /**
     * @param policy the step-gradient scale policy
     * @return a copy with it
     */
    public Quantizer withGradientScale(GradientScale policy) {
        if (policy == null) {
            throw new IllegalArgumentException("quantizer gradient scale must not be null");
        }
        return new Quantizer(bits, signed, channelAxis, policy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Quantizer q && q.bits == bits && q.signed == signed && q.channelAxis == channelAxis
                && q.gradientScale.equals(gradientScale);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bits, signed, channelAxis, gradientScale);
    }

    @Override
    public String toString() {
        return "Quantizer(" + bits + " bits " + (signed ? "signed" : "unsigned") + ", "
                + (isPerChannel() ? "per channel (axis " + channelAxis + ")" : "per tensor") + ", " + gradientScale + ")";
    }
}
