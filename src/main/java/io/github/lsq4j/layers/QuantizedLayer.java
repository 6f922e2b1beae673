package io.github.lsq4j.layers;

import org.deeplearning4j.nn.api.Layer;

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

    /** @return the layer's input quantizer at run time (calibration state included) */
    InputQuantization inputQuantization();
}
