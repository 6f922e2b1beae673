package io.github.lsq4j.samples.export;

import ai.onnxruntime.OrtException;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.LabeledImages;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Inference images/s of DL4J and ONNX Runtime, batch 1 and 128, 2 threads: a benchmark, not a test. */
final class InferenceBenchmark {
    private static final double SECONDS = 5;

    private InferenceBenchmark() {
    }

    interface Runner {
        void run(INDArray x) throws Exception;
    }

    static List<String> run(ComputationGraph dl4jFloat, Path onnxFloat, List<Path> onnxQuantized, LabeledImages test)
            throws Exception {
        List<String> rows = new ArrayList<>();
        rows.add("| model | batch 1 img/s | batch 128 img/s |");
        rows.add("|---|---|---|");
        INDArray one = OnnxDeployment.testIterator(test).next(1).getFeatures();
        INDArray batch = OnnxDeployment.testIterator(test).next(128).getFeatures();
        rows.add(row("DL4J float", x -> dl4jFloat.outputSingle(x), one, batch));
        List<Path> onnx = new ArrayList<>(List.of(onnxFloat));
        onnx.addAll(onnxQuantized);
        for (Path file : onnx) {
            try (OnnxDeployment.OnnxModel model = new OnnxDeployment.OnnxModel(file, 2)) {
                rows.add(row("ONNX Runtime " + file.getFileName(), model::run, one, batch));
            } catch (OrtException e) {
                rows.add("| ONNX Runtime " + file.getFileName() + " | failed: " + e.getMessage() + " | |");
            }
        }
        return rows;
    }

    private static String row(String name, Runner runner, INDArray one, INDArray batch) throws Exception {
        return String.format(Locale.ROOT, "| %s | %.0f | %.0f |", name, imagesPerSecond(runner, one),
                imagesPerSecond(runner, batch));
    }

    /** Median-free but warm: one second of warm-up, then as many runs as fit in {@value #SECONDS} s. */
    private static double imagesPerSecond(Runner runner, INDArray x) throws Exception {
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            runner.run(x);
        }
        long start = System.nanoTime();
        long runs = 0;
        while (System.nanoTime() - start < SECONDS * 1e9) {
            runner.run(x);
            runs++;
        }
        return runs * x.size(0) / ((System.nanoTime() - start) / 1e9);
    }
}
