package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.lossfunctions.LossFunctions;

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

    private static MultiLayerNetwork batchNormNet() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(4).dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().nOut(6).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.getLayer(1).getParam(BatchNormalizationParamInitializer.GAMMA).assign(Nd4j.createFromArray(0.5, 0.8, 1.1, 1.4, 1.7, 2.0));
        net.getLayer(1).getParam(BatchNormalizationParamInitializer.BETA).assign(Nd4j.createFromArray(-1.0, -0.6, -0.2, 0.2, 0.6, 1.0));
        return net;
    }

    /**
     * PyTorch's weight decay, as the paper's recipe uses it, decays batch-norm gamma and beta too: after one
     * step (momentum buffer empty) the two recipes' gamma and beta differ by exactly {@code lr * wd * value}.
     */
    @Test
    void paperRecipeDecaysBatchNormGammaAndBetaUnlessAskedNotTo() {
        LsqRecipe paper = LsqRecipe.paper(2).withLearningRate(0.5).withWeightDecay(0.1);
        MultiLayerNetwork decayed = paper.applyTo(batchNormNet(), 100);
        MultiLayerNetwork dl4jRule = paper.withBatchNormDecay(false).applyTo(decayed, 100);
        assertInstanceOf(DecayedBatchNormalization.class, decayed.getLayer(1).conf().getLayer());
        assertEquals(BatchNormalization.class, dl4jRule.getLayer(1).conf().getLayer().getClass());
        List<String> learned = List.of(BatchNormalizationParamInitializer.GAMMA, BatchNormalizationParamInitializer.BETA);
        Map<String, INDArray> before = new HashMap<>();
        learned.forEach(key -> before.put(key, decayed.getLayer(1).getParam(key).dup()));

        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 16, 3);
        for (int i = 0; i < 16; i++) {
            labels.putScalar(i, i % 3, 1);
        }
        DataSet batch = new DataSet(Nd4j.rand(DataType.DOUBLE, 16, 4), labels);
        decayed.fit(batch);
        dl4jRule.fit(batch);
        for (String key : learned) {
            INDArray difference = dl4jRule.getLayer(1).getParam(key).sub(decayed.getLayer(1).getParam(key));
            assertTrue(before.get(key).mul(0.5 * 0.1).equalsWithEps(difference, 1e-12), key + ": " + difference);
        }
        assertEquals(decayed.getLayer(0).params(), dl4jRule.getLayer(0).params(), "a dense layer is decayed in both");
    }

    @Test
    void decayedBatchNormSurvivesJsonAndTheModelFile(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = LsqRecipe.paper(4).applyTo(batchNormNet(), 10);
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        DecayedBatchNormalization bn = assertInstanceOf(DecayedBatchNormalization.class, restored.getConf(1).getLayer());
        assertEquals(net.getLayer(1).conf().getLayer(), bn);
        assertEquals(List.of(new L2Regularization(1e-4)), bn.getRegularizationByParam("gamma"));
        assertEquals(null, bn.getRegularizationByParam(BatchNormalizationParamInitializer.GLOBAL_MEAN));

        Path file = dir.resolve("net.zip");
        ModelFiles.save(net, file);
        MultiLayerNetwork loaded = ModelFiles.loadMultiLayerNetwork(file);
        assertInstanceOf(DecayedBatchNormalization.class, loaded.getLayer(1).conf().getLayer());
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 4);
        assertEquals(net.output(x), loaded.output(x));
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
