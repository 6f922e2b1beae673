/**
 * The LSQ quantizer as plain math, with no SameDiff in it: quantization ranges, step layouts,
 * integer codes and values, the paper's gradients, step-size initialization and the gradient scale.
 *
 * <p>{@link io.github.lsq4j.quant.LsqMath} is the reference implementation that the SameDiff op is
 * tested against, and that export and integer inference use.
 */
package io.github.lsq4j.quant;
