package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.global.dnnl;

/**
 * A batch norm at inference, {@code (y - mean[c]) * factor[c] + beta[c]} with {@code factor = gamma / sqrt(var +
 * eps)}, run as three per-channel post-ops of the op before it, in this order.
 *
 * <p>The same float operations as the batch-norm layer, in its order (subtract the mean, then scale and shift),
 * so that values near a quantizer's rounding boundary land where the float path puts them.
 *
 * @param mean   the running mean per channel
 * @param factor {@code gamma / sqrt(var + eps)} per channel
 * @param beta   the shift per channel
 */
record BatchNorm(float[] mean, float[] factor, float[] beta) {

    /** @return {@code -mean}: what the first post-op adds (negation is exact) */
    float[] negatedMean() {
        float[] negated = new float[mean.length];
        for (int c = 0; c < negated.length; c++) {
            negated[c] = -mean[c];
        }
        return negated;
    }

    /** Appends the batch norm's three post-ops. */
    void appendTo(PostOpChain chain) {
        chain.perChannel(dnnl.algorithm.binary_add, negatedMean()).perChannel(dnnl.algorithm.binary_mul, factor)
                .perChannel(dnnl.algorithm.binary_add, beta);
    }
}
