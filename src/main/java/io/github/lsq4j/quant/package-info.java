/**
 * The LSQ quantizer as plain math, with no SameDiff in it: the {@link io.github.lsq4j.quant.Quantizer}
 * value (bits, signedness, per-channel axis, gradient-scale policy) that the whole library shares,
 * quantization ranges, step layouts, integer codes and values, the paper's gradients, step-size
 * initialization and the gradient scale.
 *
 * <p>{@link io.github.lsq4j.quant.LsqMath} is the reference implementation that the SameDiff op and the
 * eager quantizer are tested against, and that integer export uses.
 */
package io.github.lsq4j.quant;
