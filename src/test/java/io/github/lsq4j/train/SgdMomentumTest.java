package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class SgdMomentumTest {

    /** PyTorch's SGD: buf = mu * buf + g; p -= lr * buf (the first step uses buf = g). */
    @Test
    void updateIsHeavyBallMomentumAsInPyTorch() {
        SgdMomentum config = new SgdMomentum(CosineSchedule.overIterations(0.1, 4), 0.9);
        INDArray state = Nd4j.zeros(DataType.DOUBLE, 1, 2);
        GradientUpdater<?> updater = config.instantiate(state, true);
        double[][] grads = {{1, -2}, {0.5, 0.5}, {-1, 3}};
        double[] buf = {0, 0};
        for (int t = 0; t < grads.length; t++) {
            INDArray g = Nd4j.createFromArray(grads[t].clone()).reshape(1, 2);
            updater.applyUpdater(g, t, 0);
            double lr = 0.1 * 0.5 * (1 + Math.cos(Math.PI * t / 4));
            for (int i = 0; i < 2; i++) {
                buf[i] = 0.9 * buf[i] + grads[t][i];
            }
            assertArrayEquals(new double[] {lr * buf[0], lr * buf[1]}, g.data().asDouble(), 1e-12, "step " + t);
        }
    }

    @Test
    void survivesTheJsonConfigurationRoundTrip() {
        SgdMomentum updater = new SgdMomentum(CosineSchedule.overIterations(0.01, 1234), 0.9);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().updater(updater).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(conf.toJson());
        org.deeplearning4j.nn.conf.layers.BaseLayer layer =
                (org.deeplearning4j.nn.conf.layers.BaseLayer) restored.getConf(0).getLayer();
        assertEquals(updater, layer.getIUpdater());
        assertEquals(0.01 * 0.5 * (1 + Math.cos(Math.PI * 100 / 1234)), layer.getIUpdater().getLearningRate(100, 0), 1e-15);
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        IllegalArgumentException momentum = assertThrows(IllegalArgumentException.class, () -> new SgdMomentum(0.1, 1.0));
        assertTrue(momentum.getMessage().contains("got 1.0"));
        IllegalArgumentException lr = assertThrows(IllegalArgumentException.class, () -> new SgdMomentum(-0.1, 0.9));
        assertTrue(lr.getMessage().contains("got -0.1"));
    }
}
