package io.github.lsq4j.train;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

/**
 * A DL4J training listener that shows each epoch's progress (a progress bar with speed, ETA and mean
 * loss where {@code me.tongfei:progressbar} is on the class path, else an SLF4J line every 30 seconds)
 * and stops training that diverges. Works on any network and with DL4J's own training loop:
 * {@code net.addListeners(new ProgressListener(true, 60_000)); net.fit(iterator, 3);}. {@link FineTuner}
 * uses it.
 */
public final class ProgressListener extends BaseTrainingListener {
    private final boolean show;
    private final long examplesPerEpoch;
    private EpochProgress progress;
    private String task;
    private double lossSum;
    private int batches;
    private long examples;

    /**
     * @param show             whether to show progress (false: only track the loss and stop divergence)
     * @param examplesPerEpoch the size of an epoch, for the percentage and ETA, or -1 if unknown
     */
    public ProgressListener(boolean show, long examplesPerEpoch) {
        this.show = show;
        this.examplesPerEpoch = examplesPerEpoch;
    }

    /** @param name the name the next epoch's progress is shown under (default: "epoch N") */
    void nameNextEpoch(String name) {
        this.task = name;
    }

    @Override
    public void onEpochStart(Model model) {
        lossSum = 0;
        batches = 0;
        examples = 0;
        String name = task != null ? task : "epoch " + (epochCount(model) + 1);
        task = null;
        progress = EpochProgress.start(show, name, examplesPerEpoch);
    }

    /**
     * @throws IllegalStateException if the loss is not finite: the training diverged
     */
    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        double loss = model.score();
        if (!Double.isFinite(loss)) {
            closeProgress();
            throw new IllegalStateException("training diverged: loss " + loss + " in epoch " + (epoch + 1)
                    + ", batch " + (batches + 1));
        }
        long n = model.batchSize();
        lossSum += loss;
        batches++;
        examples += n;
        if (progress != null) {
            progress.step(n, lossSum / batches);
        }
    }

    @Override
    public void onEpochEnd(Model model) {
        closeProgress();
    }

    private void closeProgress() {
        if (progress != null) {
            progress.close();
            progress = null;
        }
    }

    /** @return the mean loss of the last (or current) epoch's batches, NaN if none */
    public double meanLoss() {
        return batches == 0 ? Double.NaN : lossSum / batches;
    }

    /** @return the examples of the last (or current) epoch */
    public long examples() {
        return examples;
    }

    private static int epochCount(Model model) {
        if (model instanceof org.deeplearning4j.nn.multilayer.MultiLayerNetwork m) {
            return m.getEpochCount();
        }
        if (model instanceof org.deeplearning4j.nn.graph.ComputationGraph g) {
            return g.getEpochCount();
        }
        return 0;
    }
}
