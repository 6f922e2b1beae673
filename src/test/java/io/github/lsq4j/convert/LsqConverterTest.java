package io.github.lsq4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqDense;
import io.github.lsq4j.layers.LsqDepthwiseConv2D;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqOutputLayer;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LsqConverterTest {

    @Test
    void multiLayerNetworkWithQuantizationOffComputesWhatTheOriginalDoes() {
        MultiLayerNetwork original = ConvertTestNets.leNet(1, DataType.DOUBLE);
        MultiLayerNetwork converted = LsqConverter.convert(original,
                QuantizationPolicy.builder(4).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.DOUBLE, 6, 1, 28, 28);
        INDArray expected = original.output(x);
        INDArray actual = converted.output(x);
        assertTrue(expected.equalsWithEps(actual, 1e-10), "outputs differ: " + expected + " vs " + actual);
        assertEquals(original.numParams(), converted.numParams());
        assertEquals(original.getnLayers(), converted.getnLayers(), "the output layer is converted in place");
        assertInstanceOf(LsqOutputLayer.class, layer(converted, converted.getnLayers() - 1));
        for (int i = 0; i < original.getnLayers(); i++) {
            assertEquals(layer(original, i).getLayerName(), layer(converted, i).getLayerName(), "name of layer " + i);
        }
        assertEquals(original.getLayerWiseConfigurations().getInputPreProcessors(),
                converted.getLayerWiseConfigurations().getInputPreProcessors(), "preprocessors stay where they were");

        // The same output-layer gradients: the loss is converted one to one. (Not the score: DL4J leaves
        // the L2 terms of SameDiff layers, the converted convolutions, out of it.)
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 6, 10);
        for (int i = 0; i < 6; i++) {
            y.putScalar(i, i % 10, 1.0);
        }
        original.setInput(x);
        original.setLabels(y);
        converted.setInput(x);
        converted.setLabels(y);
        original.computeGradientAndScore();
        converted.computeGradientAndScore();
        int last = original.getnLayers() - 1;
        for (String key : new String[] {last + "_W", last + "_b"}) {
            assertTrue(original.gradient().getGradientFor(key).equalsWithEps(converted.gradient().getGradientFor(key),
                    1e-10), "gradient " + key);
        }
    }

    /**
     * Depthwise convolutions become {@link LsqDepthwiseConv2D}: exactly the float network with quantization
     * off, and per-channel weight steps by default (per tensor if the policy says so).
     */
    @Test
    void depthwiseConvolutionsConvertExactlyWithPerChannelSteps() {
        ComputationGraph original = ConvertTestNets.depthwise(2, DataType.DOUBLE);
        ComputationGraph off = LsqConverter.convert(original, QuantizationPolicy.builder(4).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 1, 12, 12);
        INDArray expected = original.outputSingle(x);
        assertTrue(expected.equalsWithEps(off.outputSingle(x), 1e-10), "quantization off: the float network's outputs");
        assertEquals(original.numParams(), off.numParams());

        ComputationGraph paper = LsqConverter.convert(original, QuantizationPolicy.paper(4));
        for (String name : new String[] {"dw", "dw2"}) {
            LsqDepthwiseConv2D conf = assertInstanceOf(LsqDepthwiseConv2D.class, paper.getLayer(name).conf().getLayer());
            assertEquals(LsqDepthwiseConv2D.WEIGHT_CHANNEL_AXIS, conf.getWeightQuantizer().channelAxis(), name);
            assertEquals(conf.getNOut(), paper.getLayer(name).getParam(LsqLayerConfig.WEIGHT_STEP_KEY).length(), name);
            assertEquals(4, conf.getWeightQuantizer().bits(), name);
        }
        assertEquals(16, lsq(paper, "dw2").getNOut(), "nOut = nIn * depthMultiplier");
        assertFalse(lsq(paper, "pw").getWeightQuantizer().isPerChannel(), "other layers keep the policy's per tensor");
        ComputationGraph perTensor = LsqConverter.convert(original,
                QuantizationPolicy.builder(4).perChannelDepthwise(false).build());
        assertFalse(lsq(perTensor, "dw").getWeightQuantizer().isPerChannel());
    }

    /**
     * A separable convolution {@code sep} becomes {@code sep_depthwise} (LsqDepthwiseConv2D: kernel, stride,
     * padding, dilation, no bias, identity) and {@code sep} (LsqConv2D 1x1: bias, activation), exactly the
     * float layer with quantization off; in a MultiLayerNetwork the layers and preprocessors after it
     * move up by one.
     */
    @Test
    void separableConvolutionsBecomeDepthwiseAndPointwiseExactly() {
        MultiLayerNetwork original = ConvertTestNets.separable(4, DataType.DOUBLE);
        MultiLayerNetwork off = LsqConverter.convert(original, QuantizationPolicy.builder(4).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 2, 12, 12).subi(0.5);
        INDArray expected = original.output(x);
        assertTrue(expected.equalsWithEps(off.output(x), 1e-10), "quantization off: the float network's outputs");
        assertEquals(original.numParams(), off.numParams(), "the same weights, in two layers");
        List<String> names = java.util.Arrays.stream(off.getLayers()).map(l -> l.conf().getLayer().getLayerName()).toList();
        assertEquals(List.of("conv", "sep1_depthwise", "sep1", "sep2_depthwise", "sep2", "fc", "out"), names);
        assertEquals(java.util.Set.of(5), off.getLayerWiseConfigurations().getInputPreProcessors().keySet(),
                "the dense layer's CNN-to-dense preprocessor moved with it");

        MultiLayerNetwork paper = LsqConverter.convert(original, QuantizationPolicy.paper(3));
        LsqDepthwiseConv2D depthwise = assertInstanceOf(LsqDepthwiseConv2D.class, layer(paper, 1));
        assertEquals(2, depthwise.getDepthMultiplier());
        assertArrayEquals(new int[] {2, 2}, depthwise.getStride());
        assertFalse(depthwise.isHasBias());
        assertFalse(depthwise.getInputQuantizer().signed(), "after the ReLU of 'conv'");
        assertTrue(depthwise.getWeightQuantizer().isPerChannel(), "depthwise: per channel");
        LsqConv2D pointwise = assertInstanceOf(LsqConv2D.class, layer(paper, 2));
        assertArrayEquals(new int[] {1, 1}, pointwise.getKernelSize());
        assertEquals(8, pointwise.getNIn());
        assertTrue(pointwise.getInputQuantizer().signed(), "the depthwise output is linear: signed");
        assertEquals(3, pointwise.getWeightQuantizer().bits());
        assertEquals(new org.nd4j.linalg.activations.impl.ActivationReLU(), pointwise.getActivationFn());
        assertArrayEquals(new int[] {2, 2}, ((LsqDepthwiseConv2D) layer(paper, 3)).getDilation());

        ComputationGraph graph = original.toComputationGraph();
        ComputationGraph graphOff = LsqConverter.convert(graph, QuantizationPolicy.builder(4).quantize(false).build());
        assertTrue(graph.outputSingle(x).equalsWithEps(graphOff.outputSingle(x), 1e-10), "graph: the float outputs");
        ComputationGraph graphPaper = LsqConverter.convert(graph, QuantizationPolicy.paper(3));
        String sep = graph.getLayer(1).conf().getLayer().getLayerName();
        assertInstanceOf(LsqDepthwiseConv2D.class, graphPaper.getLayer(sep + LsqConverter.PRECEDING_SUFFIX).conf().getLayer());
        assertEquals(List.of(sep + LsqConverter.PRECEDING_SUFFIX),
                graphPaper.getConfiguration().getVertexInputs().get(sep));
    }

    @Test
    void multiLayerNetworkGetsThePapersBitsAndInputSigns() {
        MultiLayerNetwork original = ConvertTestNets.leNet(1, DataType.FLOAT);
        MultiLayerNetwork converted = LsqConverter.convert(original, QuantizationPolicy.paper(2));

        LsqConv2D conv1 = (LsqConv2D) layer(converted, 0);
        LsqConv2D conv2 = (LsqConv2D) layer(converted, 2);
        LsqDense fc1 = (LsqDense) layer(converted, 4);
        LsqOutputLayer fc2 = (LsqOutputLayer) layer(converted, 5);
        assertEquals(original.getnLayers(), converted.getnLayers(), "the output layer is converted in place");
        assertEquals(8, conv1.getWeightQuantizer().bits(), "first layer at 8 bits");
        assertEquals(8, fc2.getWeightQuantizer().bits(), "last layer at 8 bits");
        assertEquals(2, conv2.getWeightQuantizer().bits());
        assertEquals(2, fc1.getInputQuantizer().bits());
        assertTrue(conv1.getInputQuantizer().signed(), "the network input is signed");
        assertFalse(conv2.getInputQuantizer().signed(), "after ReLU and max pooling: unsigned");
        assertFalse(fc1.getInputQuantizer().signed());
        assertFalse(fc2.getInputQuantizer().signed());
        assertEquals(original.numParams() + 4 * 2, converted.numParams(), "one weight and one input step per layer");

        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28);
        INDArray out = converted.output(x);
        assertFalse(out.isNaN().any() || out.isInfinite().any());
    }

    /** The converted configuration is complete: a fresh network made from it initializes finite parameters. */
    @Test
    void aFreshNetworkFromTheConvertedConfigurationIsFinite() {
        ComputationGraph converted = LsqConverter.convert(ConvertTestNets.residual(3, DataType.FLOAT),
                QuantizationPolicy.paper(4));
        ComputationGraph fresh = new ComputationGraph(converted.getConfiguration().clone());
        fresh.init();
        assertFalse(fresh.params().isNaN().any() || fresh.params().isInfinite().any(), "parameters of a fresh network");
        MultiLayerNetwork convertedMln = LsqConverter.convert(ConvertTestNets.leNet(1, DataType.FLOAT),
                QuantizationPolicy.paper(4));
        MultiLayerNetwork freshMln = new MultiLayerNetwork(convertedMln.getLayerWiseConfigurations().clone());
        freshMln.init();
        assertFalse(freshMln.params().isNaN().any() || freshMln.params().isInfinite().any());
    }

    @Test
    void graphWithBatchNormAndResidualAddConvertsExactly() {
        ComputationGraph original = ConvertTestNets.residual(3, DataType.DOUBLE);
        // non-trivial batch-norm statistics, so that copying them matters
        for (String key : original.getLayer("a_bn").paramTable().keySet()) {
            original.getLayer("a_bn").getParam(key).assign(Nd4j.rand(DataType.DOUBLE, 1, 6).addi(0.5));
        }
        ComputationGraph converted = LsqConverter.convert(original, QuantizationPolicy.builder(3).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 1, 12, 12);
        assertTrue(original.outputSingle(x).equalsWithEps(converted.outputSingle(x), 1e-10));
        assertEquals(original.numParams(), converted.numParams());
        assertInstanceOf(BatchNormalization.class, converted.getLayer("a_bn").conf().getLayer());
        assertEquals(List.of("output"), converted.getConfiguration().getNetworkOutputs());
        assertInstanceOf(LsqOutputLayer.class, converted.getLayer("output").conf().getLayer());

        ComputationGraph quantized = LsqConverter.convert(original, QuantizationPolicy.paper(3));
        assertTrue(lsq(quantized, "stem").getInputQuantizer().signed());
        assertFalse(lsq(quantized, "a").getInputQuantizer().signed());
        assertFalse(lsq(quantized, "output").getInputQuantizer().signed(), "global pool of relu(add of relu branches)");
        assertEquals(8, lsq(quantized, "stem").getWeightQuantizer().bits());
        assertEquals(3, lsq(quantized, "b").getWeightQuantizer().bits());
        assertEquals(8, lsq(quantized, "output").getWeightQuantizer().bits());
    }

    @Test
    void overridesAndSkipListApply() {
        QuantizationPolicy policy = QuantizationPolicy.builder(4).override("conv2", 3).skip("fc1").build();
        MultiLayerNetwork converted = LsqConverter.convert(ConvertTestNets.leNet(1, DataType.FLOAT), policy);
        assertEquals(3, ((LsqConv2D) layer(converted, 2)).getWeightQuantizer().bits());
        assertInstanceOf(org.deeplearning4j.nn.conf.layers.DenseLayer.class, layer(converted, 4));
    }

    @Test
    void policyRefusesBadBitsNamingTheLayer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuantizationPolicy.builder(4).override("conv2", 9).build());
        assertTrue(e.getMessage().contains("conv2") && e.getMessage().contains("got 9"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QuantizationPolicy.paper(1));
    }

    @Test
    void convertingAnUninitializedNetworkIsRefused() {
        MultiLayerNetwork net = new MultiLayerNetwork(ConvertTestNets.leNet(1, DataType.FLOAT).getLayerWiseConfigurations());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsqConverter.convert(net, QuantizationPolicy.paper(4)));
        assertTrue(e.getMessage().contains("init()"), e.getMessage());
    }

    private static Layer layer(MultiLayerNetwork net, int i) {
        return net.getLayer(i).conf().getLayer();
    }

    private static LsqLayerConfig lsq(ComputationGraph graph, String name) {
        Layer l = graph.getLayer(name).conf().getLayer();
        assertNotNull(l);
        return (LsqLayerConfig) l;
    }

    @Test
    void policyNamesThatMatchNoLayerAreRefusedListingTheLayers() {
        MultiLayerNetwork net = ConvertTestNets.leNet(1, DataType.FLOAT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsqConverter.convert(net, QuantizationPolicy.builder(4).override("conv9", 3).skip("fc7").build()));
        assertTrue(e.getMessage().contains("conv9") && e.getMessage().contains("fc7") && e.getMessage().contains("conv1"),
                e.getMessage());
    }

    @Test
    void convertingAConvertedNetworkIsRefused() {
        MultiLayerNetwork lsq = LsqConverter.convert(ConvertTestNets.leNet(1, DataType.FLOAT), QuantizationPolicy.paper(4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsqConverter.convert(lsq, QuantizationPolicy.paper(4)));
        assertTrue(e.getMessage().contains("already converted"), e.getMessage());
    }

    @Test
    void settingsTheLsqLayerDropsAreEachNamed() {
        Layer dense = new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(3).nOut(2).dropOut(0.8)
                .weightNoise(new org.deeplearning4j.nn.conf.weightnoise.DropConnect(0.9))
                .constrainWeights(new org.deeplearning4j.nn.conf.constraint.MaxNormConstraint(2.0, 1))
                .gradientNormalization(org.deeplearning4j.nn.conf.GradientNormalization.ClipL2PerLayer).build();
        List<String> dropped = LsqConverter.droppedSettings(dense);
        assertEquals(4, dropped.size(), dropped.toString());
        for (String what : new String[] {"dropout", "weight noise", "constraints", "gradient normalization ClipL2PerLayer"}) {
            assertTrue(dropped.stream().anyMatch(d -> d.startsWith(what)), what + " in " + dropped);
        }
        assertEquals(List.of(), LsqConverter.droppedSettings(
                new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(3).nOut(2).build()));
    }

    /** Dropout that can turn a ReLU output negative (AlphaDropout, GaussianNoise) makes the next input signed. */
    @Test
    void onlySignKeepingDropoutKeepsInputsUnsigned() {
        for (org.deeplearning4j.nn.conf.dropout.IDropout dropout : List.of(
                new org.deeplearning4j.nn.conf.dropout.Dropout(0.5),
                new org.deeplearning4j.nn.conf.dropout.AlphaDropout(0.5),
                new org.deeplearning4j.nn.conf.dropout.GaussianNoise(0.1))) {
            MultiLayerNetwork net = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                    .list()
                    .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(4).nOut(6)
                            .activation(org.nd4j.linalg.activations.Activation.RELU).build())
                    .layer(new org.deeplearning4j.nn.conf.layers.DropoutLayer.Builder().dropOut(dropout).build())
                    .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(5).build())
                    .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(2).build())
                    .build());
            net.init();
            LsqDense afterDropout = (LsqDense) layer(LsqConverter.convert(net, QuantizationPolicy.paper(4)), 2);
            boolean keepsSigns = dropout instanceof org.deeplearning4j.nn.conf.dropout.Dropout;
            assertEquals(!keepsSigns, afterDropout.getInputQuantizer().signed(), dropout.toString());
        }
    }

    @Test
    void halfPrecisionNetworksAreRefusedNamingTheLayer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsqConverter.convert(ConvertTestNets.leNet(1, DataType.HALF), QuantizationPolicy.paper(4)));
        assertTrue(e.getMessage().contains("conv1") && e.getMessage().contains("HALF"), e.getMessage());
    }

    /** Batch norm ignores the (global default sigmoid) activation of its configuration: its output is signed. */
    @Test
    void inputsAfterBatchNormAreSigned() {
        MultiLayerNetwork net = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .activation(org.nd4j.linalg.activations.Activation.SIGMOID).list()
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(4).nOut(6).build())
                .layer(new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build())
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(5).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(2).build())
                .build());
        net.init();
        MultiLayerNetwork lsq = LsqConverter.convert(net, QuantizationPolicy.paper(4));
        assertTrue(((LsqDense) layer(lsq, 2)).getInputQuantizer().signed(), "after batch norm: signed");
        assertFalse(((LsqOutputLayer) layer(lsq, 3)).getInputQuantizer().signed(), "after a sigmoid: unsigned");
    }
}
