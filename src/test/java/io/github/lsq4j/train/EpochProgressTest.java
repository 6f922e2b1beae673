package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress display of FineTuner, with and without the optional progress bar library. */
class EpochProgressTest {

    @Test
    void theBarIsUsedWhenTheLibraryIsOnTheClassPath() {
        // The library's own tests have the optional dependency on their class path.
        try (EpochProgress progress = EpochProgress.start(true, "epoch 1/1", 10)) {
            assertInstanceOf(ConsoleProgressBar.class, progress);
            progress.step(10, 0.5);
        }
    }

    @Test
    void withoutTheLibraryProgressIsALogLineWithCountsSpeedAndEta() {
        Locale saved = Locale.getDefault();
        Locale.setDefault(Locale.ROOT);
        try {
            AtomicLong now = new AtomicLong(1_000_000_000L);
            EpochProgress.Logged progress = new EpochProgress.Logged("epoch 2/5", 8000, now::get);
            now.addAndGet(10_000_000_000L);
            progress.step(3200, 0.51234);
            assertEquals("epoch 2/5: 3200/8000 examples (40%), loss 0.5123, 320 examples/s, ETA 15 s",
                    progress.line(now.get(), 0.51234));
            EpochProgress.Logged unknownSize = new EpochProgress.Logged("epoch 1/1", -1, now::get);
            now.addAndGet(2_000_000_000L);
            unknownSize.step(100, 1.0);
            assertEquals("epoch 1/1: 100 examples, loss 1.0000, 50 examples/s", unknownSize.line(now.get(), 1.0));
        } finally {
            Locale.setDefault(saved);
        }
    }
}
