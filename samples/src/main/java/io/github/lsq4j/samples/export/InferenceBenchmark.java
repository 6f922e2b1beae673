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

    private static double imagesPerSecond(Runner runner, INDArray x) throws Exception {
        return imagesPerSecond(() -> runner.run(x), x.size(0), SECONDS);
    }

    /** A call to time. */
    interface Call {
        void run() throws Exception;
    }

    /**
     * Median-free but warm: {@code min(1 s, seconds)} of warm-up, then as many calls as fit in {@code seconds}.
     *
     * @param call    one inference call
     * @param batch   the images each call infers
     * @param seconds how long to time the calls
     * @return images per second
     */
    static double imagesPerSecond(Call call, long batch, double seconds) throws Exception {
        long warmEnd = System.nanoTime() + (long) (Math.min(seconds, 1) * 1e9);
        while (System.nanoTime() < warmEnd) {
            call.run();
        }
        long start = System.nanoTime();
        long runs = 0;
        while (System.nanoTime() - start < seconds * 1e9) {
            call.run();
            runs++;
        }
        return runs * batch / ((System.nanoTime() - start) / 1e9);
    }
}
