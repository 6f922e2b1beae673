package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
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

    private static void assertSameSettings(LsqRecipe expected, LsqRecipe actual) {
        assertEquals(expected.learningRate(), actual.learningRate(), "learning rate");
        assertEquals(expected.weightDecay(), actual.weightDecay(), "weight decay");
        assertEquals(expected.momentum(), actual.momentum(), "momentum");
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void recipeOfAPolicyIsTheRecipeOfItsBits(int bits) {
        assertSameSettings(LsqRecipe.paper(bits), LsqRecipe.paper(QuantizationPolicy.paper(bits)));
    }

    /** The first and last layer's 8 bits do not count: the narrowest weight quantizer sets the precision. */
    @Test
    void recipeOfAConvertedNetworkIsTheRecipeOfItsNarrowestWeights() {
        MultiLayerNetwork net = LsqConverter.convert(TrainTestNets.deepMlp(1), QuantizationPolicy.paper(2));
        LsqRecipe recipe = LsqRecipe.paper(net);
        assertSameSettings(LsqRecipe.paper(2), recipe);
        assertEquals(0.01, recipe.learningRate());
        assertEquals(0.25e-4, recipe.weightDecay());
    }

    @Test
    void recipeOfANetworkWithoutQuantizedWeightsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LsqRecipe.paper(TrainTestNets.mlp(1)));
        MultiLayerNetwork floatCopy = LsqConverter.convert(TrainTestNets.deepMlp(1),
                QuantizationPolicy.builder(2).quantize(false).build());
        assertThrows(IllegalArgumentException.class, () -> LsqRecipe.paper(floatCopy));
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
