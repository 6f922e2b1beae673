package io.github.lsq4j.samples.fashion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The network of LSQ-SPEC.md: conv - batch norm - ReLU, the convolutions linear. */
class SmallResNetTest {

    @Test
    void convolutionsAreLinearAndTheLayerCountsMatchTheDepth() {
        for (int depth : new int[] {8, 20}) {
            ComputationGraph net = SmallResNet.build(depth, 1);
            int convs = 0;
            for (Layer l : net.getLayers()) {
                if (l.conf().getLayer() instanceof ConvolutionLayer conv) {
                    assertEquals(new ActivationIdentity(), conv.getActivationFn(), conv.getLayerName()
                            + ": DL4J's default activation (sigmoid) must not reach the convolutions");
                    convs++;
                }
            }
            // depth - 1 convolutions in the residual path, plus 2 projection shortcuts
            assertEquals(depth - 1 + 2, convs, "ResNet-" + depth);
        }
    }

    /** PyTorch's default init: uniform within 1/sqrt(fanIn) for every weight, and for the output bias. */
    @Test
    void weightsStartAsPyTorchsLayers() {
        ComputationGraph net = SmallResNet.build(8, 3);
        for (Layer l : net.getLayers()) {
            INDArray w = l.paramTable().get(DefaultParamInitializer.WEIGHT_KEY);
            if (w == null) {
                continue;
            }
            long fanIn = l.conf().getLayer() instanceof ConvolutionLayer conv
                    ? conv.getNIn() * conv.getKernelSize()[0] * conv.getKernelSize()[1] : w.size(0);
            double bound = 1 / Math.sqrt(fanIn);
            String name = l.conf().getLayer().getLayerName();
            assertTrue(w.amaxNumber().doubleValue() <= bound, name + " exceeds " + bound);
            // uniform: standard deviation bound / sqrt(3), to within sampling error
            assertEquals(bound / Math.sqrt(3), w.stdNumber().doubleValue(), 0.2 * bound / Math.sqrt(3), name);
        }
        INDArray bias = net.getLayer("fc").getParam(DefaultParamInitializer.BIAS_KEY);
        assertTrue(bias.amaxNumber().doubleValue() <= 1 / Math.sqrt(64) && bias.amaxNumber().doubleValue() > 0, "" + bias);
    }

    /** Stride-2 convolutions pad one pixel on every side, as PyTorch's padding=1: 28 -> 14 -> 7. */
    @Test
    void stridedConvolutionsPadSymmetrically() {
        ComputationGraph net = SmallResNet.build(8, 1);
        ConvolutionLayer strided = (ConvolutionLayer) net.getLayer("s2b1_a").conf().getLayer();
        assertArrayEquals(new int[] {1, 1}, strided.getPadding());
        Map<String, INDArray> activations = net.feedForward(Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28), false);
        assertArrayEquals(new long[] {2, 32, 14, 14}, activations.get("s2b1_relu").shape());
        assertArrayEquals(new long[] {2, 64, 7, 7}, activations.get("s3b1_relu").shape());
    }
}
