package io.github.lsq4j.samples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

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
}
