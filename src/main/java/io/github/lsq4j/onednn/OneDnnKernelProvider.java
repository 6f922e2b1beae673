package io.github.lsq4j.onednn;

import io.github.lsq4j.layers.IntegerKernel;
import io.github.lsq4j.layers.IntegerKernelProvider;
import io.github.lsq4j.layers.QuantizedLayer;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * oneDNN's int8 kernels for LSQ layers at inference ({@link io.github.lsq4j.layers.IntegerInference}), registered
 * with {@link java.util.ServiceLoader}. A layer's kernel is the compiled program of its linear operation: the
 * input moved channels-last and quantized to codes (oneDNN's rounding: ties to even), the int8 convolution or inner product
 * with the per-channel rescale and bias, the result moved back channels-first.
 */
public final class OneDnnKernelProvider implements IntegerKernelProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public OneDnnKernelProvider() {
    }

    @Override
    public boolean isAvailable() {
        return OneDnn.isAvailable();
    }

    @Override
    public String describe() {
        return OneDnn.isaDescription();
    }

    @Override
    public IntegerKernel kernel(QuantizedLayer layer, long[] inputShape) {
        IntegerNetwork program = new IntegerNetwork(NetworkCompiler.linearOperation(layer, inputShape),
                List.of(inputShape.clone()));
        return new IntegerKernel() {
            @Override
            public void forward(INDArray x, INDArray out) {
                program.run(new INDArray[] {x}, new INDArray[] {out});
            }

            @Override
            public void close() {
                program.close();
            }
        };
    }
}
