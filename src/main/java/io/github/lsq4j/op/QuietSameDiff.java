package io.github.lsq4j.op;

import java.io.PrintStream;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps SameDiff's gradient-building chatter off standard output.
 *
 * <p>When SameDiff 1.0.0-M2.1 builds a graph's gradient function ({@code SameDiff.createGradFunction},
 * which {@code calculateGradients} and every SameDiff layer's first backward pass call), it prints
 * {@code "Added differentiated op <name>"} for every op of the graph with a bare
 * {@code System.out.println} (nd4j-api 1.0.0-M2.1, {@code org/nd4j/autodiff/samediff/SameDiff.java},
 * line 5044), not through a logger, so no logging setting silences it. A network of LSQ layers prints
 * hundreds of such lines when training starts.
 *
 * <p>{@link #call} runs an action while {@code System.out} is wrapped in a filter that diverts exactly
 * those lines, printed by the calling thread, to this class's SLF4J logger at TRACE level. Everything
 * else, from this thread or any other, passes through unchanged, and the original stream is put back
 * when the last action ends. The LSQ layers use it around their first backward pass (the one that builds
 * the gradient function), and nowhere else: later passes run without it. Turn the lines back on by
 * setting the logger {@code io.github.lsq4j.op.QuietSameDiff} to TRACE.
 */
public final class QuietSameDiff {
    /** How each of SameDiff's lines starts. */
    public static final String GRADIENT_LINE_PREFIX = "Added differentiated op ";

    private static final Logger log = LoggerFactory.getLogger(QuietSameDiff.class);
    /** Nesting depth of {@link #call} on each thread; the filter diverts only where it is above 0. */
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static final Object LOCK = new Object();
    /** The filter installed as System.out, and how many actions (over all threads) are using it. */
    private static Filter installed;
    private static int users;

    private QuietSameDiff() {
    }

    /**
     * Runs an action with SameDiff's per-op gradient lines of this thread diverted to TRACE logging.
     *
     * @param action what to run, e.g. a SameDiff layer's first backward pass or
     *               {@code sameDiff.calculateGradients(...)}
     * @param <T>    the action's result type
     * @return the action's result
     */
    public static <T> T call(Supplier<T> action) {
        int[] depth = DEPTH.get();
        if (depth[0]++ == 0) {
            acquire();
        }
        try {
            return action.get();
        } finally {
            if (--depth[0] == 0) {
                release();
            }
        }
    }

    private static void acquire() {
        synchronized (LOCK) {
            if (users++ == 0) {
                installed = new Filter(System.out);
                System.setOut(installed);
            }
        }
    }

    private static void release() {
        synchronized (LOCK) {
            if (--users == 0) {
                // Someone else may have replaced System.out meanwhile; then theirs stays.
                if (System.out == installed) {
                    System.setOut(installed.target);
                }
                installed = null;
            }
        }
    }

    /** Passes everything to the wrapped stream except SameDiff's gradient lines from a thread inside {@link #call}. */
    private static final class Filter extends PrintStream {
        private final PrintStream target;

        Filter(PrintStream target) {
            super(target, true);
            this.target = target;
        }

        @Override
        public void println(String line) {
            if (line != null && line.startsWith(GRADIENT_LINE_PREFIX) && DEPTH.get()[0] > 0) {
                log.trace(line);
            } else {
                target.println(line);
            }
        }
    }
}
