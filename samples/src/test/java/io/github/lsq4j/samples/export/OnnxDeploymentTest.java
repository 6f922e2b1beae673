package io.github.lsq4j.samples.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.export.OnnxExporter;
import io.github.lsq4j.export.OnnxFormat;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.FashionMnistTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference ResNet-8, converted and briefly fine-tuned at 8, 4 and 2 bits, exported and run in ONNX
 * Runtime at every graph optimization level: at least 99.9 % top-1 agreement with lsq4j on the 10,000
 * Fashion-MNIST test images, and the 4-bit file at most a sixth of the float one. Needs the real data
 * set (skipped without it, failing instead where CI requires it, as {@link FashionMnistTest}).
 */
class OnnxDeploymentTest {
    private static final Logger log = LoggerFactory.getLogger(OnnxDeploymentTest.class);

    @TempDir
    Path dir;

    @Test
    void exportedResNet8AgreesWithLsq4jOnTheTestSet() throws Exception {
        FashionMnist.Splits data = FashionMnistTest.loadOrSkip();
        ComputationGraph fp = OnnxDeployment.trainFloat(data.train(), 8000, 1);
        List<OnnxDeployment.Comparison> comparisons = new ArrayList<>();
        for (int bits : new int[] {8, 4, 2}) {
            ComputationGraph lsq = OnnxDeployment.fineTune(fp, bits, data.train(), 3200, 1);
            for (OnnxFormat format : OnnxFormat.values()) {
                comparisons.add(OnnxDeployment.exportAndCompare(lsq, bits, format, data.test(), dir));
            }
        }
        Path fpOnnx = dir.resolve("float.onnx");
        OnnxExporter.export(fp, fpOnnx, 1, 28, 28);
        OnnxDeployment.table(comparisons).forEach(log::info);
        log.info("float ONNX: {} bytes", Files.size(fpOnnx));
        for (OnnxDeployment.Comparison c : comparisons) {
            assertTrue(c.lowestAgreement() >= 0.999, c.bits() + " bits " + c.format() + ": top-1 agreement "
                    + c.lowestAgreement() + " at some optimization level");
            assertTrue(c.changedByRounding() < 1e-5 * c.quantizedInputs(), c.bits() + " bits: " + c.changedByRounding()
                    + " of " + c.quantizedInputs() + " codes changed by rounding");
            assertTrue(c.onnxBytes() < c.zipBytes(), c.bits() + " bits: ONNX " + c.onnxBytes() + " bytes, zip "
                    + c.zipBytes());
        }
        for (OnnxDeployment.Comparison c : comparisons) {
            if (c.bits() == 4) {
                assertTrue(6 * c.onnxBytes() <= Files.size(fpOnnx), "4-bit ONNX " + c.format() + " " + c.onnxBytes()
                        + " bytes, float " + Files.size(fpOnnx));
            }
        }
    }
}
