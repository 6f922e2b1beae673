package io.github.lsq4j.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An LSQ layer's linear operation on integers, for the parameters it was made from: the input's codes times
 * the weight codes, summed in INT32, then {@code sum * s_x * s_w[c] + bias[c]} in float: the layer's
 * pre-activation.
 */
public interface IntegerKernel extends AutoCloseable {

    /**
     * @param x   the layer input, float, C order
     * @param out receives the pre-activation, float, C order, of the layer's output shape
     * @throws NonFiniteInputException if {@code x} holds NaN or infinite values
     */
    void forward(INDArray x, INDArray out);

    /** Frees the kernel's native memory. */
    @Override
    void close();

    /** An input held NaN or infinite values, which a quantizer would clamp into range and hide. */
    class NonFiniteInputException extends IllegalArgumentException {
        private final long count;

        /**
         * @param count how many values were NaN or infinite
         * @param of    how many values the input held
         */
        public NonFiniteInputException(long count, long of) {
            super(count + " of " + of + " values");
            this.count = count;
        }

        /** @return how many values were NaN or infinite */
        public long count() {
            return count;
        }
    }
}
