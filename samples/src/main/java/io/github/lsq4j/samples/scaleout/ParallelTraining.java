package io.github.lsq4j.samples.scaleout;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.ImageClassificationIterator;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.samples.export.OnnxDeployment;
import io.github.lsq4j.train.BatchNormStatistics;
import io.github.lsq4j.train.FineTuner;
import io.github.lsq4j.train.LsqRecipe;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelWrapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * An LSQ network trained by DL4J's ParallelWrapper (data-parallel workers in one JVM) with no
 * distribution code of lsq4j's: the layers' step sizes are parameters like the weights, so the wrapper
 * averages them with the rest. The input steps are calibrated before training is distributed, so every
 * worker starts from the same ones. Prints accuracy and throughput with 1 worker (plain
 * {@code fit}) and with each {@code --workers} count.
 *
 * <p>{@code mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.scaleout.ParallelTraining}
 */
@Command(name = "ParallelTraining", sortOptions = false, usageHelpWidth = 100, description = {
    "Fine-tunes a 4-bit LSQ ResNet-8 on Fashion-MNIST with 1 worker and with DL4J's ParallelWrapper.", ""})
public final class ParallelTraining {
    private static final int BATCH = 64;

    @Mixin
    HelpOption help;

    @Mixin
    FashionDataOption data;

    @Option(names = "--fp-images", paramLabel = "N", defaultValue = "8000", description = "Images of the float "
            + "epoch (default: ${DEFAULT-VALUE}).")
    int fpImages;

    @Option(names = "--lsq-images", paramLabel = "N", defaultValue = "8000", description = "Images of the LSQ "
            + "epoch (default: ${DEFAULT-VALUE}).")
    int lsqImages;

    @Option(names = "--workers", split = ",", paramLabel = "N", defaultValue = "2",
            description = "ParallelWrapper worker counts to compare with 1 (default: ${DEFAULT-VALUE}).")
    List<Integer> workers;

    /**
     * One training run.
     *
     * @param workers         1 for plain {@code fit}, else ParallelWrapper's worker count
     * @param accuracy        test top-1 after the epoch
     * @param imagesPerSecond training throughput
     */
    public record Run(int workers, double accuracy, double imagesPerSecond) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "| %d | %.2f | %.0f |", workers, 100 * accuracy, imagesPerSecond);
        }
    }

    /**
     * Converts a float network to 4-bit LSQ and calibrates its input steps on one batch: the start every
     * run shares.
     *
     * @param fp    the trained float network
     * @param train the training images
     * @return the calibrated LSQ network
     */
    public static ComputationGraph calibratedLsq(ComputationGraph fp, LabeledImages train) {
        ComputationGraph lsq = LsqConverter.convert(fp, QuantizationPolicy.paper(4));
        LsqLayers.calibrate(lsq, iterator(train, BATCH, 7), 1);
        return lsq;
    }

    /**
     * Fine-tunes a copy of {@code start} for one epoch with the paper's 4-bit recipe, its cosine schedule
     * spread over the iterations each worker runs, and evaluates it.
     *
     * @param start   the calibrated LSQ network (not changed)
     * @param workers 1 for plain {@code fit}, else ParallelWrapper's worker count (parameter averaging
     *                after every iteration)
     * @param train   the training images
     * @param images  the images of the epoch
     * @param test    the test images
     * @return the run's accuracy and throughput; {@code trained[0]} receives the trained network
     */
    public static Run fineTune(ComputationGraph start, int workers, LabeledImages train, int images, LabeledImages test,
                               ComputationGraph[] trained) {
        long iterationsPerWorker = (images + (long) BATCH * workers - 1) / ((long) BATCH * workers);
        ComputationGraph net = LsqRecipe.paper(start).applyTo(start, iterationsPerWorker);
        ImageClassificationIterator data = iterator(train, images, 1);
        long begin = System.nanoTime();
        if (workers == 1) {
            net.fit(data);
        } else {
            ParallelWrapper wrapper = new ParallelWrapper.Builder<>(net).workers(workers).prefetchBuffer(4)
                    .averagingFrequency(1).averageUpdaters(true).trainingMode(ParallelWrapper.TrainingMode.AVERAGING)
                    .build();
            try {
                wrapper.fit(data);
            } finally {
                wrapper.shutdown();
            }
        }
        double seconds = (System.nanoTime() - begin) / 1e9;
        // Parameter averaging also averages the workers' moving averages of batch norm (log10 of the standard
        // deviation, not the variance): re-estimating them, as FineTuner does after each epoch, makes both runs
        // evaluate their weights alone.
        BatchNormStatistics.reestimate(net, iterator(train, images, 3), FineTuner.Builder.DEFAULT_BATCH_NORM_BATCHES);
        if (trained != null) {
            trained[0] = net;
        }
        return new Run(workers, FineTuner.accuracy(net, OnnxDeployment.testIterator(test)), images / seconds);
    }

    static ImageClassificationIterator iterator(LabeledImages train, int images, long seed) {
        return ImageClassificationIterator.builder(train, BATCH).normalize(FashionMnist.MEAN, FashionMnist.STD)
                .augment(2, true).shuffle(seed).limit(images).build();
    }

    /**
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        ParallelTraining o = SampleCli.parse(new ParallelTraining(), args);
        FashionMnist.Splits data = o.data.loadOrExit();
        ComputationGraph fp = OnnxDeployment.trainFloat(data.train(), o.fpImages, 1);
        ComputationGraph start = calibratedLsq(fp, data.train());
        System.out.println("| workers | test top-1 % | training images/s |");
        System.out.println("|---|---|---|");
        System.out.println(fineTune(start, 1, data.train(), o.lsqImages, data.test(), null));
        for (int w : o.workers) {
            System.out.println(fineTune(start, w, data.train(), o.lsqImages, data.test(), null));
        }
    }
}
