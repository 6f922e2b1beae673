package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.learning.regularization.L2Regularization;

class LsqRecipeTest {

    @ParameterizedTest(name = "{0} bits: lr {1}, weight decay {2}")
    @CsvSource({"2, 0.01, 0.25e-4", "3, 0.01, 0.5e-4", "4, 0.01, 1e-4", "8, 0.001, 1e-4"})
    void paperSettingsByPrecision(int bits, double lr, double weightDecay) {
        LsqRecipe recipe = LsqRecipe.paper(bits);
        assertEquals(lr, recipe.learningRate());
        assertEquals(weightDecay, recipe.weightDecay());
        assertEquals(0.9, recipe.momentum());
    }

    @Test
    void appliedRecipeKeepsParametersAndSurvivesJson() {
        MultiLayerNetwork net = TrainTestNets.mlp(1);
        net.fit(TrainTestNets.blobs(64, 16, 1));
        MultiLayerNetwork tuned = LsqRecipe.paper(3).applyTo(net, 500);

        assertEquals(net.params(), tuned.params());
        assertEquals(0, tuned.getIterationCount());
        BaseLayer layer = (BaseLayer) tuned.getLayer(0).conf().getLayer();
        SgdMomentum updater = assertInstanceOf(SgdMomentum.class, layer.getIUpdater());
        assertEquals(CosineSchedule.overIterations(0.01, 500), updater.getLearningRateSchedule());
        assertEquals(List.of(new L2Regularization(0.5e-4)), layer.getRegularization());
        assertEquals(List.of(new L2Regularization(0.5e-4)), layer.getRegularizationBias());

        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(tuned.getLayerWiseConfigurations().toJson());
        assertEquals(tuned.getLayerWiseConfigurations(), restored);
        tuned.fit(TrainTestNets.blobs(64, 16, 2));
        assertTrue(tuned.getIterationCount() > 0);
    }

    @Test
    void badOverridesAreRefusedWithTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LsqRecipe.paper(4).withLearningRate(0))
                .getMessage().contains("got 0.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LsqRecipe.paper(4).withWeightDecay(-1))
                .getMessage().contains("got -1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LsqRecipe.paper(9)).getMessage().contains("got 9"));
    }
}
