package io.github.lsq4j.samples.fashion;

import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The command line of {@link FashionMnistDemo}, parsed by {@link SampleCli}. */
@Command(name = "FashionMnistDemo", sortOptions = false, usageHelpWidth = 100,
        description = {"Trains ResNet-8 (or 20) on Fashion-MNIST in full precision, converts it to LSQ, fine-tunes it "
                + "at each bit width with the paper's recipe, and prints the accuracy table. Writes models, "
                + "report.json and PNG plots to --out; finished stages there are reused, so a run resumes.", ""})
final class DemoOptions implements SampleCli.Checked {
    /** The default schedule: fits 15 minutes on 2 cores. */
    static final FashionMnistDemo.Schedule QUICK = new FashionMnistDemo.Schedule("quick", 8_000, 2, 1);
    /** The reference recipe of LSQ-SPEC.md, exactly. */
    static final FashionMnistDemo.Schedule SHORT = new FashionMnistDemo.Schedule("short", 60_000, 5, 3);

    @Mixin
    HelpOption help;

    @Mixin
    FashionDataOption data;

    @Option(names = "--recipe", paramLabel = "quick|short", defaultValue = "quick", description = {
        "quick (default): 8,000 training images, 2 full-precision epochs, 1 LSQ epoch per bit width.",
        "short: the reference recipe of the spec, all 60,000 images, 5 + 3 epochs."})
    String recipe;

    @Option(names = "--bits", split = ",", paramLabel = "B", defaultValue = "8,4,3,2",
            description = "Bit widths to fine-tune with LSQ, 2 to 8 (default: ${DEFAULT-VALUE}).")
    List<Integer> bits;

    @Option(names = "--depth", paramLabel = "8|20", defaultValue = "8", description = "ResNet depth (default: ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of initialization, shuffling "
            + "and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--train-images", paramLabel = "N", description = "Training images per epoch, at least 128 "
            + "(default: the recipe's).")
    Integer trainImages;

    @Option(names = "--fp-epochs", paramLabel = "N", description = "Full-precision epochs (default: the recipe's).")
    Integer fpEpochs;

    @Option(names = "--lsq-epochs", paramLabel = "N", description = "LSQ epochs per bit width (default: the recipe's).")
    Integer lsqEpochs;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "lsq4j-fashion-demo",
            description = "Where models, report.json and plots go (default: ${DEFAULT-VALUE}).")
    Path out;

    /** @return the recipe's schedule with the sizes given on the command line */
    FashionMnistDemo.Schedule schedule() {
        FashionMnistDemo.Schedule base = recipe.equals(SHORT.name()) ? SHORT : QUICK;
        return new FashionMnistDemo.Schedule(base.name(), trainImages != null ? trainImages : base.trainImages(),
                fpEpochs != null ? fpEpochs : base.fpEpochs(), lsqEpochs != null ? lsqEpochs : base.lsqEpochs());
    }

    @Override
    public void check() {
        if (!recipe.equals(QUICK.name()) && !recipe.equals(SHORT.name())) {
            throw new IllegalArgumentException("--recipe must be quick or short, got '" + recipe + "'");
        }
        if (depth != 8 && depth != 20) {
            throw new IllegalArgumentException("--depth must be 8 or 20, got " + depth);
        }
        for (int b : bits) {
            if (b < QuantRange.MIN_BITS || b > QuantRange.MAX_BITS) {
                throw new IllegalArgumentException("--bits must be between " + QuantRange.MIN_BITS + " and "
                        + QuantRange.MAX_BITS + ", got " + b);
            }
        }
        if (trainImages != null && trainImages < FashionMnistDemo.BATCH) {
            throw new IllegalArgumentException("--train-images must be at least one batch of " + FashionMnistDemo.BATCH
                    + " (epochs drop the last partial batch, as the reference does), got " + trainImages);
        }
        positive("--fp-epochs", fpEpochs);
        positive("--lsq-epochs", lsqEpochs);
    }

    private static void positive(String option, Integer value) {
        if (value != null && value < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + value);
        }
    }
}
