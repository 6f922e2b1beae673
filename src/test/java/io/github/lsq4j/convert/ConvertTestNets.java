package io.github.lsq4j.convert;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small float networks to convert. */
public final class ConvertTestNets {
    private ConvertTestNets() {
    }

    /** LeNet-like: conv-relu, max pool, conv-relu, max pool, dense-relu, softmax output; 1x28x28 input. */
    public static MultiLayerNetwork leNet(long seed, DataType type) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
                .updater(new Nesterovs(0.01, 0.9)).weightInit(WeightInit.RELU).l2(1e-4).list()
                .layer(new ConvolutionLayer.Builder(5, 5).name("conv1").nOut(8).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool1").kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv2").nOut(16).activation(Activation.RELU)
                        .convolutionMode(ConvolutionMode.Same).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool2").kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().name("fc1").nOut(32).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(28, 28, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** A multi-layer perceptron 784-256-128-10 for 1x28x28 input, trained with Adam. */
    public static MultiLayerNetwork mlp(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
                .updater(new Adam(1e-3)).weightInit(WeightInit.RELU).list()
                .layer(new DenseLayer.Builder().name("fc1").nOut(256).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc2").nOut(128).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(28, 28, 1))
                .build());
        net.init();
        return net;
    }

    /**
     * A residual graph: stem conv (no bias) - BN - ReLU; a basic block (conv-BN-ReLU-conv-BN, add, ReLU)
     * with identity shortcut; global average pool; softmax output. 1x12x12 input.
     */
    public static ComputationGraph residual(long seed, DataType type) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
                .updater(new Nesterovs(0.01, 0.9)).weightInit(WeightInit.RELU).graphBuilder()
                .addInputs("in")
                .addLayer("stem", new ConvolutionLayer.Builder(3, 3).nOut(6).hasBias(false)
                        .convolutionMode(ConvolutionMode.Same).build(), "in")
                .addLayer("stem_bn", new BatchNormalization.Builder().build(), "stem")
                .addLayer("stem_relu", new ActivationLayer(Activation.RELU), "stem_bn")
                .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(6).hasBias(false)
                        .convolutionMode(ConvolutionMode.Same).build(), "stem_relu")
                .addLayer("a_bn", new BatchNormalization.Builder().build(), "a")
                .addLayer("a_relu", new ActivationLayer(Activation.RELU), "a_bn")
                .addLayer("b", new ConvolutionLayer.Builder(3, 3).nOut(6).hasBias(false)
                        .convolutionMode(ConvolutionMode.Same).build(), "a_relu")
                .addLayer("b_bn", new BatchNormalization.Builder().build(), "b")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b_bn", "stem_relu")
                .addLayer("add_relu", new ActivationLayer(Activation.RELU), "add")
                .addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), "add_relu")
                .addLayer("output", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("output")
                .setInputTypes(InputType.convolutional(12, 12, 1))
                .build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }

    /**
     * A MobileNet-style graph: stem conv - BN - ReLU; a depthwise 3x3 (stride 2, no bias) - BN - ReLU and
     * a pointwise 1x1 conv - BN - ReLU; a depthwise 3x3 with depth multiplier 2 and bias, ReLU; global
     * average pool; softmax output. 1x12x12 input.
     */
    public static ComputationGraph depthwise(long seed, DataType type) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
                .updater(new Nesterovs(0.01, 0.9)).weightInit(WeightInit.RELU).graphBuilder()
                .addInputs("in")
                .addLayer("stem", new ConvolutionLayer.Builder(3, 3).nOut(6).hasBias(false)
                        .convolutionMode(ConvolutionMode.Same).build(), "in")
                .addLayer("stem_bn", new BatchNormalization.Builder().build(), "stem")
                .addLayer("stem_relu", new ActivationLayer(Activation.RELU), "stem_bn")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).stride(2, 2).hasBias(false)
                        .convolutionMode(ConvolutionMode.Same).build(), "stem_relu")
                .addLayer("dw_bn", new BatchNormalization.Builder().build(), "dw")
                .addLayer("dw_relu", new ActivationLayer(Activation.RELU), "dw_bn")
                .addLayer("pw", new ConvolutionLayer.Builder(1, 1).nOut(8).hasBias(false).build(), "dw_relu")
                .addLayer("pw_bn", new BatchNormalization.Builder().build(), "pw")
                .addLayer("pw_relu", new ActivationLayer(Activation.RELU), "pw_bn")
                .addLayer("dw2", new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2).padding(1, 1)
                        .activation(Activation.RELU).build(), "pw_relu")
                .addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), "dw2")
                .addLayer("output", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("output")
                .setInputTypes(InputType.convolutional(12, 12, 1))
                .build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }

    /**
     * Separable convolutions in a MultiLayerNetwork: conv 3x3 - ReLU; separable 3x3, depth multiplier 2,
     * stride 2 (Same), ReLU; separable 3x3 with padding 1 and dilation 2 without bias, tanh; dense (after
     * DL4J's CNN-to-dense preprocessor); softmax output. 2x12x12 input.
     */
    public static MultiLayerNetwork separable(long seed, DataType type) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed).dataType(type)
                .updater(new Nesterovs(0.01, 0.9)).weightInit(WeightInit.XAVIER).list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(4).activation(Activation.RELU)
                        .convolutionMode(ConvolutionMode.Same).build())
                .layer(new SeparableConvolution2D.Builder(3, 3).name("sep1").depthMultiplier(2).stride(2, 2).nOut(6)
                        .activation(Activation.RELU).convolutionMode(ConvolutionMode.Same).build())
                .layer(new SeparableConvolution2D.Builder(3, 3).name("sep2").padding(2, 2).dilation(2, 2).nOut(5)
                        .hasBias(false).activation(Activation.TANH).convolutionMode(ConvolutionMode.Truncate).build())
                .layer(new DenseLayer.Builder().name("fc").nOut(7).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(12, 12, 2))
                .build());
        net.init();
        return net;
    }

    /**
     * Two inputs and two outputs: an image (1x8x8, zero padded, conv, global pooling) and a vector of 4
     * (dense) merged into a dense trunk; a softmax classifier, and a regression head (dense, then an
     * MSE loss layer without weights).
     */
    public static ComputationGraph twoInputsTwoOutputs(long seed) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.FLOAT)
                .updater(new Nesterovs(0.01, 0.9)).weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("image", "meta")
                .addLayer("image_pad", new ZeroPaddingLayer(1, 1), "image")
                .addLayer("image_conv", new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.RELU).build(),
                        "image_pad")
                .addLayer("image_pool", new GlobalPoolingLayer(PoolingType.AVG), "image_conv")
                .addLayer("meta_fc", new DenseLayer.Builder().nOut(5).activation(Activation.RELU).build(), "meta")
                .addVertex("merge", new MergeVertex(), "image_pool", "meta_fc")
                .addLayer("trunk", new DenseLayer.Builder().nOut(6).activation(Activation.RELU).build(), "merge")
                .addLayer("class", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "trunk")
                .addLayer("aux_fc", new DenseLayer.Builder().nOut(2).activation(Activation.TANH).build(), "trunk")
                .addLayer("aux", new LossLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY)
                        .build(), "aux_fc")
                .setOutputs("class", "aux")
                .setInputTypes(InputType.convolutional(8, 8, 1), InputType.feedForward(4))
                .build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }
}
