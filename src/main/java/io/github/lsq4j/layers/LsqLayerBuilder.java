package io.github.lsq4j.layers;

import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.Quantizer;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The LSQ settings every LSQ layer builder has ({@link LsqDense.Builder}, {@link LsqConv2D.Builder},
 * {@link LsqOutputLayer.Builder}): the two quantizers whole, and one-line conveniences that edit them.
 * Defaults: 4-bit signed weights and inputs, one step per tensor, the paper's gradient scale.
 *
 * @param <T> the concrete builder
 */
public interface LsqLayerBuilder<T extends LsqLayerBuilder<T>> {

    /** @return the state these settings edit */
    QuantizerSettings quantizerSettings();

    /**
     * @return the layer configuration, as the builder's {@code build()} makes it
     * @throws IllegalArgumentException naming the layer and the value if a setting is invalid
     */
    org.deeplearning4j.nn.conf.layers.Layer buildLayer();

    /**
     * @param quantizer the weight quantizer (signed; per tensor, or per channel on the layer's
     *                  output-channel axis), or null for full-precision weights
     * @return this
     */
    default T weightQuantizer(Quantizer quantizer) {
        quantizerSettings().setWeightQuantizer(quantizer);
        return self();
    }

    /**
     * @param quantizer the input quantizer (per tensor), or null for full-precision inputs
     * @return this
     */
    default T inputQuantizer(Quantizer quantizer) {
        quantizerSettings().setInputQuantizer(quantizer);
        return self();
    }

    /**
     * @param bits weight bit width, 2 to 8 (default {@value QuantizerSettings#DEFAULT_BITS})
     * @return this
     */
    default T weightBits(int bits) {
        quantizerSettings().editWeights("weightBits", q -> q.withBits(bits));
        return self();
    }

    /**
     * @param bits input bit width, 2 to 8 (default {@value QuantizerSettings#DEFAULT_BITS})
     * @return this
     */
    default T inputBits(int bits) {
        quantizerSettings().editInputs("inputBits", q -> q.withBits(bits));
        return self();
    }

    /**
     * Sets weight and input bit widths together.
     *
     * @param bits bit width, 2 to 8
     * @return this
     */
    default T bits(int bits) {
        return weightBits(bits).inputBits(bits);
    }

    /**
     * @param signed whether inputs can be negative (default true, safe for any input); set false after
     *               a ReLU to gain one bit of resolution
     * @return this
     */
    default T inputSigned(boolean signed) {
        quantizerSettings().editInputs("inputSigned", q -> q.withSigned(signed));
        return self();
    }

    /**
     * @param perChannel one weight step per output channel (default false: one per layer, as in the paper)
     * @return this
     */
    default T perChannelWeights(boolean perChannel) {
        quantizerSettings().setPerChannelWeights(perChannel);
        return self();
    }

    /**
     * @param scale the step-gradient scale policy of both quantizers (default {@link GradientScale#paper()})
     * @return this
     */
    default T gradientScale(GradientScale scale) {
        quantizerSettings().setGradientScale(scale);
        return self();
    }

    /**
     * @param quantize whether weights are quantized (default true)
     * @return this
     */
    default T quantizeWeights(boolean quantize) {
        quantizerSettings().setQuantizeWeights(quantize);
        return self();
    }

    /**
     * @param quantize whether inputs are quantized (default true)
     * @return this
     */
    default T quantizeInputs(boolean quantize) {
        quantizerSettings().setQuantizeInputs(quantize);
        return self();
    }

    /**
     * Switches both quantizers; {@code quantize(false)} gives a full-precision layer equal to its stock
     * DL4J twin.
     *
     * @param quantize whether weights and inputs are quantized
     * @return this
     */
    default T quantize(boolean quantize) {
        return quantizeWeights(quantize).quantizeInputs(quantize);
    }

    /**
     * @param updater updater for the step sizes only (default: the layer's updater)
     * @return this
     */
    default T stepUpdater(IUpdater updater) {
        quantizerSettings().setStepUpdater(updater);
        return self();
    }

    /**
     * The unit of the step parameters (default 1): each step parameter holds {@code s / unit}, and its
     * gradient is scaled to match, so that SGD moves the steps as it would with unit 1 while their
     * parameter updates are {@code 1/unit} times larger. For gradient sharing, whose threshold encoding
     * would otherwise hold the steps' small updates back ({@code docs/scale-out.md}).
     *
     * @param unit the unit: finite, > 0
     * @return this
     * @see LsqOptions
     */
    default T stepUnit(double unit) {
        quantizerSettings().setStepUnit(unit);
        return self();
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }
}
