package io.github.lsq4j.samples.export;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every form of the kernel benchmark is a model ONNX Runtime runs, and bad options are refused. */
class ConvKernelBenchmarkTest {

    private static ConvKernelBenchmark parse(String... args) {
        ConvKernelBenchmark options = new ConvKernelBenchmark();
        new CommandLine(options).parseArgs(args);
        options.check();
        return options;
    }

    @Test
    void everyFormRunsInOnnxRuntime() throws Exception {
        ConvKernelBenchmark benchmark = parse("--layers", "2", "--seconds", "0.05");
        for (ConvKernelBenchmark.Form form : ConvKernelBenchmark.Form.values()) {
            double rate = benchmark.imagesPerSecond(OrtEnvironment.getEnvironment(), form, 8, 6, 2);
            assertTrue(rate > 0 && Double.isFinite(rate), form + ": " + rate + " images/s");
        }
    }

    @Test
    void badOptionsAreRefusedNamingTheValue() {
        IllegalArgumentException stage = assertThrows(IllegalArgumentException.class, () -> parse("--stages", "16by28"));
        assertTrue(stage.getMessage().contains("16by28"), stage.getMessage());
        IllegalArgumentException layers = assertThrows(IllegalArgumentException.class, () -> parse("--layers", "0"));
        assertTrue(layers.getMessage().contains("--layers"), layers.getMessage());
    }
}
