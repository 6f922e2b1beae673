package io.github.lsq4j.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import io.github.lsq4j.zoo.ZooModels;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.zoo.model.Darknet19;
import org.deeplearning4j.zoo.model.LeNet;
import org.deeplearning4j.zoo.model.SqueezeNet;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/** Conversion of DL4J zoo models: ResNet50 (small-input variant) and SqueezeNet at 32x32, LeNet at 28x28. */
class ZooConversionTest {

    @Test
    void resNet50ConvertsEveryConvolutionAndTheOutputLayer() {
        ComputationGraph original = ZooModels.initResNet50(10, 3, 32, 32, 42, new Nesterovs(0.01, 0.9));
        long convs = countLayers(original, ConvolutionLayer.class);
        assertEquals(53, convs);

        ComputationGraph exact = LsqConverter.convert(original, QuantizationPolicy.builder(4).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32);
        INDArray expected = original.outputSingle(x);
        assertTrue(expected.equalsWithEps(exact.outputSingle(x), 1e-5), "quantization off must not change outputs");
        assertEquals(original.numParams(), exact.numParams());

        ComputationGraph quantized = LsqConverter.convert(original, QuantizationPolicy.paper(4));
        assertEquals(0, countLayers(quantized, ConvolutionLayer.class));
        assertEquals(53, countLayers(quantized, LsqConv2D.class));
        assertEquals(53, countLayers(quantized, BatchNormalization.class), "batch norm stays");
        assertEquals(54, LsqLayers.lsqLayers(quantized).size(), "53 convolutions and the output layer");
        assertEquals(original.numParams() + 54 * 2, quantized.numParams(), "one weight and one input step each");
        LsqLayerConfig stem = (LsqLayerConfig) quantized.getLayer("stem-cnn1").conf().getLayer();
        assertEquals(8, stem.getWeightQuantizer().bits());
        assertTrue(stem.getInputQuantizer().signed());
        LsqLayerConfig block = (LsqLayerConfig) quantized.getLayer("res3b_branch2a").conf().getLayer();
        assertEquals(4, block.getWeightQuantizer().bits());
        assertFalse(block.getInputQuantizer().signed(), "input after the block's ReLU");
        LsqLayerConfig projection = (LsqLayerConfig) quantized.getLayer("res4a_branch1").conf().getLayer();
        assertFalse(projection.getInputQuantizer().signed());
        LsqLayerConfig output = (LsqLayerConfig) quantized.getLayer("output").conf().getLayer();
        assertEquals(8, output.getWeightQuantizer().bits());

        INDArray out = quantized.outputSingle(x);
        assertFalse(out.isNaN().any() || out.isInfinite().any());
    }

    /** Darknet19: leaky ReLU activations (slope 0.1), so every input after the stem is signed. */
    @Test
    void darknet19WithLeakyReluConverts() {
        ComputationGraph original = Darknet19.builder().numClasses(10).inputShape(new int[] {3, 64, 64}).seed(5)
                .build().init();
        ComputationGraph exact = LsqConverter.convert(original, QuantizationPolicy.builder(4).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64);
        assertTrue(original.outputSingle(x).equalsWithEps(exact.outputSingle(x), 1e-5),
                "quantization off must not change outputs");

        ComputationGraph quantized = LsqConverter.convert(original, QuantizationPolicy.paper(4));
        long convs = countLayers(original, ConvolutionLayer.class);
        assertEquals(19, convs);
        assertEquals(convs, countLayers(quantized, LsqConv2D.class));
        for (QuantizedLayer l : LsqLayers.lsqLayers(quantized)) {
            if (!l.name().equals("convolution2d_1")) {
                assertTrue(l.lsqConf().getInputQuantizer().signed(), l.name() + ": after a leaky ReLU, inputs are signed");
            }
        }
        INDArray out = quantized.outputSingle(x);
        assertFalse(out.isNaN().any() || out.isInfinite().any());
    }

    @Test
    void squeezeNetConvertsWithMergeAndDropoutInBetween() {
        ComputationGraph original = SqueezeNet.builder().numClasses(10).inputShape(new int[] {3, 32, 32}).seed(7)
                .build().init();
        ComputationGraph exact = LsqConverter.convert(original, QuantizationPolicy.builder(2).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32);
        assertTrue(original.outputSingle(x).equalsWithEps(exact.outputSingle(x), 1e-5));

        ComputationGraph quantized = LsqConverter.convert(original, QuantizationPolicy.paper(2));
        assertEquals(26, countLayers(quantized, LsqConv2D.class));
        LsqLayerConfig conv10 = (LsqLayerConfig) quantized.getLayer("conv10").conf().getLayer();
        assertEquals(8, conv10.getWeightQuantizer().bits(), "the last layer");
        assertFalse(conv10.getInputQuantizer().signed(), "dropout of a merge of ReLU outputs");
        assertEquals(2, ((LsqLayerConfig) quantized.getLayer("fire5_exp3x3").conf().getLayer()).getWeightQuantizer().bits());
        assertInstanceOf(LsqConv2D.class, quantized.getLayer("conv1").conf().getLayer());
    }

    @Test
    void zooLeNetMultiLayerNetworkConverts() {
        MultiLayerNetwork original = (MultiLayerNetwork) LeNet.builder().numClasses(10).inputShape(new int[] {1, 28, 28})
                .seed(3).build()
                .init();
        MultiLayerNetwork exact = LsqConverter.convert(original, QuantizationPolicy.builder(4).quantize(false).build());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28);
        assertTrue(original.output(x).equalsWithEps(exact.output(x), 1e-5));
        MultiLayerNetwork quantized = LsqConverter.convert(original, QuantizationPolicy.paper(3));
        assertEquals(4, LsqLayers.lsqLayers(quantized).size(), "2 convolutions, 1 dense, the output layer");
        assertEquals(original.numParams() + 4 * 2, quantized.numParams());
        INDArray out = quantized.output(x);
        assertFalse(out.isNaN().any() || out.isInfinite().any());
    }

    private static long countLayers(ComputationGraph graph, Class<?> type) {
        return java.util.Arrays.stream(graph.getLayers()).filter(l -> type.isInstance(l.conf().getLayer())).count();
    }
}
