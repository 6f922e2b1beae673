package io.github.lsq4j.op;

import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.StepLayout;

/**
 * What one quantizer does: its bit width and signedness, how its steps map onto the data, whether
 * the data has a leading batch axis (layer inputs) or not (weights), and the step-gradient scale.
 * Immutable; build it with {@link #builder()}.
 */
public final class QuantizerSpec {
    private final QuantRange range;
    private final StepLayout layout;
    private final boolean batched;
    private final GradientScale gradientScale;

    private QuantizerSpec(Builder b) {
        this.range = QuantRange.of(b.bits, b.signed);
        this.layout = b.layout;
        this.batched = b.batched;
        this.gradientScale = b.gradientScale;
    }

    /** @return a builder: 8 bits, signed, per tensor, not batched, the paper's gradient scale */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The spec of a weight quantizer: signed, no batch axis.
     *
     * @param bits          bit width
     * @param layout        per tensor, or per output channel
     * @param gradientScale the step-gradient scale
     * @return the spec
     */
    public static QuantizerSpec forWeights(int bits, StepLayout layout, GradientScale gradientScale) {
        return builder().bits(bits).signed(true).layout(layout).batched(false).gradientScale(gradientScale).build();
    }

    /**
     * The spec of an input (activation) quantizer: one step, leading batch axis.
     *
     * @param bits          bit width
     * @param signed        whether inputs can be negative (false after a ReLU)
     * @param gradientScale the step-gradient scale
     * @return the spec
     */
    public static QuantizerSpec forInputs(int bits, boolean signed, GradientScale gradientScale) {
        return builder().bits(bits).signed(signed).layout(StepLayout.perTensor()).batched(true)
                .gradientScale(gradientScale).build();
    }

    /** @return the integer range */
    public QuantRange range() {
        return range;
    }

    /** @return how steps map onto the data */
    public StepLayout layout() {
        return layout;
    }

    /** @return whether axis 0 of the data is the batch */
    public boolean batched() {
        return batched;
    }

    /** @return the step-gradient scale */
    public GradientScale gradientScale() {
        return gradientScale;
    }

    @Override
    public String toString() {
        return "QuantizerSpec(" + range.bits() + " bits, " + (range.signed() ? "signed" : "unsigned") + ", " + layout
                + (batched ? ", batched" : "") + ", " + gradientScale + ")";
    }

    /** Builds a {@link QuantizerSpec}; {@link #build()} validates. */
    public static final class Builder {
        private int bits = 8;
        private boolean signed = true;
        private StepLayout layout = StepLayout.perTensor();
        private boolean batched;
        private GradientScale gradientScale = GradientScale.paper();

        private Builder() {
        }

        /**
         * @param bits bit width, 2 to 8
         * @return this
         */
        public Builder bits(int bits) {
            this.bits = bits;
            return this;
        }

        /**
         * @param signed whether the data can be negative
         * @return this
         */
        public Builder signed(boolean signed) {
            this.signed = signed;
            return this;
        }

        /**
         * @param layout per tensor or per channel
         * @return this
         */
        public Builder layout(StepLayout layout) {
            this.layout = layout;
            return this;
        }

        /**
         * @param batched whether axis 0 of the data is the batch
         * @return this
         */
        public Builder batched(boolean batched) {
            this.batched = batched;
            return this;
        }

        /**
         * @param gradientScale the step-gradient scale
         * @return this
         */
        public Builder gradientScale(GradientScale gradientScale) {
            this.gradientScale = gradientScale;
            return this;
        }

        /**
         * @return the spec
         * @throws IllegalArgumentException if the bit width is outside 2..8, or a setting is null
         */
        public QuantizerSpec build() {
            QuantRange.checkBits("quantizer bits", bits);
            if (layout == null) {
                throw new IllegalArgumentException("quantizer step layout must not be null");
            }
            if (gradientScale == null) {
                throw new IllegalArgumentException("quantizer gradient scale must not be null");
            }
            if (batched && layout.perChannelSteps() && layout.axis() == 0) {
                throw new IllegalArgumentException("per-channel steps cannot lie on axis 0 of batched data (the batch)");
            }
            return new QuantizerSpec(this);
        }
    }
}
