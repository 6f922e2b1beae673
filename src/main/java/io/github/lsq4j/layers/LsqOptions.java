package io.github.lsq4j.layers;

import java.io.Serializable;
import io.github.lsq4j.quant.Quantizer;
import java.util.Objects;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The LSQ part of one layer's configuration, as every LSQ layer stores it (JSON property {@code lsq}):
 * the weight quantizer and the input quantizer (null = that quantizer off), the updater of the step
 * sizes (null = the layer's updater), and the version of this JSON form. Immutable; builders make it
 * from their {@link LsqLayerBuilder} settings.
 */
public final class LsqOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The version of the LSQ options' JSON form that this lsq4j writes. A file of a newer version is
     * refused when it is read, and so are the LSQ options of files from before it (version 0, when each
     * option was a layer property of its own).
     */
    public static final int FORMAT_VERSION = 1;

    @JsonProperty("formatVersion")
    private final int formatVersion;
    @JsonProperty("weightQuantizer")
    private final Quantizer weightQuantizer;
    @JsonProperty("inputQuantizer")
    private final Quantizer inputQuantizer;
    @JsonProperty("stepUpdater")
    private final IUpdater stepUpdater;

    /**
     * @param weightQuantizer the weight quantizer, or null for float weights
     * @param inputQuantizer  the input quantizer, or null for float inputs
     * @param stepUpdater     the updater of the step sizes, or null for the layer's updater
     */
    public LsqOptions(Quantizer weightQuantizer, Quantizer inputQuantizer, IUpdater stepUpdater) {
        this(FORMAT_VERSION, weightQuantizer, inputQuantizer, stepUpdater);
    }

    @JsonCreator
    private LsqOptions(@JsonProperty("formatVersion") int formatVersion,
                       @JsonProperty("weightQuantizer") Quantizer weightQuantizer,
                       @JsonProperty("inputQuantizer") Quantizer inputQuantizer,
                       @JsonProperty("stepUpdater") IUpdater stepUpdater) {
        if (formatVersion > FORMAT_VERSION) {
            throw new IllegalArgumentException("LSQ options: formatVersion " + formatVersion
                    + " was written by a newer lsq4j; this one reads up to " + FORMAT_VERSION + ": upgrade lsq4j");
        }
        if (formatVersion < 1) {
            throw new IllegalArgumentException("LSQ options: formatVersion must be 1 to " + FORMAT_VERSION + ", got "
                    + formatVersion);
        }
        this.formatVersion = formatVersion;
        this.weightQuantizer = weightQuantizer;
        this.inputQuantizer = inputQuantizer;
        this.stepUpdater = stepUpdater;
    }

    /** @return the version of the JSON form these options were made with or read from */
    public int formatVersion() {
        return formatVersion;
    }

    /** @return the weight quantizer, or null if the weights are not quantized */
    public Quantizer weightQuantizer() {
        return weightQuantizer;
    }

    /** @return the input quantizer, or null if the inputs are not quantized */
    public Quantizer inputQuantizer() {
        return inputQuantizer;
    }

    /** @return the updater of the step sizes, or null for the layer's updater */
    public IUpdater stepUpdater() {
        return stepUpdater;
    }

    /**
     * @param quantizer the weight quantizer, or null for float weights
     * @return a copy with it
     */
    public LsqOptions withWeightQuantizer(Quantizer quantizer) {
        return new LsqOptions(formatVersion, quantizer, inputQuantizer, stepUpdater);
    }

    /**
     * @param quantizer the input quantizer, or null for float inputs
     * @return a copy with it
     */
    public LsqOptions withInputQuantizer(Quantizer quantizer) {
        return new LsqOptions(formatVersion, weightQuantizer, quantizer, stepUpdater);
    }

    /**
     * @param updater the updater of the step sizes, or null for the layer's updater
     * @return a copy with it
     */
    public LsqOptions withStepUpdater(IUpdater updater) {
        return new LsqOptions(formatVersion, weightQuantizer, inputQuantizer, updater);
    }

    /** @return a copy whose step updater is a copy (updaters hold state in DL4J's configurations) */
    LsqOptions deepCopy() {
        return stepUpdater == null ? this : withStepUpdater(stepUpdater.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LsqOptions l && l.formatVersion == formatVersion
                && Objects.equals(l.weightQuantizer, weightQuantizer) && Objects.equals(l.inputQuantizer, inputQuantizer)
                && Objects.equals(l.stepUpdater, stepUpdater);
    }

    @Override
    public int hashCode() {
        return Objects.hash(formatVersion, weightQuantizer, inputQuantizer, stepUpdater);
    }

    /** @return the quantizers and step updater, as the layers' {@code toString()} shows them */
    @Override
    public String toString() {
        return "weights=" + describe(weightQuantizer) + ", inputs=" + describe(inputQuantizer)
                + (stepUpdater != null ? ", stepUpdater=" + stepUpdater : "");
    }

    private static String describe(Quantizer q) {
        return q == null ? "not quantized" : q.bits() + " bits " + (q.signed() ? "signed" : "unsigned") + " "
                + (q.isPerChannel() ? "per channel" : "per tensor") + " " + q.gradientScale();
    }
}
