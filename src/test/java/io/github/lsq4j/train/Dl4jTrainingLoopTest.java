package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.deeplearning4j.earlystopping.EarlyStoppingConfiguration;
import org.deeplearning4j.earlystopping.EarlyStoppingResult;
import org.deeplearning4j.earlystopping.saver.InMemoryModelSaver;
import org.deeplearning4j.earlystopping.scorecalc.DataSetLossCalculator;
import org.deeplearning4j.earlystopping.termination.MaxEpochsTerminationCondition;
import org.deeplearning4j.earlystopping.trainer.EarlyStoppingTrainer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.listeners.CheckpointListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * LSQ networks in DL4J's own training loop: {@code fit(iterator, epochs)} with lsq4j's progress listener,
 * {@link FineTuner} advancing the epoch count and calling the network's listeners, DL4J's
 * {@link EarlyStoppingTrainer} and {@link CheckpointListener}.
 */
class Dl4jTrainingLoopTest {
    @TempDir
    Path dir;

    private static MultiLayerNetwork lsq() {
        MultiLayerNetwork lsq = LsqConverter.convert(TrainTestNets.deepMlp(1), QuantizationPolicy.paper(4));
        LsqLayers.calibrate(lsq, TrainTestNets.blobs(64, 16, 1));
        return lsq;
    }

    /** Counts epoch callbacks. */
    private static final class EpochCounter extends BaseTrainingListener {
        final AtomicInteger starts = new AtomicInteger();
        final AtomicInteger ends = new AtomicInteger();

        @Override
        public void onEpochStart(Model model) {
            starts.incrementAndGet();
        }

        @Override
        public void onEpochEnd(Model model) {
            ends.incrementAndGet();
        }
    }

    @Test
    void fineTunerRunsDl4jsLoopAndCallsTheNetworksListeners() {
        MultiLayerNetwork net = lsq();
        EpochCounter counter = new EpochCounter();
        net.setListeners(counter);
        List<EpochResult> results = FineTuner.builder(net, TrainTestNets.blobs(128, 16, 2)).epochs(3).progressBar(false)
                .build().fit();
        assertEquals(3, results.size());
        assertEquals(3, net.getEpochCount(), "epoch count");
        assertEquals(3, counter.starts.get());
        assertEquals(3, counter.ends.get());
        assertEquals(List.of(counter), List.copyOf(net.getListeners()), "the network keeps its own listeners only");
        assertTrue(Double.isFinite(results.get(2).meanLoss()) && results.get(2).examplesPerSecond() > 0);
    }

    @Test
    void fitWithEpochsAndTheProgressListener() {
        MultiLayerNetwork net = lsq();
        ProgressListener progress = new ProgressListener(false, 128);
        net.setListeners(progress);
        net.fit(TrainTestNets.blobs(128, 16, 3), 2);
        assertEquals(2, net.getEpochCount());
        assertEquals(128, progress.examples());
        assertTrue(Double.isFinite(progress.meanLoss()));
    }

    @Test
    void earlyStoppingTrainerTrainsAnLsqNetwork() {
        MultiLayerNetwork net = lsq();
        DataSetIterator train = TrainTestNets.blobs(128, 16, 4);
        DataSetIterator test = TrainTestNets.blobs(64, 16, 5);
        EarlyStoppingConfiguration<MultiLayerNetwork> conf = new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
                .epochTerminationConditions(new MaxEpochsTerminationCondition(3))
                .scoreCalculator(new DataSetLossCalculator(test, true))
                .modelSaver(new InMemoryModelSaver<>()).build();
        EarlyStoppingResult<MultiLayerNetwork> result = new EarlyStoppingTrainer(conf, net, train).fit();
        assertEquals(3, result.getTotalEpochs());
        assertEquals(EarlyStoppingResult.TerminationReason.EpochTerminationCondition, result.getTerminationReason());
        MultiLayerNetwork best = result.getBestModel();
        assertEquals(4, LsqLayers.lsqLayers(best).size() + 1, "the best model is the LSQ network (3 LSQ layers)");
        test.reset();
        INDArray out = best.output(test.next().getFeatures());
        assertTrue(!out.isNaN().any() && Double.isFinite(result.getBestModelScore()));
    }

    @Test
    void checkpointListenerSavesRestorableLsqNetworks() throws Exception {
        MultiLayerNetwork net = lsq();
        net.setListeners(new CheckpointListener.Builder(dir.toFile()).saveEveryNEpochs(1).keepAll().build());
        net.fit(TrainTestNets.blobs(128, 16, 6), 2);
        List<org.deeplearning4j.optimize.listeners.Checkpoint> checkpoints = CheckpointListener.availableCheckpoints(dir.toFile());
        assertEquals(2, checkpoints.size());
        MultiLayerNetwork restored = CheckpointListener.loadLastCheckpointMLN(dir.toFile());
        INDArray x = TrainTestNets.blobs(16, 16, 7).next().getFeatures();
        assertEquals(net.output(x), restored.output(x), "the last checkpoint is the network");
        int epochs = restored.getEpochCount();
        INDArray before = restored.params().dup();
        restored.fit(TrainTestNets.blobs(32, 16, 8));
        assertEquals(epochs + 1, restored.getEpochCount(), "and it keeps training");
        assertTrue(restored.params().neq(before).any(), "its parameters move");
    }
}
