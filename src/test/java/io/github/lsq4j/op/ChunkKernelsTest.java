package io.github.lsq4j.op;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The SIMD-friendly loops of {@link ChunkKernels} against plain reference code, on every float where the
 * arithmetic tricks could go wrong: rounding (ties to even turned into ties away from zero) on every float
 * of magnitude 0.25 to 512 (every tie and its neighbours included), on a sample of smaller ones with all
 * subnormal edge cases; the clip mask on both sides of every range's bounds.
 */
class ChunkKernelsTest {
    private static final int N = 4096;

    /**
     * The reference rounding, half away from zero as ND4J's {@code round} ({@link LsqMath#round}), with
     * zero as +0 (the sign of zero is not compared).
     */
    private static float referenceRound(float c) {
        return (float) LsqMath.round(c) + 0.0f;
    }

    @Test
    void roundsHalfAwayFromZeroOnEveryFloatFromAQuarterTo512() {
        int from = Float.floatToIntBits(0.25f);
        int to = Float.floatToIntBits(512f);
        float[] batch = new float[N];
        int filled = 0;
        for (int bits = from; bits < to; bits++) {
            float c = Float.intBitsToFloat(bits);
            batch[filled++] = c;
            batch[filled++] = -c;
            if (filled == N) {
                checkRounding(batch, filled);
                filled = 0;
            }
        }
        checkRounding(batch, filled);
    }

    @Test
    void roundsSmallAndSubnormalValues() {
        float[] batch = new float[N];
        int filled = 0;
        float[] edges = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Math.nextDown(Float.MIN_NORMAL),
            Math.nextDown(0.25f), Math.nextDown(0.5f), 0.5f, Math.nextUp(0.5f), -Math.nextDown(0.5f), -0.5f};
        for (float c : edges) {
            batch[filled++] = c;
        }
        for (int bits = 1; bits < Float.floatToIntBits(0.25f); bits += 4099) {
            batch[filled++] = Float.intBitsToFloat(bits);
            batch[filled++] = -Float.intBitsToFloat(bits);
            if (filled >= N - 1) {
                checkRounding(batch, filled);
                filled = 0;
            }
        }
        checkRounding(batch, filled);
    }

    private static void checkRounding(float[] values, int n) {
        float[] one = new float[n];
        java.util.Arrays.fill(one, 1f);
        float[] scaled = new float[n];
        float[] clipped = new float[n];
        float[] code = new float[n];
        ChunkKernels.scaleClipRint(values, one, n, -1000f, 1000f, scaled, clipped, code);
        ChunkKernels.tiesAwayFromZero(clipped, n, code);
        for (int k = 0; k < n; k++) {
            // +0.0f: the kernels may give -0 where the reference gives +0
            if (code[k] + 0.0f != referenceRound(values[k])) {
                fail("round(" + values[k] + ") = " + code[k] + ", expected " + referenceRound(values[k]));
            }
        }
    }

    @Test
    void clipsToEachRangeAndMasksStrictlyInside() {
        Random random = new Random(3);
        for (Quantizer q : new Quantizer[] {Quantizer.signed(2), Quantizer.unsigned(2), Quantizer.signed(3),
            Quantizer.signed(4), Quantizer.unsigned(4), Quantizer.signed(8), Quantizer.unsigned(8)}) {
            QuantRange range = q.range();
            float lo = (float) -range.qn();
            float hi = (float) range.qp();
            float[] v = new float[N];
            int k = 0;
            for (float bound : new float[] {lo, hi}) {
                v[k++] = bound;
                v[k++] = Math.nextUp(bound);
                v[k++] = Math.nextDown(bound);
                v[k++] = bound + 0.5f;
                v[k++] = bound - 0.5f;
            }
            v[k++] = Float.MIN_VALUE;
            v[k++] = -Float.MIN_VALUE;
            v[k++] = Float.POSITIVE_INFINITY;
            v[k++] = Float.NEGATIVE_INFINITY;
            while (k < N) {
                v[k++] = (float) (random.nextGaussian() * hi);
            }
            float[] one = new float[N];
            java.util.Arrays.fill(one, 1f);
            float[] scaled = new float[N];
            float[] clipped = new float[N];
            float[] code = new float[N];
            float[] inside = new float[N];
            ChunkKernels.scaleClipRint(v, one, N, lo, hi, scaled, clipped, code);
            ChunkKernels.tiesAwayFromZero(clipped, N, code);
            ChunkKernels.insideMask(scaled, N, lo, hi, inside);
            for (int i = 0; i < N; i++) {
                float x = v[i];
                assertEquals(referenceRound(Math.min(Math.max(x, lo), hi)), code[i] + 0.0f, q + " code of " + x);
                assertEquals(lo < x && x < hi ? 1f : 0f, inside[i], q + " inside mask of " + x);
            }
        }
    }

    @Test
    void stepGradientTermsAndMaskedGradient() {
        float[] e = {2f, -3f, 0.5f, 4f};
        float[] inside = {1f, 0f, 1f, 0f};
        float[] scaled = {1.25f, 9f, -0.75f, -9f};
        float[] code = {1f, 7f, -1f, -8f};
        ChunkKernels.stepGradientTerms(e, inside, scaled, 4, code);
        // e * (round(c) - inside * v/s)
        assertEquals(2f * (1f - 1.25f), code[0]);
        assertEquals(-3f * 7f, code[1]);
        assertEquals(0.5f * (-1f + 0.75f), code[2]);
        assertEquals(4f * -8f, code[3]);
        // e * inside
        assertEquals(2f, e[0]);
        assertEquals(0f, e[1] + 0.0f);
        assertEquals(0.5f, e[2]);
        assertEquals(0f, e[3]);
    }

    @Test
    void sumsInDoubleAndCountsNonFinite() {
        float[] a = new float[1003];
        java.util.Arrays.fill(a, 0.1f);
        assertEquals(1003 * (double) 0.1f, ChunkKernels.sum(a, 0, 1003), 1e-9);
        assertEquals(2 * (double) 0.1f, ChunkKernels.sum(a, 1000, 1002), 1e-12);
        assertEquals(0, ChunkKernels.countNonFinite(a, 1003));
        a[7] = Float.NaN;
        a[500] = Float.NEGATIVE_INFINITY;
        a[1002] = Float.POSITIVE_INFINITY;
        assertEquals(3, ChunkKernels.countNonFinite(a, 1003));
        assertEquals(2, ChunkKernels.countNonFinite(a, 1002));
    }
}
