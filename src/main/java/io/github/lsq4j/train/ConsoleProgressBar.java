package io.github.lsq4j.train;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * An epoch's progress bar with speed, ETA and mean loss, on standard error. The only class that uses
 * the optional {@code me.tongfei:progressbar}; {@link EpochProgress} creates it only when that is on the
 * class path.
 */
final class ConsoleProgressBar extends EpochProgress {
    private final ProgressBar bar;

    ConsoleProgressBar(String task, long examplesPerEpoch) {
        bar = new ProgressBarBuilder().setTaskName(task).setStyle(ProgressBarStyle.ASCII).setUnit(" img", 1)
                .showSpeed().setInitialMax(examplesPerEpoch).build();
    }

    @Override
    void step(long examples, double meanLoss) {
        bar.stepBy(examples);
        bar.setExtraMessage(String.format(" loss %.4f", meanLoss));
    }

    @Override
    public void close() {
        bar.close();
    }
}
