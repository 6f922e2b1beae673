package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.FashionMnistSubset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small convnet of 4-bit and 2-bit LSQ layers learns Fashion-MNIST, and 2-bit training stays finite. The
 * images are the committed subset ({@link FashionMnistSubset}), so the test needs no data set installed.
 */
class LsqFashionMnistTrainingTest {
    private static final Logger log = LoggerFactory.getLogger(LsqFashionMnistTrainingTest.class);
    /** Epochs over the 600 training images: about as many steps as 3 epochs of 2,000 images. */
    private static final int EPOCHS = 10;

    @BeforeEach
    void floatPrecision() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    /** conv(firstBits) - pool - conv(bits) - pool - dense(bits) - softmax (full precision, as in the paper). */
    private static MultiLayerNetwork convnet(int firstBits, int bits, int width) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(123).dataType(DataType.FLOAT)
                .updater(new Adam(2e-3)).list()
                .layer(new LsqConv2D.Builder().name("c1").nOut(width).kernelSize(3).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).bits(firstBits).inputSigned(true).build())
                .layer(new SubsamplingLayer.Builder().kernelSize(2, 2).stride(2, 2).build())
                .layer(new LsqConv2D.Builder().name("c2").nOut(2 * width).kernelSize(3)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).bits(bits).inputSigned(false)
                        .build())
                .layer(new SubsamplingLayer.Builder().kernelSize(2, 2).stride(2, 2).build())
                .layer(new LsqDense.Builder().name("fc").nOut(32).activation(Activation.RELU).bits(bits)
                        .inputSigned(false).build())
                .layer(new OutputLayer.Builder().nOut(10).activation(Activation.SOFTMAX)
                        .lossFunction(LossFunctions.LossFunction.MCXENT).build())
                .setInputType(InputType.convolutional(28, 28, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static Map<String, Double> steps(MultiLayerNetwork net) {
        Map<String, Double> out = new HashMap<>();
        for (QuantizedLayer l : LsqLayers.lsqLayers(net)) {
            out.put(l.name() + "_sw", l.getParam("sw").getDouble(0));
            out.put(l.name() + "_sx", l.getParam("sx").getDouble(0));
        }
        return out;
    }

    @Test
    void fourAndTwoBitConvnetLearnsFashionMnist() {
        DataSet train = FashionMnistSubset.load(FashionMnistSubset.Split.TRAIN);
        DataSet test = FashionMnistSubset.load(FashionMnistSubset.Split.TEST);
        MultiLayerNetwork net = convnet(4, 2, 8);
        ListDataSetIterator<DataSet> it = new ListDataSetIterator<>(train.asList(), 50);
        // A training-mode forward pass on the first batch initializes the steps, as fit() would.
        net.feedForward(it.next().getFeatures(), true);
        Map<String, Double> initial = steps(net);
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            it.reset();
            net.fit(it);
        }
        Evaluation eval = net.evaluate(new ListDataSetIterator<>(test.asList(), 100));
        log.info("4/2-bit LSQ convnet, {} Fashion-MNIST images x {} epochs: test accuracy {}", train.numExamples(),
                EPOCHS, eval.accuracy());
        assertTrue(eval.accuracy() > 0.6, "test accuracy " + eval.accuracy() + " should be clearly above chance (0.1)");
        Map<String, Double> trained = steps(net);
        for (Map.Entry<String, Double> e : trained.entrySet()) {
            assertNotEquals(initial.get(e.getKey()), e.getValue(), e.getKey() + " must be learned");
            assertTrue(e.getValue() > 0, e.getKey());
        }
        log.info("steps at initialization {} and after training {}", initial, trained);
    }

    @Test
    void twoBitTrainingStaysFiniteFor1000Steps() {
        DataSet train = FashionMnistSubset.load(FashionMnistSubset.Split.TRAIN);
        MultiLayerNetwork net = convnet(2, 2, 4);
        List<DataSet> batches = train.batchBy(16);
        int steps = 0;
        while (steps < 1000) {
            for (DataSet b : batches) {
                net.fit(b);
                steps++;
                if (steps % 100 == 0) {
                    assertTrue(Double.isFinite(net.score()), "score at step " + steps + ": " + net.score());
                }
                if (steps == 1000) {
                    break;
                }
            }
        }
        INDArray params = net.params();
        TestNets.assertAllFinite(params, "parameters after 1000 steps at 2 bits");
        TestNets.assertAllFinite(net.output(batches.get(0).getFeatures()), "output after 1000 steps");
        for (Map.Entry<String, Double> e : steps(net).entrySet()) {
            assertTrue(e.getValue() > 0 && Double.isFinite(e.getValue()), e.getKey() + " = " + e.getValue());
        }
        log.info("2-bit: 1000 steps, final score {}", net.score());
    }
}
