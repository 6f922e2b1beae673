package io.github.lsq4j.layers;

import io.github.lsq4j.op.ArrayEquality;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A layer's integer inference path: the {@link IntegerKernel} of its current parameters, kept while they are
 * unchanged (the rule of {@link QuantizedWeights}: weights, steps and bias compared by content on every pass,
 * since DL4J changes parameters in place by paths that tell no layer) and for the last input shape. Calls are
 * serialized: a network's {@code output} may be called from several threads, and the kernel is replaced in place.
 */
final class IntegerPath {
    private final QuantizedLayer layer;
    private IntegerKernel kernel;
    private long[] kernelShape;
    /** Copies of the parameters the kernel was made from; null before the first kernel. */
    private INDArray keptParams;

    IntegerPath(QuantizedLayer layer) {
        this.layer = layer;
    }

    /**
     * Computes the layer's pre-activation on integer kernels, if they apply to this pass.
     *
     * @param x   the layer input
     * @param out receives the pre-activation (float, C order)
     * @return false if the float path must run: no kernels, the input step not initialized, calibration running,
     *         or data that is not float
     */
    synchronized boolean forward(INDArray x, INDArray out) {
        IntegerKernelProvider provider = IntegerInference.active();
        LsqLayerConfig conf = layer.lsqConf();
        if (provider == null || !conf.isQuantizeInputs() || !conf.isQuantizeWeights()
                || layer.inputQuantization().isCalibrating() || layer.inputQuantization().storedStep() == 0
                || x.dataType() != DataType.FLOAT || out.dataType() != DataType.FLOAT || out.ordering() != 'c') {
            return false;
        }
        long[] shape = Arrays.copyOfRange(x.shape(), 1, x.rank());
        INDArray params = layer.params();
        if (kernel == null || !Arrays.equals(shape, kernelShape) || !ArrayEquality.sameValues(params, keptParams)) {
            close();
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                kernel = provider.kernel(layer, shape); // what it keeps outlives this pass's workspaces
                keptParams = params.dup('c');
            }
            kernelShape = shape;
        }
        try {
            kernel.forward(x, out);
        } catch (IntegerKernel.NonFiniteInputException e) {
            throw layer.inputQuantization().nonFiniteInput(e.getMessage());
        }
        return true;
    }

    /** Frees the kernel. */
    synchronized void close() {
        if (kernel != null) {
            kernel.close();
            kernel = null;
        }
    }
}
