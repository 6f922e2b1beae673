package io.github.lsq4j.layers;

import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.Quantizer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The integer view of one LSQ layer: what the layer computes equals integer arithmetic on these
 * codes, rescaled by the steps. For a dense layer,
 * {@code out = act((inputCodes(x) . weightCodes) * inputStep * weightSteps + bias)}; for a
 * convolution the same with an integer convolution. Codes use the rounding of {@link LsqMath}
 * (half away from zero), as training does.
 *
 * @param layerName       the layer's name (or index)
 * @param weightQuantizer the weight quantizer (its range, and how the steps map onto the weights)
 * @param weightCodes     the weight codes, INT32, in the layer's weight layout ({@code [nIn, nOut]} for
 *                        {@link LsqDense}, {@code [kH, kW, nIn, nOut]} for {@link LsqConv2D})
 * @param weightSteps     the weight step(s), a vector of 1 or {@code nOut} elements
 * @param inputQuantizer  the input quantizer, or null if the layer does not quantize its inputs
 * @param inputStep       the input step, or NaN if the layer does not quantize its inputs
 * @param bias            the bias, a vector of {@code nOut} elements, or null if the layer has none
 */
public record LsqIntegerParams(String layerName, Quantizer weightQuantizer, INDArray weightCodes, INDArray weightSteps,
                               Quantizer inputQuantizer, double inputStep, INDArray bias) {

    /**
     * The integer codes of a layer input, {@code round(clip(x / inputStep, -Qn, Qp))}.
     *
     * @param x the layer's input
     * @return the codes, INT32, of {@code x}'s shape
     * @throws IllegalStateException if the layer does not quantize its inputs
     */
    public INDArray inputCodes(INDArray x) {
        if (inputQuantizer == null) {
            throw new IllegalStateException("layer " + layerName + " does not quantize its inputs");
        }
        return LsqMath.codes(x, inputQuantizer, Nd4j.createFromArray(inputStep));
    }
}
