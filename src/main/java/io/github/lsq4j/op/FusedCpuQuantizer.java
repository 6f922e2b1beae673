package io.github.lsq4j.op;

import io.github.lsq4j.quant.QuantRange;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The quantizer's forward and backward pass as one fused loop each, in Java, over float data in CPU
 * memory: one read of {@code v} (and of the incoming gradient) and one write, where the array-op version
 * in {@link EagerQuantizer} makes 5 passes forward and 11 backward, each a native op call. The same
 * float arithmetic, so the values are those of the array ops (up to the sign of zero); the step
 * gradient is summed in double.
 *
 * <p>Data is processed in chunks copied to a Java array (a bulk copy, then a branch-free loop the JIT
 * compiles well), split across the cores for large arrays. Steps are per tensor or per channel: element
 * {@code i} belongs to channel {@code (i / inner) % channels}, where {@code inner} is the product of the
 * dimensions after the channel axis; the loops walk runs of one channel.
 */
final class FusedCpuQuantizer {
    /** Elements per chunk: 32 KB of floats, L1/L2 resident. */
    private static final int CHUNK = 8192;
    /** Below this many elements, one thread: splitting costs more than it saves. */
    private static final int PARALLEL_MIN = 1 << 16;

    private FusedCpuQuantizer() {
    }

    /**
     * @param arrays the arrays a pass reads and writes
     * @return whether the fused loops can run on them: float, CPU backend, dense C order (views such as
     *         a layer's parameters included)
     */
    static boolean applies(INDArray... arrays) {
        if (!Nd4j.getEnvironment().isCPU()) {
            return false;
        }
        for (INDArray a : arrays) {
            if (a.dataType() != DataType.FLOAT || a.ordering() != 'c' || !Shape.hasDefaultStridesForShape(a)
                    || a.offset() + a.length() > Integer.MAX_VALUE - CHUNK) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code out = round(clip(v * (1/s_c), -Qn, Qp)) * s_c}.
     *
     * @param v     the data
     * @param steps the (guarded) step per channel, one for per tensor
     * @param inner elements per run of one channel ({@code v.length()} for per tensor)
     * @param range the integer range
     * @param out   receives the quantized values; may be {@code v}
     * @return how many elements of {@code v} are NaN or infinite (counted in the same pass)
     */
    static long quantize(INDArray v, float[] steps, long inner, QuantRange range, INDArray out) {
        Layout layout = new Layout(steps, inner, range);
        FloatBuffer in = floats(v);
        FloatBuffer to = floats(out);
        return tasks(v.length()).mapToLong(task -> {
            long nonFinite = 0;
            float[] x = new float[CHUNK];
            Cursor cursor = layout.cursorAt(task.from);
            for (long start = task.from; start < task.to; start += CHUNK) {
                int n = (int) Math.min(CHUNK, task.to - start);
                in.get((int) start, x, 0, n);
                for (int k = 0; k < n; ) {
                    int end = k + cursor.next(n - k);
                    float r = layout.reciprocals[cursor.runChannel];
                    float s = layout.steps[cursor.runChannel];
                    for (; k < end; k++) {
                        nonFinite += Math.abs(x[k]) <= Float.MAX_VALUE ? 0 : 1;
                        x[k] = code(x[k] * r, layout.lo, layout.hi) * s;
                    }
                }
                to.put((int) start, x, 0, n);
            }
            return nonFinite;
        }).sum();
    }

    /**
     * Turns {@code dL/dvhat} into {@code dL/dv} in place (zero where {@code v/s} is clipped) and sums
     * {@code dL/ds_c = sum(e * round(c)) - sum(e_inside * v/s)} per channel (not yet scaled by g).
     *
     * @param v        the data that was quantized
     * @param steps    the (guarded) steps used in the forward pass
     * @param inner    elements per run of one channel
     * @param range    the integer range
     * @param gradient on entry {@code dL/dvhat}, on return {@code dL/dv}
     * @return the step gradients, one per step
     */
    static double[] backward(INDArray v, float[] steps, long inner, QuantRange range, INDArray gradient) {
        Layout layout = new Layout(steps, inner, range);
        FloatBuffer in = floats(v);
        FloatBuffer grad = floats(gradient);
        return tasks(v.length()).map(task -> {
            double[] stepGradient = new double[steps.length];
            float[] x = new float[CHUNK];
            float[] e = new float[CHUNK];
            Cursor cursor = layout.cursorAt(task.from);
            for (long start = task.from; start < task.to; start += CHUNK) {
                int n = (int) Math.min(CHUNK, task.to - start);
                in.get((int) start, x, 0, n);
                grad.get((int) start, e, 0, n);
                for (int k = 0; k < n; ) {
                    int end = k + cursor.next(n - k);
                    float r = layout.reciprocals[cursor.runChannel];
                    double sum = 0;
                    for (; k < end; k++) {
                        float scaled = x[k] * r;
                        float ek = e[k];
                        // the paper's clip, decided on v/s before rounding: strictly inside (-Qn, Qp)
                        float inside = scaled > layout.lo & layout.hi - scaled > 0 ? ek : 0f;
                        sum += (double) ek * code(scaled, layout.lo, layout.hi) - (double) inside * scaled;
                        e[k] = inside;
                    }
                    stepGradient[cursor.runChannel] += sum;
                }
                grad.put((int) start, e, 0, n);
            }
            return stepGradient;
        }).reduce(new double[steps.length], FusedCpuQuantizer::add);
    }

    /**
     * {@code round(clip(scaled, lo, hi))}, rounding half away from zero as ND4J's {@code round} does:
     * adding {@code +-0.5} in double is exact for a float, and the cast truncates toward zero.
     */
    private static float code(float scaled, float lo, float hi) {
        float c = Math.min(Math.max(scaled, lo), hi);
        return (float) (int) (c + Math.copySign(0.5, c));
    }

    private static double[] add(double[] a, double[] b) {
        double[] sum = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            sum[i] = a[i] + b[i];
        }
        return sum;
    }

