package io.github.lsq4j.export;

import io.github.lsq4j.layers.LsqIntegerParams;
import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A quantized layer's bias in the accumulator's unit: {@code codes[c] = round(b[c] / scale[c])},
 * half to even, with {@code scale[c] = s_x * s_w[c]} computed in float (as runtimes compute it).
 *
 * @param codes  the INT32 codes, one per output channel
 * @param scales the scale: one element for a per-tensor weight step, else one per output channel
 */
public record BiasCodes(int[] codes, float[] scales) {
    private static final Logger log = LoggerFactory.getLogger(BiasCodes.class);

    /**
     * The layer's bias codes, if every one fits in INT32. A layer whose input is nearly dead learns an
     * input step near zero, and then a bias of ordinary size is billions of units of {@code s_x * s_w}
     * (a 4-bit UNet after three training steps: a bias of -19.08 was -1.04e10 units). Such a bias has no
     * INT32 form; the export keeps it in float and adds it after the layer, and this says so at INFO,
     * naming the layer, the bias and its units.
     *
     * @param p a layer's integer view, with a bias and both quantizers on
     * @return its bias codes, or empty if a channel's code does not fit in INT32
     */
    public static Optional<BiasCodes> of(LsqIntegerParams p) {
        float[] bias = p.bias().castTo(DataType.FLOAT).data().asFloat();
        float[] weightSteps = p.weightSteps().castTo(DataType.FLOAT).data().asFloat();
        float[] scales = new float[weightSteps.length];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) p.inputStep() * weightSteps[i];
        }
        int[] codes = new int[bias.length];
        for (int c = 0; c < bias.length; c++) {
            double code = Math.rint((double) bias[c] / scales[scales.length == 1 ? 0 : c]);
            if (!fitsInInt32(code)) {
                log.info("layer {}: bias {} is {} units of s_x * s_w (input step {}), beyond INT32: its bias is "
                        + "exported in float, added after the layer", p.layerName(), bias[c], code, (float) p.inputStep());
                return Optional.empty();
            }
            codes[c] = (int) code;
        }
        return Optional.of(new BiasCodes(codes, scales));
    }

    /** @return whether a rounded code is an INT32 value (false for NaN, a zero bias over a zero scale) */
    private static boolean fitsInInt32(double code) {
        return Math.abs(code) <= Integer.MAX_VALUE;
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
