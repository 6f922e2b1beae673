package io.github.lsq4j.layers;

/**
 * A source of integer kernels for LSQ layers at inference, found with {@link java.util.ServiceLoader}: lsq4j's
 * own is {@code io.github.lsq4j.onednn.OneDnnKernelProvider}, available when oneDNN is on the class path.
 */
public interface IntegerKernelProvider {

    /** @return whether the kernels can run here (their native library loaded) */
    boolean isAvailable();

    /** @return what runs, for the log: the library, its version and the instruction set */
    String describe();

    /**
     * A kernel for the layer's linear operation on the layer's current parameters.
     *
     * @param layer      an LSQ layer that quantizes its inputs and weights, input step initialized
     * @param inputShape the shape of one input example, without the batch axis
     * @return the kernel; the caller owns it and closes it
     */
    IntegerKernel kernel(QuantizedLayer layer, long[] inputShape);
}
