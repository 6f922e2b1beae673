package io.github.lsq4j.op;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The outputs of one quantizer in a SameDiff graph. As in Brevitas, the step that produced the
 * value travels with it, so integer export never recomputes it.
 *
 * @param value the quantized value {@code vhat = codes * step}, with the paper's gradients
 * @param codes the integer codes {@code vbar} (integer-valued floats, no gradient)
 * @param step  the step size actually used, reshaped to broadcast against the data (guarded to at
 *              least {@link io.github.lsq4j.quant.LsqMath#MIN_STEP})
 */
public record QuantizedVariable(SDVariable value, SDVariable codes, SDVariable step) {
}
