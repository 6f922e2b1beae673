package io.github.lsq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A network with the native helpers attached computes what the built-in layers compute: outputs in
 * training and inference mode, every gradient, and the parameters (batch-norm running statistics
 * included) after a few training steps.
 */
class OneDnnHelpersTest {
    private static final double TOL = 2e-4;

    @Test
    void helpersChangeNothingButSpeed() {
        ComputationGraph plain = net(DataType.FLOAT);
        ComputationGraph helped = plain.clone();
        assertEquals(6, OneDnnHelpers.attach(helped), "3 convolutions, 2 batch norms, 1 max pool get a helper");
        assertEquals(0, OneDnnHelpers.attach(helped), "attaching twice adds nothing");

        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 16, 2, 14, 14);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 4);
        for (int i = 0; i < 16; i++) {
            y.putScalar(i, i % 4, 1);
        }
        DataSet data = new DataSet(x, y);

        assertClose(plain.outputSingle(false, x), helped.outputSingle(false, x), "inference output");
        assertClose(plain.outputSingle(true, x), helped.outputSingle(true, x), "training output");
        plain.setInputs(x);
        plain.setLabels(y);
        plain.computeGradientAndScore();
        helped.setInputs(x);
        helped.setLabels(y);
        helped.computeGradientAndScore();
        Map<String, INDArray> expected = plain.gradient().gradientForVariable();
        Map<String, INDArray> actual = helped.gradient().gradientForVariable();
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertClose(v, actual.get(k), "gradient " + k));
        assertTrue(expected.get("c1_W").amaxNumber().doubleValue() > 1e-4, "gradients must not be trivially zero");

        for (int i = 0; i < 3; i++) {
            plain.fit(data);
            helped.fit(data);
        }
        assertClose(plain.params(), helped.params(), "parameters after 3 steps, running statistics included");
        assertClose(plain.outputSingle(false, x), helped.outputSingle(false, x), "inference output after training");
    }

    @Test
    void leavesDoubleNetworksAndOtherLayersAlone() {
        assertEquals(0, OneDnnHelpers.attach(net(DataType.DOUBLE)), "the helpers support float only");
        ComputationGraph depthwise = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).nOut(4).build(), "in")
                .addLayer("out", new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build(), "dw")
                .setOutputs("out").setInputTypes(InputType.convolutional(8, 8, 2)).build());
        depthwise.init();
        assertEquals(0, OneDnnHelpers.attach(depthwise), "subclasses of the stock layers get no helper");
    }

    private static ComputationGraph net(DataType type) {
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(5).dataType(type)
                .updater(new Nesterovs(0.05, 0.9)).weightInit(WeightInit.RELU).graphBuilder()
                .addInputs("in")
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(8).hasBias(false)
                        .convolutionMode(ConvolutionMode.Same).build(), "in")
                .addLayer("bn1", new BatchNormalization.Builder().build(), "c1")
                .addLayer("relu1", new ActivationLayer(Activation.RELU), "bn1")
                .addLayer("c2", new ConvolutionLayer.Builder(3, 3).nOut(8).convolutionMode(ConvolutionMode.Same)
                        .build(), "relu1")
                .addLayer("bn2", new BatchNormalization.Builder().build(), "c2")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn2", "relu1")
                .addLayer("relu2", new ActivationLayer(Activation.RELU), "add")
                .addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                        "relu2")
                .addLayer("c3", new ConvolutionLayer.Builder(2, 2).nOut(6).activation(Activation.RELU).build(), "pool")
                .addLayer("gap", new GlobalPoolingLayer(PoolingType.AVG), "c3")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").setInputTypes(InputType.convolutional(14, 14, 2)).build());
        net.init();
        return net;
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double diff = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        double scale = Math.max(1e-3, expected.amaxNumber().doubleValue());
        assertTrue(diff <= TOL * scale, what + ": max |difference| " + diff + ", max |expected| " + scale);
    }
}
