package io.github.lsq4j.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An LSQ layer's linear operation as its runtime layer runs it: the ND4J ops that its SameDiff graph
 * ({@link AbstractLsqLayer#defineLayer}) is made of, executed directly on the layer's arrays, as DL4J's
 * stock layers execute theirs. {@code LsqSameDiffGraphTest} checks that both compute the same.
 */
interface EagerLinear {
    /**
     * @param x the (quantized) input
     * @return the shape of the output for it
     */
    long[] outputShape(INDArray x);

    /**
     * {@code out = linear(x, w) + bias}.
     *
     * @param x    the (quantized) input
     * @param w    the (quantized) weights
     * @param bias the bias {@code [nOut]}, or null
     * @param out  receives the pre-activation output, of {@link #outputShape}
     */
    void forward(INDArray x, INDArray w, INDArray bias, INDArray out);

    /**
     * The gradients of the inputs of {@link #forward}.
     *
     * @param x    the input of the forward pass
     * @param w    the weights of the forward pass
     * @param bias the bias, or null
     * @param dz   {@code dL/dout}
     * @param dx   receives {@code dL/dx}
     * @param dw   receives {@code dL/dw}
     * @param db   receives {@code dL/dbias}; null without bias
     */
    void backward(INDArray x, INDArray w, INDArray bias, INDArray dz, INDArray dx, INDArray dw, INDArray db);
}
