package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lsq4j.backend.OneDnnHelpers;
import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqLayers;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * What DL4J M2.1 itself does to batch-norm running statistics in an LSQ network, checked against
 * PyTorch's definition ({@code running = (1 - momentum) * running + momentum * batch}, momentum 0.1 =
 * DL4J's decay 0.9): with the weights frozen (learning rate 0), k training steps on one batch must
 * give {@code running_k = 0.9^k * running_0 + (1 - 0.9^k) * batch}, for the mean and for the (biased)
 * variance that DL4J stores as log10(std), with and without the native helpers. Calibration and
 * evaluation must not touch the statistics. These are the candidates for issue 9's gap that lie in
 * DL4J's batch norm; this test rules them out.
 */
class Dl4jBatchNormMovingAverageTest {
    private static final int STEPS = 7;

    @BeforeEach
    void floatPrecision() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    /** LSQ conv (4 bits) - BN - stock conv - BN - pool - output, learning rate 0. */
    private static MultiLayerNetwork net() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(4).updater(new Sgd(0.0))
                .list()
                .layer(new LsqConv2D.Builder().nOut(4).kernelSize(3).convolutionMode(ConvolutionMode.Same).bits(4)
                        .inputSigned(true).hasBias(false).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new GlobalPoolingLayer(PoolingType.AVG))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 1)).build());
        net.init();
        return net;
    }

    @ParameterizedTest(name = "native helpers {0}")
    @ValueSource(booleans = {false, true})
    void runningStatisticsFollowPyTorchsMovingAverageExactly(boolean helpers) {
        MultiLayerNetwork net = net();
        Nd4j.getRandom().setSeed(11);
        DataSet batch = new DataSet(Nd4j.randn(DataType.FLOAT, 16, 1, 6, 6).muli(2).addi(1),
                Nd4j.eye(2).repeat(0, 8).castTo(DataType.FLOAT));
        double[][] mean0 = new double[2][];
        double[][] var0 = new double[2][];
        for (int b = 0; b < 2; b++) {
            mean0[b] = mean(bn(net, b));
            var0[b] = variance(bn(net, b));
        }
        LsqLayers.calibrate(net, new ListDataSetIterator<>(List.of(batch), 16), 1);
        FineTuner.accuracy(net, new ListDataSetIterator<>(List.of(batch), 16));
        for (int b = 0; b < 2; b++) {
            assertArrayEquals(mean0[b], mean(bn(net, b)), 0, "calibration and evaluation must not touch the running mean");
            assertArrayEquals(var0[b], variance(bn(net, b)), 0, "calibration and evaluation must not touch the running variance");
        }
        if (helpers) {
            assertEquals(3, OneDnnHelpers.attach(net), "helpers on both batch norms and the stock conv");
        }
        List<INDArray> acts = net.feedForward(batch.getFeatures(), true);

        for (int i = 0; i < STEPS; i++) {
            net.fit(batch);
        }

        double keep = Math.pow(0.9, STEPS);
        for (int b = 0; b < 2; b++) {
            INDArray input = acts.get(b == 0 ? 1 : 3).castTo(DataType.DOUBLE);
            double[] batchMean = input.mean(0, 2, 3).toDoubleVector();
            double[] batchVar = input.var(false, 0, 2, 3).toDoubleVector();
            double[] mean = mean(bn(net, b));
            double[] var = variance(bn(net, b));
            for (int c = 0; c < batchMean.length; c++) {
                double expectedMean = keep * mean0[b][c] + (1 - keep) * batchMean[c];
                double expectedVar = keep * var0[b][c] + (1 - keep) * batchVar[c];
                assertEquals(expectedMean, mean[c], 1e-5 * Math.max(1, Math.abs(expectedMean)), "bn" + b + " mean, channel " + c);
                assertEquals(expectedVar, var[c], 1e-4 * expectedVar, "bn" + b + " variance, channel " + c);
            }
        }
    }

    private static Layer bn(MultiLayerNetwork net, int which) {
        return net.getLayer(which == 0 ? 1 : 3);
    }

    private static double[] mean(Layer bn) {
        return bn.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).toDoubleVector();
    }

    private static double[] variance(Layer bn) {
        INDArray log10Std = bn.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD).castTo(DataType.DOUBLE);
        return Transforms.pow(Nd4j.valueArrayOf(log10Std.shape(), 10.0, DataType.DOUBLE), log10Std.mul(2)).toDoubleVector();
    }
}
