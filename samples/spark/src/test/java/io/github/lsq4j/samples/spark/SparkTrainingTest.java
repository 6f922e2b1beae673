package io.github.lsq4j.samples.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.train.ModelFiles;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * dl4j-spark 1.0.0-M2 trains an lsq4j network on the 1.0.0-M2.1 core in Spark local mode (local[2]) with
 * parameter averaging: the LSQ network learns, its steps train, and the saved model restores with
 * bit-identical outputs.
 */
class SparkTrainingTest {
    @TempDir
    Path dir;

    @Test
    void lsqNetworkTrainsOnSpark() throws Exception {
        List<DataSet> train = SparkTraining.quadrants(64, 1);
        List<DataSet> test = SparkTraining.quadrants(16, 2);
        MultiLayerNetwork fp = SparkTraining.floatNetwork(1);
        fp.fit(new ListDataSetIterator<>(List.of(train.get(0), train.get(1))));
        MultiLayerNetwork lsq = SparkTraining.calibratedLsq(fp, train.get(0));
        double before = SparkTraining.accuracy(lsq, test);
        double[] stepsBefore = steps(lsq);

        MultiLayerNetwork trained;
        try (JavaSparkContext sc = SparkTraining.localContext()) {
            trained = SparkTraining.train(sc, lsq, train, 3);
        }
        double after = SparkTraining.accuracy(trained, test);
        assertTrue(after >= 0.9 && after > before, "accuracy before " + before + ", after " + after);
        double[] stepsAfter = steps(trained);
        for (int i = 0; i < stepsBefore.length; i++) {
            assertTrue(stepsAfter[i] > 0 && stepsAfter[i] != stepsBefore[i], "step " + i + ": " + stepsBefore[i]
                    + " -> " + stepsAfter[i]);
        }

        Path file = dir.resolve("spark.zip");
        ModelFiles.save(trained, file);
        MultiLayerNetwork restored = ModelFiles.loadMultiLayerNetwork(file);
        INDArray x = test.get(0).getFeatures();
        assertEquals(trained.output(x), restored.output(x), "restored: bit-identical outputs");
    }

    /** @return every LSQ step of the network, weight and input steps layer by layer */
    private static double[] steps(MultiLayerNetwork net) {
        return GradientSharingTraining.stepValues(net).values().stream().flatMap(java.util.Arrays::stream)
                .flatMapToDouble(java.util.Arrays::stream).toArray();
    }
}
