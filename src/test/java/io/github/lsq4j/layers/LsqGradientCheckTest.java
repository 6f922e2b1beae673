package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * DL4J's numerical gradient check on networks of LSQ layers with quantization off (the quantizer's
 * straight-through gradients are not true derivatives, so only the unquantized layers can be checked
 * numerically). Fails by a factor of 2 without the runtime layer's gradient fix.
 */
class LsqGradientCheckTest {

    @BeforeEach
    void doublePrecision() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @Test
    void multiLayerNetworkPassesGradientCheck() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(12).dataType(DataType.DOUBLE)
                .updater(new NoOp()).weightInit(WeightInit.XAVIER).list()
                .layer(TestNets.conv(true, TestNets.Quant.OFF, 2, 3, 1, 1, 1, ConvolutionMode.Truncate,
                        Activation.TANH, true))
                .layer(TestNets.conv(true, TestNets.Quant.OFF, 3, 2, 2, 0, 1, ConvolutionMode.Same,
                        Activation.SIGMOID, false))
                .layer(TestNets.dense(true, TestNets.Quant.OFF, 4, Activation.TANH, true))
                .layer(TestNets.output(3))
                .setInputType(InputType.convolutional(5, 5, 2)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray x = TestNets.input(DataType.DOUBLE, 5, 3, 2, 5, 5);
        INDArray y = TestNets.labels(DataType.DOUBLE, 3, 3);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x).labels(y)
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9));
        assertTrue(ok, "gradient check of a MultiLayerNetwork of LSQ layers (quantization off)");
    }

    @Test
    void computationGraphWithBatchNormAndResidualPassesGradientCheck() {
        ComputationGraph net = TestNets.graph(true, TestNets.Quant.OFF, DataType.DOUBLE, new NoOp(), 3,
                Activation.TANH, 4);
        INDArray x = TestNets.input(DataType.DOUBLE, 6, 3, 2, 4, 4);
        INDArray y = TestNets.labels(DataType.DOUBLE, 3, 3);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[] {x}).labels(new INDArray[] {y})
                // A subset of each parameter keeps the test fast (a graph forward pass costs ~50 ms here).
                .subset(true).maxPerParam(8)
                // Batch norm's running mean and variance are not trained by gradients.
                .excludeParams(Set.of("bn1_mean", "bn1_var", "bn1_log10stdev", "bn2_mean", "bn2_var", "bn2_log10stdev"))
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9));
        assertTrue(ok, "gradient check of a ComputationGraph with LSQ layers, batch norm and a residual add");
    }
}
