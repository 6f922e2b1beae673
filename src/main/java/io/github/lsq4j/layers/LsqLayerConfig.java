package io.github.lsq4j.layers;

import io.github.lsq4j.quant.Quantizer;
import java.util.Set;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.annotation.JsonIgnore;

/**
 * What the configuration of every LSQ layer ({@link LsqDense}, {@link LsqConv2D}, {@link LsqOutputLayer})
 * has: its {@link LsqOptions} (a weight quantizer and an input quantizer, null = off, and a step
 * updater), and the parameter keys of the weights, bias and steps.
 *
 * <p>Parameters: {@value #WEIGHT_KEY} (weights), {@value #BIAS_KEY} (bias, if any),
 * {@value #WEIGHT_STEP_KEY} (weight step(s) {@code [1, 1]} or {@code [1, nOut]}, if the weights are
 * quantized) and {@value #INPUT_STEP_KEY} (input step {@code [1, 1]}, if the inputs are quantized). A
 * step of 0 means "not initialized yet": the weight step is derived from the weights on first use, the
 * input step from the first training batch or {@link LsqLayers#calibrate}. Step sizes get no L1, L2 or
 * weight decay, and use {@link #getStepUpdater()} when it is set (else the layer's updater). A step
 * parameter holds the step divided by {@link #getStepUnit()} (1 unless set); read and write step values
 * through {@link QuantizedLayer#stepValues} and {@link QuantizedLayer#setStepValues}.
 */
public interface LsqLayerConfig {
    /** The LSQ options of the layer JSON before format version 1, each a layer property of its own. */
    Set<String> PRE_FORMAT_1_PROPERTIES = Set.of("weightBits", "inputBits", "inputSigned", "perChannelWeights",
            "gradientScaleMode", "gradientScaleValue");

    /** Parameter key of the weights. */
    String WEIGHT_KEY = "W";
    /** Parameter key of the bias. */
    String BIAS_KEY = "b";
    /** Parameter key of the weight step size(s). */
    String WEIGHT_STEP_KEY = "sw";
    /** Parameter key of the input step size. */
    String INPUT_STEP_KEY = "sx";

    /**
     * @return the layer's LSQ options: its quantizers and step updater (JSON property {@code lsq});
     *         null only in a configuration read from a file that has none
     */
    LsqOptions getLsq();

    /** @return the weight quantizer, or null if the weights are not quantized */
    @JsonIgnore
    default Quantizer getWeightQuantizer() {
        return getLsq() == null ? null : getLsq().weightQuantizer();
    }

    /** @return the input quantizer, or null if the inputs are not quantized */
    @JsonIgnore
    default Quantizer getInputQuantizer() {
        return getLsq() == null ? null : getLsq().inputQuantizer();
    }

    /** @return the updater of the step sizes, or null for the layer's updater */
    @JsonIgnore
    default IUpdater getStepUpdater() {
        return getLsq() == null ? null : getLsq().stepUpdater();
    }

    /**
     * @return the unit of the step parameters: a step parameter holds {@code s / stepUnit} (1 when the
     *         configuration has no LSQ options)
     * @see LsqOptions
     */
    @JsonIgnore
    default double getStepUnit() {
        return getLsq() == null ? 1 : getLsq().stepUnit();
    }

    /** @return number of output channels / units */
    long getNOut();

    /** @return the axis of the weight tensor that holds the output channels (for per-channel steps) */
    int weightChannelAxis();

    /** @return the class name and, if set, the layer name, for messages */
    String describe();

    /** @return whether the weights are quantized */
    @JsonIgnore
    default boolean isQuantizeWeights() {
        return getWeightQuantizer() != null;
    }

    /** @return whether the inputs are quantized */
    @JsonIgnore
    default boolean isQuantizeInputs() {
        return getInputQuantizer() != null;
    }

    /** @return the number of weight steps: 1, or nOut when per channel */
    default long numWeightSteps() {
        Quantizer w = getWeightQuantizer();
        return w != null && w.isPerChannel() ? getNOut() : 1;
    }

    /**
     * @param paramName a parameter key
     * @return whether it is a step size ({@value #WEIGHT_STEP_KEY} or {@value #INPUT_STEP_KEY})
     */
    static boolean isStepParam(String paramName) {
        return WEIGHT_STEP_KEY.equals(paramName) || INPUT_STEP_KEY.equals(paramName);
    }

    /**
     * Checks the quantizers against the layer: per-channel weight steps on the output-channel axis,
     * one input step per tensor.
     *
     * @param layer the layer configuration
     * @throws IllegalArgumentException naming the layer and the value
     */
    static void validateQuantizers(LsqLayerConfig layer) {
        if (layer.getLsq() == null) {
            throw new IllegalArgumentException(layer.describe() + ": the configuration has no LSQ options ('lsq')");
        }
        Quantizer w = layer.getWeightQuantizer();
        if (w != null && w.isPerChannel() && w.channelAxis() != layer.weightChannelAxis()) {
            throw new IllegalArgumentException(layer.describe() + ": weightQuantizer channelAxis must be "
                    + layer.weightChannelAxis() + " (the axis of the output channels), got " + w.channelAxis());
        }
        Quantizer x = layer.getInputQuantizer();
        if (x != null && x.isPerChannel()) {
            throw new IllegalArgumentException(layer.describe() + ": inputQuantizer must have one step per tensor, got "
                    + x);
        }
    }

    /**
     * Refuses 16-bit floating-point networks: the quantizers' smallest step ({@code 1e-8}) is 0 in HALF
     * and BFLOAT16, and a step of 0 would divide by zero.
     *
     * @param layer    the layer configuration
     * @param dataType the network's data type
     * @throws IllegalArgumentException naming the layer and the type
     */
    static void checkDataType(LsqLayerConfig layer, org.nd4j.linalg.api.buffer.DataType dataType) {
        if (dataType == org.nd4j.linalg.api.buffer.DataType.HALF
                || dataType == org.nd4j.linalg.api.buffer.DataType.BFLOAT16) {
            throw new IllegalArgumentException(layer.describe() + ": network data type " + dataType + " is not "
                    + "supported (the smallest step, 1e-8, is 0 in " + dataType + "); use FLOAT or DOUBLE");
        }
    }

    /**
     * Reads a JSON property that has no setter. The LSQ options of files written before format version 1
     * ({@code weightBits}, {@code inputBits}, ...) would otherwise be dropped without a word, leaving a
     * full-precision layer, so they are refused; other unknown properties are ignored, as DL4J's
     * configuration mapper does.
     *
     * @param layerKind the layer's class name, for the message
     * @param property  the property's name
     * @param value     its value
     * @throws IllegalArgumentException naming the property if it is an LSQ option of an older format
     */
    static void checkUnknownProperty(String layerKind, String property, Object value) {
        if (PRE_FORMAT_1_PROPERTIES.contains(property)) {
            throw new IllegalArgumentException(layerKind + ": configuration property '" + property + "' (= " + value
                    + ") is from a file written before lsq4j's format version " + LsqOptions.FORMAT_VERSION
                    + "; convert the float network again, or set the layer's quantizers");
        }
    }
}
