package io.github.lsq4j.samples.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.spark.GradientSharingTraining.Engine;
import io.github.lsq4j.samples.spark.GradientSharingTraining.Run;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/**
 * dl4j-spark-parameterserver 1.0.0-M2 trains the demo's 4-bit LSQ ResNet-8 on the 1.0.0-M2.1 core with
 * gradient sharing (SharedTrainingMaster, Spark local[2], Aeron on 127.0.0.1), with the step unit and the
 * threshold lsq4j recommends: every step learns (stored as themselves, under DL4J's default threshold, none
 * moves at all, see {@code samples/results/spark-gradient-sharing/report.md}), and the test top-1 ends within
 * 1 point of one worker trained on the same batches with the same schedule. Skipped without Fashion-MNIST (CI
 * installs it).
 */
class GradientSharingTrainingTest {
    /** The demo's quick schedule: 8,000 training images, one LSQ epoch. */
    private static final int IMAGES = 8000;

    @Test
    void stepsLearnUnderGradientSharing() {
        FashionMnist.Splits data = fashionMnistOrSkip();
        List<DataSet> batches = GradientSharingTraining.batches(data.train(), IMAGES, 1);
        ComputationGraph start = GradientSharingTraining.calibratedLsq(batches, 1,
                GradientSharingTraining.STEP_UNIT);

        Run one = GradientSharingTraining.fineTune(null, start, null, Engine.ONE_WORKER, batches, data.test());
        Run shared;
        try (JavaSparkContext sc = SparkTraining.localContext()) {
            shared = GradientSharingTraining.fineTune(sc, start,
                    GradientSharingTraining.gradientSharing(GradientSharingTraining.lsqThreshold()),
                    Engine.GRADIENT_SHARING, batches, data.test());
        }
        // Every step, weight and input, moves, as with one worker.
        one.stepChanges().forEach((layer, change) -> assertTrue(change[0] > 0 && change[1] > 0,
                layer + ": a step did not move with one worker\n" + one));
        shared.stepChanges().forEach((layer, change) -> assertTrue(change[0] > 0 && change[1] > 0,
                layer + ": a step did not move under gradient sharing\n" + shared));
        assertTrue(shared.accuracy() >= one.accuracy() - 0.01,
                "gradient sharing more than 1 point below one worker:\n" + one + shared);
    }

    private static FashionMnist.Splits fashionMnistOrSkip() {
        try {
            return FashionMnist.load(FashionMnist.DEFAULT_DIR);
        } catch (NoSuchFileException e) {
            return Assumptions.abort("Fashion-MNIST is not in " + FashionMnist.DEFAULT_DIR + ": " + e.getMessage());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read Fashion-MNIST in " + FashionMnist.DEFAULT_DIR, e);
        }
    }
}
