package io.github.lsq4j.samples.fashion;

import java.util.Random;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.deeplearning4j.nn.weights.WeightInitVarScalingUniformFanIn;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The reference networks of LSQ-SPEC.md for 28x28x1 inputs: ResNet-8 (one basic block per stage) and
 * ResNet-20 (three), built from stock DL4J layers. Stem conv 3x3 1-&gt;16 (no bias), BN, ReLU; three
 * stages of widths 16, 32, 64, whose first block in stages 2 and 3 has stride 2 and a 1x1 conv + BN
 * projection shortcut; a basic block is conv3x3-BN-ReLU-conv3x3-BN, add the shortcut, ReLU; global
 * average pool; fully connected 64-&gt;10 with softmax.
 *
 * <p>Convolutions pad explicitly by {@code (kernel - 1) / 2} on every side, as the PyTorch reference
 * ({@code padding=1}): a 3x3 convolution of stride 2 then centres its outputs on the even rows and
 * columns, where the 1x1 projection shortcut samples. DL4J's {@code ConvolutionMode.Same} would pad
 * only the bottom and right for stride 2, shifting the main path by one pixel against the shortcut.
 *
 * <p>Weights start as PyTorch's layers start them ({@code kaiming_uniform_(a=sqrt(5))}, uniform within
 * {@code +-1/sqrt(fanIn)}), and the output layer's bias uniform within {@code +-1/sqrt(64)}, as
 * {@code nn.Linear}'s: behind batch norm the scale of a convolution's weights does not change what it
 * computes, but it sets how far each step of SGD with weight decay moves it, so DL4J's ReLU init (a
 * variance six times larger) would train the full-precision network differently from the reference.
 */
public final class SmallResNet {
    private static final int[] WIDTHS = {16, 32, 64};
    /** DL4J's bound is {@code scale * 3 / sqrt(fanIn)}: a third gives PyTorch's {@code 1 / sqrt(fanIn)}. */
    private static final IWeightInit PYTORCH_DEFAULT_INIT = new WeightInitVarScalingUniformFanIn(1.0 / 3);

    private SmallResNet() {
    }

    /**
     * @param depth 8 or 20
     * @param seed  weight-initialization seed
     * @return the initialized network (its updater is replaced by the training recipe)
     */
    public static ComputationGraph build(int depth, long seed) {
        if (depth != 8 && depth != 20) {
            throw new IllegalArgumentException("depth must be 8 or 20, got " + depth);
        }
        int blocksPerStage = (depth - 2) / 6;
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(seed)
                // identity: DL4J's default activation is sigmoid, which the convolutions would otherwise apply
                .activation(Activation.IDENTITY)
                .weightInit(PYTORCH_DEFAULT_INIT).updater(new Sgd(0.1)).convolutionMode(ConvolutionMode.Truncate)
                .graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.convolutional(28, 28, 1));
        String x = convBnRelu(g, "stem", "input", 16, 3, 1);
        int in = 16;
        for (int stage = 0; stage < 3; stage++) {
            for (int block = 0; block < blocksPerStage; block++) {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                x = basicBlock(g, "s" + (stage + 1) + "b" + (block + 1), x, in, WIDTHS[stage], stride);
                in = WIDTHS[stage];
            }
        }
        g.addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), x)
                .addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("fc");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        INDArray fcBias = net.getLayer("fc").getParam(DefaultParamInitializer.BIAS_KEY);
        double bound = 1 / Math.sqrt(WIDTHS[WIDTHS.length - 1]);
        Random random = new Random(seed);
        for (long i = 0; i < fcBias.length(); i++) {
            fcBias.putScalar(i, (2 * random.nextDouble() - 1) * bound);
        }
        return net;
    }

    private static String basicBlock(ComputationGraphConfiguration.GraphBuilder g, String name, String input, int in,
                                     int out, int stride) {
        String a = convBnRelu(g, name + "_a", input, out, 3, stride);
        String b = convBn(g, name + "_b", a, out, 3, 1);
        String shortcut = input;
        if (stride != 1 || in != out) {
            shortcut = convBn(g, name + "_proj", input, out, 1, stride);
        }
        g.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), b, shortcut);
        g.addLayer(name + "_relu", new ActivationLayer(Activation.RELU), name + "_add");
        return name + "_relu";
    }

    private static String convBnRelu(ComputationGraphConfiguration.GraphBuilder g, String name, String input, int out,
                                     int kernel, int stride) {
        String bn = convBn(g, name, input, out, kernel, stride);
        g.addLayer(name + "_relu", new ActivationLayer(Activation.RELU), bn);
        return name + "_relu";
    }

    private static String convBn(ComputationGraphConfiguration.GraphBuilder g, String name, String input, int out,
                                 int kernel, int stride) {
        g.addLayer(name, new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride)
                .padding((kernel - 1) / 2, (kernel - 1) / 2).nOut(out).hasBias(false).build(), input);
        g.addLayer(name + "_bn", new BatchNormalization.Builder().build(), name);
        return name + "_bn";
    }
}
