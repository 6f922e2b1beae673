package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class FineTunerTest {

    @Test
    void trainsForTheEpochsAndEvaluatesAfterEach() {
        MultiLayerNetwork net = LsqRecipe.fullPrecision().applyTo(TrainTestNets.mlp(1), 5 * 32);
        List<EpochResult> seen = new ArrayList<>();
        List<EpochResult> results = FineTuner.builder(net, TrainTestNets.blobs(512, 16, 1))
                .test(TrainTestNets.blobs(256, 64, 2)).epochs(5).progressBar(false).afterEpoch(seen::add).build().fit();

        assertEquals(5, results.size());
        assertEquals(results, seen);
        assertEquals(5 * 32, net.getIterationCount());
        assertTrue(results.get(4).meanLoss() < results.get(0).meanLoss(), results.toString());
        assertTrue(results.get(4).testAccuracy() > 0.8, results.toString());
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> FineTuner.builder(TrainTestNets.mlp(1), TrainTestNets.blobs(8, 4, 1)).epochs(0).build())
                .getMessage().contains("got 0"));
    }
}
