package io.github.lsq4j.export;

/**
 * The two forms of an exported model. Both hold the learned integer codes and steps (4-bit codes packed
 * two per byte) and compute the trained network.
 */
public enum OnnxFormat {
    /**
     * QuantizeLinear / DequantizeLinear around float operators: the standard form that accelerator
     * toolchains (TensorRT, OpenVINO, vendor NPU compilers) read and map to their own integer kernels.
     * ONNX Runtime's CPU provider runs most of its convolutions in float.
     */
    QDQ,
    /**
     * Integer operators for ONNX Runtime's CPU provider: batch norm folded into the quantized layers,
     * {@code QLinearConv} where a layer's output goes only to the next layer's input quantizer,
     * {@code ConvInteger} / {@code MatMulInteger} with a float rescale where float operations follow
     * (see {@link IntegerLowering}).
     */
    INTEGER
}
