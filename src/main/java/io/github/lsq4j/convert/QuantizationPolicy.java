package io.github.lsq4j.convert;

import io.github.lsq4j.layers.LsqOptions;
import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * How a network is quantized: it chooses the pair of {@link Quantizer}s of each layer. The target bit
 * width, the paper's exception for the first and last layer (8 bits by default), per-layer bit
 * overrides, layers left in float, and what to do with layer kinds lsq4j cannot quantize. Every other
 * quantizer option comes from two templates ({@link Builder#weightQuantizer}, {@link Builder#inputQuantizer})
 * whose bit width (and, for inputs, signedness) the policy sets per layer. Immutable;
 * {@link Builder#build()} validates.
 */
public final class QuantizationPolicy {
    /** What happens to a layer with weights that no mapping covers (depthwise, separable, recurrent, ...). */
    public enum UnsupportedLayers {
        /** Leave it in float and log a warning (the default). */
        KEEP_FLOAT_AND_WARN,
        /** Refuse the conversion with an error naming the layer. */
        FAIL
    }

    /** The paper's bit width for the first and last layer. */
    public static final int PAPER_FIRST_LAST_BITS = 8;

    private final int bits;
    private final int firstLastBits;
    private final Map<String, Integer> overrides;
    private final Set<String> skip;
    private final UnsupportedLayers unsupportedLayers;
    private final Quantizer weightTemplate;
    private final Quantizer inputTemplate;
    private final boolean quantize;
    private final IUpdater stepUpdater;
    private final double stepUnit;
    private final boolean perChannelDepthwise;

    private QuantizationPolicy(Builder b) {
        this.bits = b.bits;
        this.firstLastBits = b.firstLastBits;
        this.overrides = Collections.unmodifiableMap(new LinkedHashMap<>(b.overrides));
        this.skip = Collections.unmodifiableSet(new LinkedHashSet<>(b.skip));
        this.unsupportedLayers = b.unsupportedLayers;
        this.weightTemplate = b.weightTemplate;
        this.inputTemplate = b.inputTemplate;
        this.quantize = b.quantize;
        this.stepUpdater = b.stepUpdater;
        this.stepUnit = b.stepUnit;
        this.perChannelDepthwise = b.perChannelDepthwise;
    }

    /**
     * The paper's policy: {@code bits} everywhere, first and last layer at 8 bits.
     *
     * @param bits the target bit width, 2 to 8
     * @return the policy
     */
    public static QuantizationPolicy paper(int bits) {
        return builder(bits).build();
    }

    /**
     * @param bits the target bit width, 2 to 8
     * @return a builder with the paper's defaults
     */
    public static Builder builder(int bits) {
        return new Builder(bits);
    }

    /**
     * The bit width of one layer's weights and inputs.
     *
     * @param layerName   the layer's name
     * @param firstOrLast whether it is the network's first or last quantized layer
     * @return its bit width
     */
    public int bitsFor(String layerName, boolean firstOrLast) {
        Integer override = overrides.get(layerName);
        if (override != null) {
            return override;
        }
        return firstOrLast && firstLastBits > 0 ? firstLastBits : bits;
    }

    /**
     * The quantizers of one layer.
     *
     * @param layerName         the layer's name
     * @param firstOrLast       whether it is the network's first or last quantized layer
     * @param inputSigned       whether the layer's input can be negative
     * @param weightChannelAxis the output-channel axis of the layer's weights (used if the policy asks
     *                          for per-channel weight steps)
     * @param depthwise         whether the layer is a depthwise convolution: then its weight steps are
     *                          per channel if {@link #perChannelDepthwise()}
     * @return the weight and input quantizer; both null if the policy switches quantization off
     */
    public LayerQuantizers quantizersFor(String layerName, boolean firstOrLast, boolean inputSigned,
                                         int weightChannelAxis, boolean depthwise) {
        if (!quantize) {
            return new LayerQuantizers(null, null);
        }
        int layerBits = bitsFor(layerName, firstOrLast);
        Quantizer weights = weightTemplate.withBits(layerBits);
        boolean perChannel = weights.isPerChannel() || depthwise && perChannelDepthwise;
        return new LayerQuantizers(perChannel ? weights.perChannel(weightChannelAxis) : weights,
                inputTemplate.withBits(layerBits).withSigned(inputSigned));
    }

    /**
     * @param layerName a layer name
     * @return whether the policy leaves it in float
     */
    public boolean skips(String layerName) {
        return skip.contains(layerName);
    }

    /** @return the target bit width */
    public int bits() {
        return bits;
    }

    /** @return the bit width of the first and last layer, or 0 if they get the target width */
    public int firstLastBits() {
        return firstLastBits;
    }

    /** @return bit widths by layer name, overriding everything else */
    public Map<String, Integer> overrides() {
        return overrides;
    }

    /** @return the names of layers left in float */
    public Set<String> skipped() {
        return skip;
    }

    /** @return what happens to layers no mapping covers */
    public UnsupportedLayers unsupportedLayers() {
        return unsupportedLayers;
    }

    /** @return false if the converted layers have quantization switched off (an exact float copy) */
    public boolean quantize() {
        return quantize;
    }

    /** @return the updater for step sizes, or null for the layer's own */
    public IUpdater stepUpdater() {
        return stepUpdater;
    }

    /** @return the unit of the converted layers' step parameters (see {@link LsqOptions}) */
    public double stepUnit() {
        return stepUnit;
    }

    /** @return whether depthwise convolutions get per-channel weight steps whatever the weight quantizer says */
    public boolean perChannelDepthwise() {
        return perChannelDepthwise;
    }

    @Override
    public String toString() {
        return "QuantizationPolicy(bits=" + bits + ", firstLastBits=" + (firstLastBits > 0 ? firstLastBits : "same")
                + (overrides.isEmpty() ? "" : ", overrides=" + overrides) + (skip.isEmpty() ? "" : ", skip=" + skip)
                + ", unsupported=" + unsupportedLayers + ", weights=" + weightTemplate + ", inputs=" + inputTemplate
                + (perChannelDepthwise ? "" : ", per-tensor depthwise") + (quantize ? "" : ", quantization off") + (stepUpdater == null ? "" : ", stepUpdater=" + stepUpdater)
                + (stepUnit == 1 ? "" : ", stepUnit=" + stepUnit) + ")";
    }

    /**
     * A layer's pair of quantizers.
     *
     * @param weights the weight quantizer, or null for float weights
     * @param inputs  the input quantizer, or null for float inputs
     */
    public record LayerQuantizers(Quantizer weights, Quantizer inputs) {
    }

    /** Builds a {@link QuantizationPolicy}. */
    public static final class Builder {
        private final int bits;
        private int firstLastBits = PAPER_FIRST_LAST_BITS;
        private final Map<String, Integer> overrides = new LinkedHashMap<>();
        private final Set<String> skip = new LinkedHashSet<>();
        private UnsupportedLayers unsupportedLayers = UnsupportedLayers.KEEP_FLOAT_AND_WARN;
        private Quantizer weightTemplate = Quantizer.signed(QuantRange.MAX_BITS);
        private Quantizer inputTemplate = Quantizer.signed(QuantRange.MAX_BITS);
        private GradientScale gradientScale;
        private boolean gradientScaleSet;
        private boolean quantize = true;
        private IUpdater stepUpdater;
        private double stepUnit = 1;
        private boolean perChannelDepthwise = true;

        private Builder(int bits) {
            this.bits = bits;
        }

        /**
         * @param firstLastBits the bit width of the first and last quantized layer (the paper: 8)
         * @return this
         */
        public Builder firstAndLastBits(int firstLastBits) {
            this.firstLastBits = firstLastBits;
            return this;
        }

        /** @return this, with the first and last layer at the target bit width too */
        public Builder firstAndLastAtTargetBits() {
            this.firstLastBits = 0;
            return this;
        }

        /**
         * @param layerName a layer name
         * @param layerBits its bit width, overriding everything else
         * @return this
         */
        public Builder override(String layerName, int layerBits) {
            overrides.put(layerName, layerBits);
            return this;
        }

        /**
         * @param layerNames layers to leave in float
         * @return this
         */
        public Builder skip(String... layerNames) {
            skip.addAll(List.of(layerNames));
            return this;
        }

        /**
         * @param action what to do with layers no mapping covers
         * @return this
         */
        public Builder unsupportedLayers(UnsupportedLayers action) {
            this.unsupportedLayers = action;
            return this;
        }

        /**
         * The weight quantizer every converted layer gets, but for its bit width, which the policy sets
         * per layer. Per channel (any axis) means per output channel of each layer.
         *
         * @param template the template (default: signed, per tensor, the paper's gradient scale)
         * @return this
         */
        public Builder weightQuantizer(Quantizer template) {
            this.weightTemplate = template;
            return this;
        }

        /**
         * The input quantizer every converted layer gets, but for its bit width and signedness, which the
         * policy sets per layer (unsigned where the layer's input is provably non-negative).
         *
         * @param template the template (default: per tensor, the paper's gradient scale)
         * @return this
         */
        public Builder inputQuantizer(Quantizer template) {
            this.inputTemplate = template;
            return this;
        }

        /**
         * @param perChannelWeights one weight step per output channel instead of per tensor
         * @return this
         */
        public Builder perChannelWeights(boolean perChannelWeights) {
            this.weightTemplate = perChannelWeights ? weightTemplate.perChannel(0) : weightTemplate.perTensor();
            return this;
        }

        /**
         * @param perChannel whether depthwise convolutions get one weight step per channel even where the
         *                   weight quantizer is per tensor (default true: a depthwise kernel has few weights
         *                   per channel and ranges that differ widely between channels; see
         *                   {@link io.github.lsq4j.layers.LsqDepthwiseConv2D})
         * @return this
         */
        public Builder perChannelDepthwise(boolean perChannel) {
            this.perChannelDepthwise = perChannel;
            return this;
        }

        /**
         * @param scale the step-gradient scale of both quantizers, set over the templates' own (default:
         *              the paper's)
         * @return this
         */
        public Builder gradientScale(GradientScale scale) {
            this.gradientScale = scale;
            this.gradientScaleSet = true;
            return this;
        }

        /**
         * @param quantize false to convert with quantization switched off: the LSQ network then computes
         *                 exactly what the float one does (useful to check a conversion)
         * @return this
         */
        public Builder quantize(boolean quantize) {
            this.quantize = quantize;
            return this;
        }

        /**
         * @param stepUpdater the updater for step sizes (default: each layer's own)
         * @return this
         */
        public Builder stepUpdater(IUpdater stepUpdater) {
            this.stepUpdater = stepUpdater;
            return this;
        }

        /**
         * @param stepUnit the unit of the step parameters (default 1): each holds {@code s / stepUnit}, its
         *                 updates {@code 1/stepUnit} times larger for the same step trajectory under SGD; for
         *                 gradient sharing (see {@link LsqOptions}): finite, > 0
         * @return this
         */
        public Builder stepUnit(double stepUnit) {
            this.stepUnit = stepUnit;
            return this;
        }

        /**
         * @return the policy
         * @throws IllegalArgumentException naming the bad value
         */
        public QuantizationPolicy build() {
            QuantRange.checkBits("policy bits", bits);
            if (firstLastBits != 0) {
                QuantRange.checkBits("policy first/last layer bits", firstLastBits);
            }
            overrides.forEach((name, b) -> QuantRange.checkBits("policy bits of layer '" + name + "'", b));
            if (unsupportedLayers == null || weightTemplate == null || inputTemplate == null) {
                throw new IllegalArgumentException("policy: unsupportedLayers, weightQuantizer and inputQuantizer must "
                        + "not be null");
            }
            LsqOptions.checkStepUnit("policy: stepUnit", stepUnit);
            if (gradientScaleSet) {
                if (gradientScale == null) {
                    throw new IllegalArgumentException("policy: gradientScale must not be null");
                }
                weightTemplate = weightTemplate.withGradientScale(gradientScale);
                inputTemplate = inputTemplate.withGradientScale(gradientScale);
            }
            return new QuantizationPolicy(this);
        }
    }
}
