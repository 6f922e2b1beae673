package io.github.lsq4j.op;

import io.github.lsq4j.quant.QuantRange;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The quantizer's forward and backward pass in Java over float data in CPU memory: one read of {@code v}
 * (and of the incoming gradient) and one write, where the array-op version in {@link EagerQuantizer}
 * makes 5 passes forward and 11 backward, each a native op call. The same float arithmetic, so the values
 * are those of the array ops (up to the sign of zero); the step gradient is summed in double.
 *
 * <p>Data is processed in chunks copied to Java arrays (a bulk copy), split across the cores for large
 * arrays. Each chunk goes through a few short loops ({@link ChunkKernels}) written so that HotSpot's C2
 * compiles them to SIMD instructions: float multiply, add, min and max only, no branch, no int
 * conversion, no {@code copySign}. That is 4-5x faster than one scalar loop that rounds through an
 * {@code int} (BENCHMARKS.md).
 *
 * <p>Steps are per tensor or per channel: element {@code i} belongs to channel
 * {@code (i / inner) % channels}, where {@code inner} is the product of the dimensions after the
 * channel axis. Each chunk gets its elements' steps and reciprocals spelled out; the step gradient is
 * summed per run of one channel, or, where runs are short, per position in the channel cycle.
 */
final class FusedCpuQuantizer {
    /** Elements per chunk: a task's 7 working arrays (8 KB each) stay in the L1 and L2 caches. */
    private static final int CHUNK = 2048;
    /**
     * Below this many elements, one thread. In a training step a second thread gains nothing on the
     * 2-core machine of BENCHMARKS.md (ND4J's native threads spin on the other core after each op) and
     * made the input quantizer's forward passes of ResNet-8 (up to 1.6M elements) 20% slower; alone, two
     * threads halve the time. Longer passes outlast the spinning.
     */
    private static final int PARALLEL_MIN = 1 << 22;

    private FusedCpuQuantizer() {
    }

    /**
     * @param arrays the arrays a pass reads and writes, all of one shape
     * @return whether the fused loops can run on them ({@link #commonOrder} is not 0)
     */
    static boolean applies(INDArray... arrays) {
        return commonOrder(arrays) != 0;
    }

    /**
     * The order in which the fused loops walk the arrays' elements: they must be float, in CPU memory, and
     * each lie contiguously from its first element in that same order, C or Fortran (views such as a
     * layer's parameters included; a size-1 dimension's stride does not matter, as in ND4J's
     * {@code [n, 1, h, w]} inputs and {@code [1, 1, in, out]} kernels; DL4J's dense weights are
     * Fortran-ordered).
     *
     * @param arrays the arrays a pass reads and writes, all of one shape
     * @return {@code 'c'} or {@code 'f'}; 0 if the fused loops cannot run on them
     */
    static char commonOrder(INDArray... arrays) {
        if (!Nd4j.getEnvironment().isCPU()) {
            return 0;
        }
        char order = 0;
        for (INDArray a : arrays) {
            if (a.dataType() != DataType.FLOAT || a.offset() + a.length() > Integer.MAX_VALUE - CHUNK) {
                return 0;
            }
            if (order == 0) {
                order = contiguous(a, 'c') ? 'c' : contiguous(a, 'f') ? 'f' : 0; // the first array decides
            }
            if (order == 0 || !contiguous(a, order)) {
                return 0;
            }
        }
        return order;
    }

