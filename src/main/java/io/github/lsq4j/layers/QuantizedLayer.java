package io.github.lsq4j.layers;

import org.deeplearning4j.nn.api.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A runtime layer with LSQ quantizers, as a network holds it: {@link LsqRuntimeLayer} (of
 * {@link LsqDense} and {@link LsqConv2D}) or {@link LsqOutputRuntimeLayer} (of {@link LsqOutputLayer}).
 * {@link LsqLayers} finds them in a network.
 */
public interface QuantizedLayer extends Layer {

    /** @return the layer's LSQ configuration */
    LsqLayerConfig lsqConf();

    /** @return the layer name, or its index if it has none */
    default String name() {
        String n = conf().getLayer().getLayerName();
        return n != null ? n : String.valueOf(getIndex());
    }

    /**
     * Sets the weight step(s) from the current weights, {@code 2 * mean|w| / sqrt(Qp)} (per output
     * channel if configured). Call it after copying pretrained weights into a layer that has already
     * run; before the first forward pass this happens by itself.
     *
     * @throws IllegalStateException if the layer does not quantize its weights
     */
    default void initWeightSteps() {
        WeightSteps.initialize(this);
    }

    /**
     * The layer's integer view: weight codes and steps, input quantizer and step, bias. An
     * uninitialized weight step is derived from the weights first.
     *
     * @return the integer parameters
     * @throws IllegalStateException if weights are not quantized, or inputs are quantized but the input
     *                               step is not initialized yet (train or calibrate first)
     */
    default LsqIntegerParams integerParams() {
        return WeightSteps.integerParams(this);
    }

    /**
     * The steps a step parameter holds, whatever the layer's step unit ({@link LsqLayerConfig#getStepUnit()}):
     * read steps here, not from {@code getParam}, which holds {@code s / unit}.
     *
     * @param key {@link LsqLayerConfig#WEIGHT_STEP_KEY} or {@link LsqLayerConfig#INPUT_STEP_KEY}
     * @return a copy of the steps, in the parameter's shape ({@code 0} = not initialized yet)
     * @throws IllegalArgumentException if the layer has no such parameter (that quantizer is off)
     */
    default INDArray stepValues(String key) {
        checkStepKey(key);
        return StepParams.values(this, key).dup();
    }

    /**
     * Sets steps, whatever the layer's step unit: e.g. steps trained elsewhere.
     *
     * @param key    {@link LsqLayerConfig#WEIGHT_STEP_KEY} or {@link LsqLayerConfig#INPUT_STEP_KEY}
     * @param values the steps, as many as the parameter holds, each finite and {@code > 0}
     * @throws IllegalArgumentException naming the layer if the layer has no such parameter, or a value's count
     *                                  or sign is wrong
     */
    default void setStepValues(String key, INDArray values) {
        checkStepKey(key);
        INDArray p = getParam(key);
        if (values.length() != p.length()) {
            throw new IllegalArgumentException(lsqConf().describe() + ": " + key + " holds " + p.length()
                    + " step(s), got " + values.length() + " values");
        }
        double min = values.minNumber().doubleValue();
        if (!(min > 0) || Double.isInfinite(values.maxNumber().doubleValue())) {
            throw new IllegalArgumentException(lsqConf().describe() + ": steps must be finite and > 0, got " + values);
        }
        StepParams.assign(this, key, values);
    }

    private void checkStepKey(String key) {
        if (!LsqLayerConfig.isStepParam(key) || getParam(key) == null) {
            throw new IllegalArgumentException(lsqConf().describe() + " has no step parameter '" + key + "' (its "
                    + "parameters: " + paramTable().keySet() + ")");
        }
    }

    /** @return the layer's input quantizer at run time (calibration state included) */
    InputQuantization inputQuantization();
}
