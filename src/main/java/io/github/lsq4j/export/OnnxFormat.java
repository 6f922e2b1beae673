package io.github.lsq4j.export;

/**
 * The two forms of an exported model. Both hold the learned integer codes and steps (4-bit codes packed
 * two per byte) and compute the trained network.
 */
public enum OnnxFormat {
    /**
     * QuantizeLinear / DequantizeLinear around float operators: the standard form that accelerator
     * toolchains (TensorRT, OpenVINO, vendor NPU compilers) read and map to their own integer kernels.
     * ONNX Runtime's CPU provider runs its convolutions in float on weights it dequantizes on every call.
     */
    QDQ,
    /**
     * For ONNX Runtime on CPU: batch norm folded into the quantized convolutions, whose float weights the
     * runtime computes from the codes once when it loads the model; dense layers as {@code MatMulInteger}
     * (see {@link Folding}). The same outputs as QDQ, to float rounding.
     */
    FOLDED
}
