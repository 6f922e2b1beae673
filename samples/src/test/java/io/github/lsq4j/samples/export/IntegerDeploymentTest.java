package io.github.lsq4j.samples.export;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.lsq4j.layers.IntegerInference;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.FashionMnistTest;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Integer inference of trained networks computes the trained network (issue 31): the reference ResNet-8, trained
 * briefly in float, converted and briefly fine-tuned at 8, 4, 3 and 2 bits with weight steps per tensor and per
 * channel; on the 10,000 Fashion-MNIST test images, the LSQ layers' int8 path and the compiled
 * {@code IntegerNetwork} each predict the float path's class on at least 99.9 % of them (measured 2026-12-07:
 * 99.99 to 100.00 % for both). Needs the real data set (skipped without it, failing instead where CI requires it,
 * as {@link FashionMnistTest}) and oneDNN (a dependency of the samples).
 */
class IntegerDeploymentTest {
    private static final Logger log = LoggerFactory.getLogger(IntegerDeploymentTest.class);
    private static final int FLOAT_IMAGES = 8000;
    private static final int LSQ_IMAGES = 1600;
    private static final int TEST_IMAGES = 10_000;
    /** The least agreement of the layers' int8 path with the float path. */
    private static final double LAYER_AGREEMENT = 0.999;
    /** The least agreement of the compiled network with the float path. */
    private static final double COMPILED_AGREEMENT = 0.999;

    @Test
    void integerPathsOfTrainedResNet8AgreeWithTheFloatPath() throws Exception {
        FashionMnist.Splits data = FashionMnistTest.loadOrSkip();
        assumeTrue(IntegerInference.isAvailable(), "no integer kernels (org.bytedeco:dnnl)");
        ComputationGraph fp = OnnxDeployment.trainFloat(data.train(), FLOAT_IMAGES, 1);
        List<IntegerInferenceBenchmark.Agreement> agreements = new ArrayList<>();
        for (boolean perChannel : new boolean[] {false, true}) {
            for (int bits : new int[] {8, 4, 3, 2}) {
                ComputationGraph lsq = OnnxDeployment.fineTune(fp, IntegerInferenceBenchmark.policy(bits, perChannel),
                        data.train(), LSQ_IMAGES, 1);
                agreements.add(IntegerInferenceBenchmark.agreement("ResNet-8", bits, perChannel, lsq, data.test(),
                        TEST_IMAGES, false));
            }
        }
        IntegerInferenceBenchmark.agreementTable(agreements).forEach(log::info);
        List<String> below = new ArrayList<>();
        for (IntegerInferenceBenchmark.Agreement a : agreements) {
            String which = a.bits() + " bits, per " + (a.perChannel() ? "channel" : "tensor") + ": ";
            if (a.layerAgreement() < LAYER_AGREEMENT) {
                below.add(which + "the int8 layers differ from the float path on " + a.layerDiffers() + " of "
                        + a.images() + " images");
            }
            if (a.compiledAgreement() < COMPILED_AGREEMENT) {
                below.add(which + "IntegerNetwork differs from the float path on " + a.compiledDiffers() + " of "
                        + a.images() + " images");
            }
        }
        assertTrue(below.isEmpty(), "top-1 agreement below the bar (layers " + LAYER_AGREEMENT + ", compiled "
                + COMPILED_AGREEMENT + "):\n" + String.join("\n", below));
    }
}
