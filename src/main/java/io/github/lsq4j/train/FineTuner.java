package io.github.lsq4j.train;

import io.github.lsq4j.backend.OneDnnHelpers;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.NeuralNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a network for a number of epochs, with progress and ETA per epoch, and evaluates top-1
 * accuracy on test data after each. Works with MultiLayerNetwork and ComputationGraph; combine it with
 * {@link LsqRecipe#applyTo} for the paper's optimizer and with {@link Distillation} for distillation.
 */
public final class FineTuner {
    private static final Logger log = LoggerFactory.getLogger(FineTuner.class);

    private final NeuralNetwork network;
    private final DataSetIterator train;
    private final DataSetIterator test;
    private final int epochs;
    private final boolean progressBar;
    private final long examplesPerEpoch;
    private final Consumer<EpochResult> afterEpoch;
    private final boolean nativeHelpers;
    private final int batchNormBatches;

    private FineTuner(Builder b) {
        this.network = b.network;
        this.train = b.train;
        this.test = b.test;
        this.epochs = b.epochs;
        this.progressBar = b.progressBar;
        this.examplesPerEpoch = b.examplesPerEpoch;
        this.afterEpoch = b.afterEpoch;
        this.nativeHelpers = b.nativeHelpers;
        this.batchNormBatches = b.batchNormBatches;
    }

    /**
     * @param network a MultiLayerNetwork or ComputationGraph, initialized
     * @param train   the training data
     * @return a builder: 1 epoch, no test data, progress bar on, native helpers attached, batch-norm
     *         statistics re-estimated on {@value Builder#DEFAULT_BATCH_NORM_BATCHES} batches after each epoch
     */
    public static Builder builder(NeuralNetwork network, DataSetIterator train) {
        return new Builder(network, train);
    }

    /**
     * Trains with DL4J's own loop, {@code fit(iterator)} once per epoch, so the network's epoch count
     * advances and every listener it has gets its epoch callbacks; progress comes from a
     * {@link ProgressListener} added for the run (and removed after it).
     *
     * @return one result per epoch
     * @throws IllegalStateException if the training diverges (a loss that is not finite)
     */
    public List<EpochResult> fit() {
        Model model = (Model) network;
        if (nativeHelpers) {
            OneDnnHelpers.attach(model);
        }
        Collection<TrainingListener> previous = new ArrayList<>(listeners(model));
        ProgressListener progress = new ProgressListener(progressBar, examplesPerEpoch);
        List<TrainingListener> withProgress = new ArrayList<>(previous);
        withProgress.add(progress);
        model.setListeners(withProgress);
        List<EpochResult> results = new ArrayList<>();
        try {
            for (int epoch = 1; epoch <= epochs; epoch++) {
                EpochResult result = trainEpoch(epoch, progress);
                log.info("epoch {}/{}: loss {}, test accuracy {}, {} s, {} examples/s", epoch, epochs,
                        String.format("%.4f", result.meanLoss()), String.format("%.4f", result.testAccuracy()),
                        String.format("%.1f", result.seconds()), String.format("%.0f", result.examplesPerSecond()));
                results.add(result);
                if (afterEpoch != null) {
                    afterEpoch.accept(result);
                }
            }
        } finally {
            model.setListeners(previous);
        }
        return results;
    }

    private EpochResult trainEpoch(int epoch, ProgressListener progress) {
        train.reset();
        long start = System.nanoTime();
        progress.nameNextEpoch("epoch " + epoch + "/" + epochs);
        network.fit(train);
        if (batchNormBatches > 0) {
            // Only the features matter here: a distilling iterator would run the teacher on every batch for nothing.
            DataSetIterator features = train instanceof Distillation d ? d.features() : train;
            BatchNormStatistics.reestimate((Model) network, features, batchNormBatches);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double accuracy = test == null ? Double.NaN : accuracy(network, test);
        return new EpochResult(epoch, progress.meanLoss(), accuracy, seconds,
                progress.examples() / Math.max(seconds, 1e-9));
    }

    private static Collection<TrainingListener> listeners(Model model) {
        Collection<TrainingListener> listeners = model instanceof org.deeplearning4j.nn.multilayer.MultiLayerNetwork m
                ? m.getListeners() : ((org.deeplearning4j.nn.graph.ComputationGraph) model).getListeners();
        return listeners == null ? List.of() : listeners;
    }

    /**
     * Top-1 accuracy.
     *
     * @param network a MultiLayerNetwork or ComputationGraph
     * @param data    labelled data
     * @return the fraction of examples whose arg-max output is the label
     */
    public static double accuracy(NeuralNetwork network, DataSetIterator data) {
        data.reset();
        Evaluation evaluation = network.doEvaluation(data, new Evaluation())[0];
        return evaluation.accuracy();
    }

    @Override
    public String toString() {
        return "FineTuner(epochs=" + epochs + ", train=" + train + ", test=" + test + ", nativeHelpers="
                + nativeHelpers + ", batchNormBatches=" + batchNormBatches + ")";
    }

    /** Builds a {@link FineTuner}; {@link #build()} validates. */
    public static final class Builder {
        /** Batches over which batch-norm statistics are re-estimated after each epoch, by default. */
        public static final int DEFAULT_BATCH_NORM_BATCHES = 50;

        private final NeuralNetwork network;
        private final DataSetIterator train;
        private DataSetIterator test;
        private int epochs = 1;
        private boolean progressBar = true;
        private long examplesPerEpoch = -1;
        private Consumer<EpochResult> afterEpoch;
        private boolean nativeHelpers = true;
        private int batchNormBatches = DEFAULT_BATCH_NORM_BATCHES;

        private Builder(NeuralNetwork network, DataSetIterator train) {
            this.network = network;
            this.train = train;
        }

        /**
         * @param test data to evaluate on after each epoch
         * @return this
         */
        public Builder test(DataSetIterator test) {
            this.test = test;
            return this;
        }

        /**
         * @param epochs number of epochs, >= 1
         * @return this
         */
        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /**
         * @param progressBar whether to show each epoch's progress: a progress bar on standard error if
         *                    {@code me.tongfei:progressbar} (an optional dependency) is on the class path,
         *                    else an SLF4J info line every 30 seconds
         * @return this
         */
        public Builder progressBar(boolean progressBar) {
            this.progressBar = progressBar;
            return this;
        }

        /**
         * @param examplesPerEpoch the size of an epoch, so the progress bar can show a percentage and an ETA
         * @return this
         */
        public Builder examplesPerEpoch(long examplesPerEpoch) {
            this.examplesPerEpoch = examplesPerEpoch;
            return this;
        }

        /**
         * @param afterEpoch called with each epoch's result, e.g. to save a checkpoint
         * @return this
         */
        public Builder afterEpoch(Consumer<EpochResult> afterEpoch) {
            this.afterEpoch = afterEpoch;
            return this;
        }

        /**
         * @param nativeHelpers whether to attach DL4J's native helpers to the stock convolution, batch-norm
         *                      and pooling layers before training ({@link OneDnnHelpers}; same results,
         *                      several times faster on the CPU backend)
         * @return this
         */
        public Builder nativeHelpers(boolean nativeHelpers) {
            this.nativeHelpers = nativeHelpers;
            return this;
        }

        /**
         * @param batches after each epoch, before evaluation, replace the running statistics of every
         *                batch norm by the average batch statistics of the network as it is then, over
         *                this many batches of the training data ({@link BatchNormStatistics}); 0 keeps
         *                DL4J's moving averages, which at 2 bits can lag the oscillating weights by
         *                several points of accuracy
         * @return this
         */
        public Builder batchNormReestimation(int batches) {
            this.batchNormBatches = batches;
            return this;
        }

        /**
         * @return the fine-tuner
         * @throws IllegalArgumentException naming the bad value
         */
        public FineTuner build() {
            if (network == null || train == null) {
                throw new IllegalArgumentException("fine-tuning needs a network and training data");
            }
            if (!(network instanceof Model)) {
                throw new IllegalArgumentException("network must be a MultiLayerNetwork or ComputationGraph, got "
                        + network.getClass().getName());
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            }
            if (batchNormBatches < 0) {
                throw new IllegalArgumentException("batch-norm re-estimation batches must be >= 0, got "
                        + batchNormBatches);
            }
            return new FineTuner(this);
        }
    }
}
