package io.github.lsq4j.export;

import io.github.lsq4j.layers.LsqIntegerParams;

/**
 * A quantized layer's bias in the accumulator's unit: {@code codes[c] = round(b[c] / scale[c])},
 * half to even, with {@code scale[c] = s_x * s_w[c]} computed in float (as runtimes compute it).
 *
 * @param codes  the INT32 codes, one per output channel
 * @param scales the scale: one element for a per-tensor weight step, else one per output channel
 */
public record BiasCodes(int[] codes, float[] scales) {

    /**
     * @param p a layer's integer view, with a bias and both quantizers on
     * @return its bias codes
     * @throws IllegalStateException if a code does not fit in INT32 (a step collapsed to almost zero)
     */
    public static BiasCodes of(LsqIntegerParams p) {
        float[] bias = p.bias().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).data().asFloat();
        float[] weightSteps = p.weightSteps().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).data().asFloat();
        float[] scales = new float[weightSteps.length];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) p.inputStep() * weightSteps[i];
        }
        int[] codes = new int[bias.length];
        for (int c = 0; c < bias.length; c++) {
            codes[c] = code(bias[c], scales[scales.length == 1 ? 0 : c], p.layerName());
        }
        return new BiasCodes(codes, scales);
    }

    /**
     * @param value the bias value
     * @param scale the accumulator's unit
     * @param layer the layer's name, for the error
     * @return {@code round(value / scale)}, half to even
     * @throws IllegalStateException if the code does not fit in INT32 (a step collapsed to almost zero)
     */
    static int code(double value, double scale, String layer) {
        double code = Math.rint(value / scale);
        if (Math.abs(code) > Integer.MAX_VALUE) {
            throw new IllegalStateException("layer " + layer + ": bias " + value + " is " + code
                    + " units of s_x * s_w, beyond INT32");
        }
        return (int) code;
    }

    /** @return the bias as the exported model computes with it: {@code codes[c] * scale[c]}, in float */
    public float[] values() {
        float[] v = new float[codes.length];
        for (int c = 0; c < v.length; c++) {
            v[c] = codes[c] * scales[scales.length == 1 ? 0 : c];
        }
        return v;
    }
}
