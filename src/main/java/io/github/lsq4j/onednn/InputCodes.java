package io.github.lsq4j.onednn;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A float input quantized to codes in Java, {@code round(clip(x * (1/s), -Qn, Qp))} with lsq4j's rounding
 * (half away from zero), and moved from DL4J's channels-first layout to channels-last in the same pass: the
 * first quantizer of a network, and the input quantizer of an LSQ layer on its integer path. Computes the codes
 * the float path computes, bit for bit.
 */
final class InputCodes {
    /** Below this many elements, one thread: forking costs more than it saves. */
    private static final long PARALLEL_MIN = 1 << 16;

    private InputCodes() {
    }

    /**
     * @param x     {@code [N, C, H, W]} or {@code [N, C]}, float, C order, from element 0
     * @param codes the quantizer
     * @param dst   receives the codes as bytes, {@code [N, H, W, C]} or {@code [N, C]}
     * @return how many elements of {@code x} are NaN or infinite (quantized to a clamped code, not refused here)
     */
    static long write(INDArray x, Codes codes, ByteBuffer dst) {
        FloatBuffer src = x.data().asNioFloat();
        int examples = (int) x.size(0);
        int channels = (int) x.size(1);
        int plane = (int) (x.length() / examples / channels);
        IntStream range = IntStream.range(0, examples);
        if (x.length() >= PARALLEL_MIN) {
            range = range.parallel();
        }
        return range.mapToLong(n -> example(src, dst, n, channels, plane, codes)).sum();
    }

    private static long example(FloatBuffer src, ByteBuffer dst, int n, int channels, int plane, Codes codes) {
        int size = channels * plane;
        float[] x = new float[size];
        byte[] out = new byte[size];
        src.get(n * size, x);
        float reciprocal = codes.reciprocal();
        float lo = -codes.qn();
        float hi = codes.qp();
        long nonFinite = 0;
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < plane; p++) {
                float v = x[c * plane + p];
                if (!Float.isFinite(v)) {
                    nonFinite++;
                }
                float q = Math.min(Math.max(v * reciprocal, lo), hi);
                // Math.round is floor(q + 1/2), exact: half up; mirrored below zero, half away from zero
                out[p * channels + c] = (byte) (q >= 0 ? Math.round(q) : -Math.round(-q));
            }
        }
        dst.put(n * size, out);
        return nonFinite;
    }
}
