package io.github.lsq4j.convert;

import io.github.lsq4j.layers.LsqLayerBuilder;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One row of the conversion table: how a float layer of one type becomes an LSQ layer.
 *
 * <p>{@link #fromFloat} returns a builder holding everything the float layer defines (sizes,
 * geometry, activation, loss, bias, updaters, regularization); the converter adds the quantizers the
 * {@link QuantizationPolicy} chooses and builds it. The LSQ layer takes the float layer's place and name.
 */
public interface LayerMapping {

    /**
     * @param floatLayer the float layer's configuration
     * @return a builder for its LSQ replacement, without LSQ settings
     * @throws IllegalArgumentException if this float layer's settings cannot be reproduced (naming
     *                                  the layer and the setting)
     */
    LsqLayerBuilder<?> fromFloat(Layer floatLayer);

    /**
     * Copies the float layer's trained parameters into the LSQ layer's (weights converted to its
     * layout). Step sizes are left at 0, "not initialized": the LSQ layer derives the weight steps from
     * the copied weights and the input step from the first batch or from calibration.
     *
     * @param floatParams the float layer's parameters by key
     * @param lsqParams   the LSQ layer's parameters by key, written in place
     */
    void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams);

    /**
     * For a float layer that becomes two LSQ layers in sequence (a separable convolution becomes a
     * depthwise and a pointwise convolution): the builder of the first of them, which reads the float
     * layer's inputs and feeds the layer of {@link #fromFloat}, which takes the float layer's place and
     * name. The converter adds the quantizers: the first layer's input is the float layer's, the second
     * layer's is the first's output, quantized like any other layer input.
     *
     * @param floatLayer the float layer's configuration
     * @return a builder for the first layer, without LSQ settings; null (the default) if the float layer
     *         becomes one layer
     */
    default LsqLayerBuilder<?> precedingFromFloat(Layer floatLayer) {
        return null;
    }

    /**
     * Copies the float layer's parameters into the two LSQ layers of a float layer with a
     * {@linkplain #precedingFromFloat preceding layer}.
     *
     * @param floatParams     the float layer's parameters by key
     * @param precedingParams the first LSQ layer's parameters, written in place
     * @param lsqParams       the second LSQ layer's parameters, written in place
     * @throws UnsupportedOperationException if the mapping has no preceding layer (the default)
     */
    default void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> precedingParams,
                            Map<String, INDArray> lsqParams) {
        throw new UnsupportedOperationException(getClass().getName() + " maps a float layer to one LSQ layer");
    }
}
