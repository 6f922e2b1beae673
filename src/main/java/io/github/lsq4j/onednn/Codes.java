package io.github.lsq4j.onednn;

import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;

/**
 * How a tensor is held as LSQ integer codes: {@code value = code * step}, {@code code} in {@code [-qn, qp]},
 * stored as unsigned bytes when {@code qn == 0} and signed bytes otherwise. The codes of a tensor are those
 * of the quantizer that reads it, {@code round(clip(v * (1/step), -qn, qp))}.
 *
 * @param step  the step size as the quantizer uses it (guarded to at least {@link LsqMath#MIN_STEP}), in float
 * @param range the codes' range
 */
record Codes(float step, QuantRange range) {

    /**
     * @param quantizer a per-tensor quantizer
     * @param step      its step
     * @return its codes
     */
    static Codes of(Quantizer quantizer, double step) {
        return new Codes((float) Math.max(step, LsqMath.MIN_STEP), quantizer.range());
    }

    /** @return the magnitude of the most negative code */
    int qn() {
        return range.qn();
    }

    /** @return the largest code */
    int qp() {
        return range.qp();
    }

    /** @return whether codes can be negative (stored as s8) */
    boolean signed() {
        return range.signed();
    }

    /** @return {@code 1/step} rounded to float, the factor the quantizer multiplies by */
    float reciprocal() {
        return 1f / step;
    }
}