    /** Whether the array's elements follow each other in {@code order} (ignoring size-1 dimensions). */
    private static boolean contiguous(INDArray a, char order) {
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int k = 0; k < shape.length; k++) {
            int d = order == 'c' ? shape.length - 1 - k : k;
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /**
     * @param shape the data's shape
     * @param axis  the channel axis
     * @param order the order the loops walk the data in ({@link #commonOrder})
     * @return how many consecutive elements share a channel: the product of the dimensions after the
     *         axis in C order, before it in Fortran order
     */
    static long channelRun(long[] shape, int axis, char order) {
        long run = 1;
        for (int d = order == 'c' ? axis + 1 : 0; d < (order == 'c' ? shape.length : axis); d++) {
            run *= shape[d];
        }
        return run;
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
            Chunk chunk = new Chunk(layout, task.from);
            long nonFinite = 0;
            for (long start = task.from; start < task.to; start += CHUNK) {
                int n = (int) Math.min(CHUNK, task.to - start);
                chunk.next(n);
                in.get((int) start, chunk.x, 0, n);
                nonFinite += ChunkKernels.countNonFinite(chunk.x, n);
                chunk.codes(n);
                ChunkKernels.multiply(chunk.code, chunk.step, n, chunk.x);
                to.put((int) start, chunk.x, 0, n);
            }
            return nonFinite;
        }).sum();
    }

    /**
     * Turns {@code e = dL/dvhat} into {@code dL/dv} in place (zero where {@code v/s} is clipped) and sums
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
            Chunk chunk = new Chunk(layout, task.from);
            float[] e = new float[CHUNK];
            for (long start = task.from; start < task.to; start += CHUNK) {
                int n = (int) Math.min(CHUNK, task.to - start);
                chunk.next(n);
                in.get((int) start, chunk.x, 0, n);
                grad.get((int) start, e, 0, n);
                chunk.codes(n);
                float[] inside = chunk.clipped; // the clipped values are not needed any more
                ChunkKernels.insideMask(chunk.scaled, n, layout.lo, layout.hi, inside);
                float[] terms = chunk.code;
                ChunkKernels.stepGradientTerms(e, inside, chunk.scaled, n, terms);
                chunk.addSums(terms, n, stepGradient);
                grad.put((int) start, e, 0, n);
            }
            return chunk.stepGradients(stepGradient);
        }).reduce(new double[steps.length], FusedCpuQuantizer::add);
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
    static FloatBuffer floats(INDArray a) {
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

    /**
     * Steps, their reciprocals (rounded in float, as the array ops compute them), the clip range, and the
     * channel layout: the steps repeat with a period, the cycle, of {@code channels * inner} elements.
     */
    private static final class Layout {
        /** Cycles up to this many elements are spelled out once, element by element ({@link #cycleSteps}). */
        private static final int MAX_SPELLED_CYCLE = 1 << 16;

        final float[] steps;
        final float[] reciprocals;
        final long inner;
        final long cycle;
        final float lo;
        final float hi;
        /**
         * Per channel with a short cycle (runs of few elements: a channel axis that is the last, as conv
         * weights' output channels in SameDiff's layout): each element's step and reciprocal over one
         * cycle, copied into chunks and summed by position; else null: runs of one channel are long.
         */
        final float[] cycleSteps;
        final float[] cycleReciprocals;

        Layout(float[] steps, long inner, QuantRange range) {
            this.steps = steps;
            this.reciprocals = new float[steps.length];
            for (int c = 0; c < steps.length; c++) {
                reciprocals[c] = 1.0f / steps[c];
            }
            this.inner = inner;
            this.cycle = steps.length * inner;
            this.lo = (float) -range.qn();
            this.hi = (float) range.qp();
            if (steps.length > 1 && cycle <= MAX_SPELLED_CYCLE) {
                cycleSteps = new float[(int) cycle];
                cycleReciprocals = new float[(int) cycle];
                for (int p = 0; p < cycle; p++) {
                    cycleSteps[p] = steps[(int) (p / inner)];
                    cycleReciprocals[p] = reciprocals[(int) (p / inner)];
                }
            } else {
                cycleSteps = null;
                cycleReciprocals = null;
            }
        }

        boolean perTensor() {
            return steps.length == 1;
        }
    }

    /**
     * One task's working arrays for a chunk of up to {@link #CHUNK} elements, where the chunk starts in
     * the channel layout's cycle, and the task's step gradient sums.
     */
    private static final class Chunk {
        final Layout layout;
        final float[] x = new float[CHUNK];
        final float[] step = new float[CHUNK];
        final float[] reciprocal = new float[CHUNK];
        final float[] scaled = new float[CHUNK];
        final float[] clipped = new float[CHUNK];
        final float[] code = new float[CHUNK];
        /** The position in the cycle of the next chunk's first element, and of this chunk's. */
        private long position;
        private long chunkStart;
        /** Step gradient sums by position in the cycle, for a spelled-out cycle; else null. */
        private final double[] cycleSums;

        Chunk(Layout layout, long firstElement) {
            this.layout = layout;
            position = layout.perTensor() ? 0 : firstElement % layout.cycle;
            cycleSums = layout.cycleSteps == null ? null : new double[(int) layout.cycle];
            if (layout.perTensor()) {
                Arrays.fill(step, layout.steps[0]);
                Arrays.fill(reciprocal, layout.reciprocals[0]);
            }
        }

        /** Moves to the next {@code n} elements and spells out their steps and reciprocals. */
        void next(int n) {
            chunkStart = position;
            if (layout.perTensor()) {
                return;
            }
            for (int k = 0; k < n; ) {
                int end;
                if (layout.cycleSteps != null) {
                    end = k + (int) Math.min(n - k, layout.cycle - position);
                    System.arraycopy(layout.cycleSteps, (int) position, step, k, end - k);
                    System.arraycopy(layout.cycleReciprocals, (int) position, reciprocal, k, end - k);
                } else {
                    int channel = (int) (position / layout.inner);
                    end = k + (int) Math.min(n - k, layout.inner - position % layout.inner);
                    Arrays.fill(step, k, end, layout.steps[channel]);
                    Arrays.fill(reciprocal, k, end, layout.reciprocals[channel]);
                }
                position = (position + end - k) % layout.cycle;
                k = end;
            }
        }

        /** {@link #scaled}, {@link #clipped} and {@link #code} of the first {@code n} elements of {@link #x}. */
        void codes(int n) {
            ChunkKernels.scaleClipRint(x, reciprocal, n, layout.lo, layout.hi, scaled, clipped, code);
            ChunkKernels.tiesAwayFromZero(clipped, n, code);
        }

        /**
         * Adds the chunk's {@code n} terms to the step gradient sums: {@code sums} per channel, or the
         * cycle's.
         */
        void addSums(float[] terms, int n, double[] sums) {
            if (layout.perTensor()) {
                sums[0] += ChunkKernels.sum(terms, 0, n);
            } else if (cycleSums != null) {
                int p = (int) chunkStart;
                for (int k = 0; k < n; k++) {
                    cycleSums[p] += terms[k];
                    p = p + 1 == cycleSums.length ? 0 : p + 1;
                }
            } else {
                long p = chunkStart;
                for (int k = 0; k < n; ) {
                    int end = k + (int) Math.min(n - k, layout.inner - p % layout.inner);
                    sums[(int) (p / layout.inner)] += ChunkKernels.sum(terms, k, end);
                    p = (p + end - k) % layout.cycle;
                    k = end;
                }
            }
        }

        /** The task's step gradients per channel, with the sums by cycle position folded in. */
        double[] stepGradients(double[] sums) {
            if (cycleSums != null) {
                for (int p = 0; p < cycleSums.length; p++) {
                    sums[(int) (p / layout.inner)] += cycleSums[p];
                }
            }
            return sums;
        }
    }
}
