package io.github.lsq4j.train;

import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress of one training epoch of {@link FineTuner}. The progress bar library
 * ({@code me.tongfei:progressbar}) is an optional dependency of lsq4j: where it is on the class path,
 * progress is a console bar with speed and ETA on standard error; where it is not, a line through SLF4J
 * at most every {@value #LOG_INTERVAL_SECONDS} seconds, so a long epoch still shows signs of life.
 */
abstract class EpochProgress implements AutoCloseable {
    /** Seconds between two progress lines when there is no progress bar. */
    static final long LOG_INTERVAL_SECONDS = 30;
    private static final String BAR_CLASS = "me.tongfei.progressbar.ProgressBar";
    private static final boolean BAR_AVAILABLE = isPresent(BAR_CLASS);
    private static final EpochProgress NONE = new EpochProgress() {
        @Override
        void step(long examples, double meanLoss) {
        }
    };

    /**
     * @param show             whether to show progress at all
     * @param task             what is running, e.g. {@code "epoch 2/5"}
     * @param examplesPerEpoch the epoch's size, or a negative number if unknown
     * @return the progress display; close it at the end of the epoch
     */
    static EpochProgress start(boolean show, String task, long examplesPerEpoch) {
        if (!show) {
            return NONE;
        }
        // ConsoleProgressBar is the only class that touches the optional library; it is not loaded
        // unless the library is there.
        return BAR_AVAILABLE ? new ConsoleProgressBar(task, examplesPerEpoch)
                : new Logged(task, examplesPerEpoch, System::nanoTime);
    }

    /**
     * @param examples examples trained since the last call
     * @param meanLoss the epoch's mean loss so far
     */
    abstract void step(long examples, double meanLoss);

    @Override
    public void close() {
    }

    private static boolean isPresent(String className) {
        try {
            Class.forName(className, false, EpochProgress.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Progress as SLF4J info lines, at most one every {@value #LOG_INTERVAL_SECONDS} seconds. */
    static final class Logged extends EpochProgress {
        private static final Logger log = LoggerFactory.getLogger(FineTuner.class);
        private final String task;
        private final long total;
        private final LongSupplier nanoClock;
        private final long startNanos;
        private long lastLogNanos;
        private long done;

        Logged(String task, long total, LongSupplier nanoClock) {
            this.task = task;
            this.total = total;
            this.nanoClock = nanoClock;
            this.startNanos = nanoClock.getAsLong();
            this.lastLogNanos = startNanos;
        }

        @Override
        void step(long examples, double meanLoss) {
            done += examples;
            long now = nanoClock.getAsLong();
            if (now - lastLogNanos < LOG_INTERVAL_SECONDS * 1_000_000_000L) {
                return;
            }
            lastLogNanos = now;
            log.info(line(now, meanLoss));
        }

        /** E.g. {@code epoch 1/2: 3200/8000 examples (40%), loss 0.5123, 230 examples/s, ETA 21 s}. */
        String line(long now, double meanLoss) {
            double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
            double speed = done / seconds;
            StringBuilder line = new StringBuilder(task).append(": ").append(done);
            if (total > 0) {
                line.append('/').append(total).append(" examples (").append(Math.round(100.0 * done / total))
                        .append("%)");
            } else {
                line.append(" examples");
            }
            line.append(String.format(", loss %.4f, %.0f examples/s", meanLoss, speed));
            if (total > 0 && speed > 0) {
                line.append(String.format(", ETA %.0f s", Math.max(0, total - done) / speed));
            }
            return line.toString();
        }
    }
}
