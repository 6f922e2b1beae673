package io.github.lsq4j.layers;

import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.Quantizer;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The LSQ part of a layer builder's state: the weight and input {@link Quantizer}s being edited, which
 * of them are on, the step updater and the step unit. The builders of every LSQ layer hold one and expose it through
 * {@link LsqLayerBuilder}, whose one-line settings edit it. An invalid value keeps the previous
 * quantizer and is reported by the builder's {@code build()}, with the layer's name.
 */
public final class QuantizerSettings {
    /** Default bit width of weights and inputs. */
    public static final int DEFAULT_BITS = 4;

    private final int weightChannelAxis;
    private Quantizer weights = Quantizer.signed(DEFAULT_BITS);
    private Quantizer inputs = Quantizer.signed(DEFAULT_BITS);
    private boolean quantizeWeights = true;
    private boolean quantizeInputs = true;
    private IUpdater stepUpdater;
    private double stepUnit = 1;
    private String invalidSetting;

    /**
     * @param weightChannelAxis the axis of the layer's weights that holds the output channels, where
     *                          per-channel weight steps lie
     */
    public QuantizerSettings(int weightChannelAxis) {
        this.weightChannelAxis = weightChannelAxis;
    }

    /** @return the weight quantizer the layer gets, or null if its weights stay in float */
    public Quantizer weightQuantizer() {
        return quantizeWeights ? weights : null;
    }

    /** @return the input quantizer the layer gets, or null if its inputs stay in float */
    public Quantizer inputQuantizer() {
        return quantizeInputs ? inputs : null;
    }

    /** @return the updater of the step sizes, or null for the layer's updater */
    public IUpdater stepUpdater() {
        return stepUpdater;
    }

    /** @return the LSQ options these settings describe */
    public LsqOptions options() {
        return new LsqOptions(weightQuantizer(), inputQuantizer(), stepUpdater, stepUnit);
    }

    /** @return the axis of the layer's weights that holds the output channels */
    public int weightChannelAxis() {
        return weightChannelAxis;
    }

    void setWeightQuantizer(Quantizer quantizer) {
        quantizeWeights = quantizer != null;
        if (quantizer != null) {
            weights = quantizer;
        }
    }

    void setInputQuantizer(Quantizer quantizer) {
        quantizeInputs = quantizer != null;
        if (quantizer != null) {
            inputs = quantizer;
        }
    }

    void editWeights(String setting, UnaryOperator<Quantizer> change) {
        weights = edit(setting, weights, change);
    }

    void editInputs(String setting, UnaryOperator<Quantizer> change) {
        inputs = edit(setting, inputs, change);
    }

    void setQuantizeWeights(boolean on) {
        quantizeWeights = on;
    }

    void setQuantizeInputs(boolean on) {
        quantizeInputs = on;
    }

    void setStepUpdater(IUpdater updater) {
        stepUpdater = updater;
    }

    void setStepUnit(double unit) {
        try {
            LsqOptions.checkStepUnit("stepUnit", unit);
            stepUnit = unit;
        } catch (IllegalArgumentException e) {
            reportInvalid(e.getMessage());
        }
    }

    void setPerChannelWeights(boolean perChannel) {
        editWeights("perChannelWeights", q -> perChannel ? q.perChannel(weightChannelAxis) : q.perTensor());
    }

    void setGradientScale(GradientScale scale) {
        editWeights("gradientScale", q -> q.withGradientScale(scale));
        editInputs("gradientScale", q -> q.withGradientScale(scale));
    }

    private Quantizer edit(String setting, Quantizer current, UnaryOperator<Quantizer> change) {
        try {
            return change.apply(current);
        } catch (IllegalArgumentException e) {
            reportInvalid(setting + ": " + e.getMessage());
            return current;
        }
    }

    /** Keeps the first invalid setting's message, for {@link #check}. */
    private void reportInvalid(String message) {
        if (invalidSetting == null) {
            invalidSetting = message;
        }
    }

    /**
     * Reports the first invalid setting.
     *
     * @param layer the layer's kind and name, for the message
     * @throws IllegalArgumentException naming the layer, the setting and the value, if one was invalid
     */
    public void check(String layer) {
        if (invalidSetting != null) {
            throw new IllegalArgumentException(layer + ": " + invalidSetting);
        }
    }
}
