package io.github.lsq4j.layers;

import java.io.Serializable;
import io.github.lsq4j.quant.Quantizer;
import java.util.Objects;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonInclude;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The LSQ part of one layer's configuration, as every LSQ layer stores it (JSON property {@code lsq}):
 * the weight quantizer and the input quantizer (null = that quantizer off), the updater of the step
 * sizes (null = the layer's updater), the unit of the step parameters, and the version of this JSON form.
 * Immutable; builders make it from their {@link LsqLayerBuilder} settings.
 *
 * <p>The step unit {@code u} (default 1): each step parameter holds {@code s / u}, and its gradient is
 * the paper's step gradient divided by {@code u}. Under SGD, with or without momentum, the step then
 * follows the same trajectory as with {@code u = 1}, up to float rounding, while its parameter updates
 * are {@code 1/u} times larger. That matters where something judges updates by their size: gradient
 * sharing's threshold encoding sends an update entry only once it reaches the threshold, and the steps'
 * updates are far smaller than the weights' (see {@code docs/scale-out.md}). Adaptive updaters (Adam)
 * normalize the gradient's size away, so with them a unit other than 1 changes the steps' learning rate.
 */
public final class LsqOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The newest version of the LSQ options' JSON form that this lsq4j reads and writes. A file of a newer
     * version is refused when it is read, and so are the LSQ options of files from before version 1
     * (version 0, when each option was a layer property of its own). Version 2 added the step unit; options
     * whose step unit is 1 are written as version 1, which lsq4j releases before it read too.
     */
    public static final int FORMAT_VERSION = 2;

    @JsonProperty("weightQuantizer")
    private final Quantizer weightQuantizer;
    @JsonProperty("inputQuantizer")
    private final Quantizer inputQuantizer;
    @JsonProperty("stepUpdater")
    private final IUpdater stepUpdater;
    private final double stepUnit;

    /**
     * Options whose step parameters hold the steps themselves (unit 1).
     *
     * @param weightQuantizer the weight quantizer, or null for float weights
     * @param inputQuantizer  the input quantizer, or null for float inputs
     * @param stepUpdater     the updater of the step sizes, or null for the layer's updater
     */
    public LsqOptions(Quantizer weightQuantizer, Quantizer inputQuantizer, IUpdater stepUpdater) {
        this(weightQuantizer, inputQuantizer, stepUpdater, 1);
    }

    /**
     * @param weightQuantizer the weight quantizer, or null for float weights
     * @param inputQuantizer  the input quantizer, or null for float inputs
     * @param stepUpdater     the updater of the step sizes, or null for the layer's updater
     * @param stepUnit        the unit of the step parameters (a parameter holds {@code s / stepUnit}): finite, > 0
     * @throws IllegalArgumentException if the step unit is not finite and positive
     */
    public LsqOptions(Quantizer weightQuantizer, Quantizer inputQuantizer, IUpdater stepUpdater, double stepUnit) {
        checkStepUnit("LSQ options: stepUnit", stepUnit);
        this.weightQuantizer = weightQuantizer;
        this.inputQuantizer = inputQuantizer;
        this.stepUpdater = stepUpdater;
        this.stepUnit = stepUnit;
    }

    /** Reads the JSON form: refuses a version this lsq4j cannot read; a missing step unit is 1. */
    @JsonCreator
    private static LsqOptions fromJson(@JsonProperty("formatVersion") int formatVersion,
                                       @JsonProperty("weightQuantizer") Quantizer weightQuantizer,
                                       @JsonProperty("inputQuantizer") Quantizer inputQuantizer,
                                       @JsonProperty("stepUpdater") IUpdater stepUpdater,
                                       @JsonProperty("stepUnit") Double stepUnit) {
        if (formatVersion > FORMAT_VERSION) {
            throw new IllegalArgumentException("LSQ options: formatVersion " + formatVersion
                    + " was written by a newer lsq4j; this one reads up to " + FORMAT_VERSION + ": upgrade lsq4j");
        }
        if (formatVersion < 1) {
            throw new IllegalArgumentException("LSQ options: formatVersion must be 1 to " + FORMAT_VERSION + ", got "
                    + formatVersion);
        }
        return new LsqOptions(weightQuantizer, inputQuantizer, stepUpdater, stepUnit == null ? 1 : stepUnit);
    }

    /**
     * @param setting  what the unit is, for the message (e.g. {@code "policy: stepUnit"})
     * @param stepUnit a step unit
     * @throws IllegalArgumentException naming the setting and the value, if the unit is not finite and positive
     */
    public static void checkStepUnit(String setting, double stepUnit) {
        if (!(stepUnit > 0) || Double.isInfinite(stepUnit)) {
            throw new IllegalArgumentException(setting + " must be finite and > 0, got " + stepUnit);
        }
    }

    /**
     * @return the version of the JSON form these options are written in: the oldest that holds them, 1 without a
     *         step unit (readable by earlier lsq4j releases), 2 with one (refused by them rather than misread)
     */
    @JsonProperty("formatVersion")
    public int formatVersion() {
        return stepUnit == 1 ? 1 : 2;
    }

    /** @return the unit of the step parameters: a step parameter holds {@code s / stepUnit} */
    public double stepUnit() {
        return stepUnit;
    }

    /** The step unit as JSON holds it: absent when 1, so that such options read as they did in version 1. */
    @JsonProperty("stepUnit")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private Double stepUnitProperty() {
        return stepUnit == 1 ? null : stepUnit;
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
        return new LsqOptions(quantizer, inputQuantizer, stepUpdater, stepUnit);
    }

    /**
     * @param quantizer the input quantizer, or null for float inputs
     * @return a copy with it
     */
    public LsqOptions withInputQuantizer(Quantizer quantizer) {
        return new LsqOptions(weightQuantizer, quantizer, stepUpdater, stepUnit);
    }

    /**
     * @param updater the updater of the step sizes, or null for the layer's updater
     * @return a copy with it
     */
    public LsqOptions withStepUpdater(IUpdater updater) {
        return new LsqOptions(weightQuantizer, inputQuantizer, updater, stepUnit);
    }

    /**
     * Note that this changes what the step parameters hold: a layer given these options keeps its parameter
     * values, so set the unit before the steps are initialized (on the builder or the conversion policy).
     *
     * @param unit the unit of the step parameters: finite, > 0
     * @return a copy with it
     * @throws IllegalArgumentException if the unit is not finite and positive
     */
    public LsqOptions withStepUnit(double unit) {
        return new LsqOptions(weightQuantizer, inputQuantizer, stepUpdater, unit);
    }

    /** @return a copy whose step updater is a copy (updaters hold state in DL4J's configurations) */
    LsqOptions deepCopy() {
        return stepUpdater == null ? this : withStepUpdater(stepUpdater.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LsqOptions l && Objects.equals(l.weightQuantizer, weightQuantizer) && Objects.equals(l.inputQuantizer, inputQuantizer)
                && Objects.equals(l.stepUpdater, stepUpdater) && l.stepUnit == stepUnit;
    }

    @Override
    public int hashCode() {
        return Objects.hash(weightQuantizer, inputQuantizer, stepUpdater, stepUnit);
    }

    /** @return the quantizers and step updater, as the layers' {@code toString()} shows them */
    @Override
    public String toString() {
        return "weights=" + describe(weightQuantizer) + ", inputs=" + describe(inputQuantizer)
                + (stepUpdater != null ? ", stepUpdater=" + stepUpdater : "") + (stepUnit != 1 ? ", stepUnit=" + stepUnit : "");
    }

    private static String describe(Quantizer q) {
        return q == null ? "not quantized" : q.bits() + " bits " + (q.signed() ? "signed" : "unsigned") + " "
                + (q.isPerChannel() ? "per channel" : "per tensor") + " " + q.gradientScale();
    }
}
