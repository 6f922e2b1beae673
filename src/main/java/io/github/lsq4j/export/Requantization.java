package io.github.lsq4j.export;

/**
 * How a quantized convolution writes the next layer's input codes as a {@code QLinearConv}: its INT8
 * weights are the learned codes times {@code weightFactors[c]}, with scale {@code weightScales[c]}, and
 * its INT32 bias is {@code bias[c]}, so that {@code (acc + bias) * s_x * weightScales / s_next} is the
 * layer's output (batch norm folded) in steps of the next quantizer.
 *
 * <p>Each channel's factor is {@code ±k}: the sign of its batch-norm factor (scales must be positive)
 * times the largest {@code k} that keeps the codes in INT8. The products are the same, but the
 * accumulator's unit is {@code k} times finer, so rounding the bias (batch-norm shift included) to it
 * moves the outputs {@code k} times less (at 2 bits {@code k = 63}).
 *
 * @param weightFactors per output channel, {@code ±k}
 * @param weightScales  per output channel, {@code s_w * |a| / k}
 * @param bias          per output channel, in units of {@code s_x * weightScales[c]}
 * @param maxShift      the most by which rounding the bias moves an output, in steps of the next quantizer
 */
record Requantization(int[] weightFactors, float[] weightScales, int[] bias, double maxShift) {

    /**
     * @param layer    the quantized convolution
     * @param nextStep the step of the quantizer its output goes to
     * @return the requantization
     */
    static Requantization of(LoweredLayer layer, float nextStep) {
        int largest = 1;
        for (int code : layer.weightCodes()) {
            largest = Math.max(largest, Math.abs(code));
        }
        int k = Math.max(1, 127 / largest);
        int channels = layer.channels();
        int[] factors = new int[channels];
        float[] scales = new float[channels];
        int[] bias = new int[channels];
        double maxShift = 0;
        for (int c = 0; c < channels; c++) {
            double a = layer.factor(c);
            factors[c] = a < 0 ? -k : k;
            scales[c] = (float) (layer.weightStep(c) * Math.abs(a) / k);
            float unit = (float) layer.inputStep() * scales[c];
            double exact = layer.offset(c) / unit;
            bias[c] = BiasCodes.code(layer.offset(c), unit, layer.name());
            maxShift = Math.max(maxShift, Math.abs(bias[c] - exact) * unit / nextStep);
        }
        return new Requantization(factors, scales, bias, maxShift);
    }
}