    /**
     * The array's elements, without a copy: ND4J positions a view's buffer at the view's first element, and
     * {@link #applies} has checked that the elements follow each other from there.
     */
    private static FloatBuffer floats(INDArray a) {
        FloatBuffer elements = a.data().asNioFloat().slice();
        if (elements.remaining() < a.length()) {
            throw new IllegalStateException("fused quantizer: a buffer of " + elements.remaining() + " floats for an "
                    + "array of " + a.length());
        }
        return elements;
    }

    /** The element range split into one task per core for large arrays, run in parallel. */
    private static Stream<Range> tasks(long length) {
        int tasks = length < PARALLEL_MIN ? 1
                : (int) Math.min(Runtime.getRuntime().availableProcessors(), length / (PARALLEL_MIN / 2));
        long per = (length + tasks - 1) / tasks;
        Stream<Range> ranges = IntStream.range(0, tasks)
                .mapToObj(t -> new Range(t * per, Math.min(length, (t + 1) * per)));
        return tasks > 1 ? ranges.parallel() : ranges;
    }

    private record Range(long from, long to) {
    }

    /** Steps, their reciprocals (rounded in float, as the array ops compute them), the clip range. */
    private static final class Layout {
        final float[] steps;
        final float[] reciprocals;
        final long inner;
        final float lo;
        final float hi;

        Layout(float[] steps, long inner, QuantRange range) {
            this.steps = steps;
            this.reciprocals = new float[steps.length];
            for (int c = 0; c < steps.length; c++) {
                reciprocals[c] = 1.0f / steps[c];
            }
            this.inner = inner;
            this.lo = (float) -range.qn();
            this.hi = (float) range.qp();
        }

        Cursor cursorAt(long i) {
            return new Cursor(this, (int) ((i / inner) % steps.length), i % inner);
        }
    }

    /** Where a loop is: the channel of the next element and its position in that channel's run. */
    private static final class Cursor {
        private final Layout layout;
        private int channel;
        private long position;
        /** The channel of the run {@link #next} started. */
        int runChannel;

        Cursor(Layout layout, int channel, long position) {
            this.layout = layout;
            this.channel = channel;
            this.position = position;
        }

        /**
         * Starts the next run of one channel ({@link #runChannel}) and moves past it.
         *
         * @param available elements left in the chunk
         * @return the run's length, at most {@code available}
         */
        int next(int available) {
            runChannel = channel;
            int length = (int) Math.min(available, layout.inner - position);
            position += length;
            if (position == layout.inner) {
                position = 0;
                channel = channel + 1 == layout.steps.length ? 0 : channel + 1;
            }
            return length;
        }
    }
}
