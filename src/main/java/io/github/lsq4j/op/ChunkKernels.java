package io.github.lsq4j.op;

/**
 * The loops of {@link FusedCpuQuantizer}, over the first {@code n} elements of a chunk's Java arrays.
 * Each is kept short and made of float multiply, add, subtract, min and max only, so that HotSpot's C2
 * turns it into SIMD code. Measured on JDK 17 (BENCHMARKS.md): a rounding through {@code (int)} with
 * {@code copySign}, a {@code ?:} on floats, or two independent {@code Math.max} in one loop each keep a
 * loop scalar and 5-20x slower; hence the arithmetic forms below, each exact for every float.
 */
final class ChunkKernels {
    /** {@code (c + RINT) - RINT} is {@code c} rounded to an integer, ties to even, for {@code |c| < 2^22}. */
    private static final float RINT = 0x1.8p23f;
    /**
     * Scales a difference of floats so that any nonzero one, even the smallest subnormal (2^-149), exceeds
     * 1 (or overflows to infinity): a clamp to [0, 1] of the product is then exactly 0 or 1.
     */
    private static final float HUGE = 0x1p100f;

    private ChunkKernels() {
    }

    /**
     * {@code scaled = x * reciprocal}, {@code clipped = clip(scaled, lo, hi)} and {@code rint} = the clipped
     * value rounded to an integer, ties to even; a NaN stays NaN.
     */
    static void scaleClipRint(float[] x, float[] reciprocal, int n, float lo, float hi, float[] scaled,
                              float[] clipped, float[] rint) {
        for (int k = 0; k < n; k++) {
            float s = x[k] * reciprocal[k];
            float c = Math.min(Math.max(s, lo), hi);
            scaled[k] = s;
            clipped[k] = c;
            rint[k] = (c + RINT) - RINT;
        }
    }

    /**
     * Turns {@code rint(c)} (ties to even) into {@code round(c)}, ties away from zero as ND4J's
     * {@code round}: at a tie that went toward zero, one step away from it. With {@code d = c - rint(c)}
     * (exact, in [-0.5, 0.5]) and {@code g = clip(2c, -1, 1)} (the sign of {@code c} wherever
     * {@code |c| >= 0.5}, so at every tie), {@code d * g == 0.5} exactly at such a tie and is at most
     * 0.5 - 2^-24 elsewhere; {@code d * g * 2^25 - (2^24 - 1)} is then 1 at such a tie and at most -1
     * elsewhere, so its max with 0 is the step to add, times {@code g}.
     *
     * @param clipped the clipped values {@code c}
     * @param code    on entry {@code rint(c)}, on return {@code round(c)}
     */
    static void tiesAwayFromZero(float[] clipped, int n, float[] code) {
        for (int k = 0; k < n; k++) {
            float c = clipped[k];
            float r = code[k];
            float g = Math.min(Math.max(c * 2f, -1f), 1f);
            code[k] = r + g * Math.max((c - r) * g * 0x1p25f - (0x1p24f - 1f), 0f);
        }
    }

    /** {@code out = a * b}. */
    static void multiply(float[] a, float[] b, int n, float[] out) {
        for (int k = 0; k < n; k++) {
            out[k] = a[k] * b[k];
        }
    }

    /**
     * The paper's clip decision on {@code v/s} before rounding: 1 where {@code lo < scaled < hi}
     * (strictly, as its hardtanh), else 0. The sign of a float difference is exact, and a nonzero one
     * times {@link #HUGE} twice is at least 1.
     */
    static void insideMask(float[] scaled, int n, float lo, float hi, float[] inside) {
        for (int k = 0; k < n; k++) {
            float s = scaled[k];
            inside[k] = Math.min(Math.max(Math.min(s - lo, hi - s) * HUGE * HUGE, 0f), 1f);
        }
    }

    /**
     * The step gradient's terms {@code e * (round(c) - inside * v/s)} into {@code code}, and the gradient
     * of {@code v}, {@code e * inside}, into {@code e}. {@code round(c) - v/s} is exact where inside (the
     * two are within 0.5), so each term is the exact product rounded once to float.
     *
     * @param e      on entry {@code dL/dvhat}, on return {@code dL/dv}
     * @param inside the mask of {@link #insideMask}
     * @param scaled {@code v/s}
     * @param code   on entry {@code round(c)}, on return the terms
     */
    static void stepGradientTerms(float[] e, float[] inside, float[] scaled, int n, float[] code) {
        for (int k = 0; k < n; k++) {
            float ek = e[k];
            float m = inside[k];
            code[k] = ek * (code[k] - m * scaled[k]);
            e[k] = ek * m;
        }
    }

    /** The sum of {@code a[from..to)} in double, four partial sums. */
    static double sum(float[] a, int from, int to) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int k = from;
        for (; k + 3 < to; k += 4) {
            s0 += a[k];
            s1 += a[k + 1];
            s2 += a[k + 2];
            s3 += a[k + 3];
        }
        for (; k < to; k++) {
            s0 += a[k];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * How many of {@code x[0..n)} are NaN or infinite: a max of magnitudes (a NaN propagates through
     * {@code Math.max}) tells whether there are any, and only then a second loop counts them.
     */
    static long countNonFinite(float[] x, int n) {
        float largest = 0f;
        for (int k = 0; k < n; k++) {
            largest = Math.max(largest, Math.abs(x[k]));
        }
        if (largest <= Float.MAX_VALUE) {
            return 0;
        }
        long count = 0;
        for (int k = 0; k < n; k++) {
            if (!(Math.abs(x[k]) <= Float.MAX_VALUE)) {
                count++;
            }
        }
        return count;
    }
}
