package io.github.lsq4j.export;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** How closely ONNX Runtime computes what DL4J computes, on an exported network. */
final class OnnxAgreement {
    private OnnxAgreement() {
    }

    /**
     * Gives each quantized layer the bias its export holds, in the accumulator's unit ({@link BiasCodes}),
     * as integer runtimes hold it (a bias whose codes do not fit in INT32 is exported, and stays, float):
     * on that network, the exported file and DL4J compute the same.
     */
    static void useExportedBiases(Model net) {
        for (QuantizedLayer layer : LsqLayers.lsqLayers(net)) {
            INDArray b = layer.getParam(LsqLayerConfig.BIAS_KEY);
            if (b != null && layer.lsqConf().isQuantizeWeights() && layer.lsqConf().isQuantizeInputs()) {
                BiasCodes.of(layer.integerParams()).ifPresent(codes ->
                        b.assign(Nd4j.createFromArray(codes.values()).reshape(b.shape())));
            }
        }
    }

    /**
     * @return the largest {@code |DL4J - ONNX Runtime|} over the outputs for {@code x}, at every ONNX
     *         Runtime optimization level
     * @throws IllegalStateException if ONNX Runtime's output has another shape
     */
    static double maxDifference(INDArray expected, Path file, String inputName, INDArray x) throws OrtException {
        return maxDifference(expected, atEveryLevel(expected, file, inputName, x));
    }

    /** @return the largest {@code |expected - actual|} over the runs */
    static double maxDifference(INDArray expected, List<INDArray> runs) {
        return runs.stream().mapToDouble(actual -> expected.sub(actual).amaxNumber().doubleValue()).max().orElseThrow();
    }

    /**
     * @return the smallest share over the runs of the examples (first axis) whose every output is within
     *         {@code tolerance} of DL4J's, in [0, 1]
     */
    static double examplesWithin(INDArray expected, List<INDArray> runs, double tolerance) {
        return runs.stream().mapToDouble(actual -> {
            INDArray perExample = expected.sub(actual).reshape(expected.size(0), -1);
            return Nd4j.math().abs(perExample).max(1).lte(tolerance).castTo(DataType.DOUBLE).meanNumber().doubleValue();
        }).min().orElseThrow();
    }

    /**
     * @param decisions what a user reads from an output, such as each example's top-1 class: an array
     *                  whose elements are compared one by one
     * @return the smallest share of equal decisions over the runs, in [0, 1]
     */
    static double decisionAgreement(INDArray expected, List<INDArray> runs, UnaryOperator<INDArray> decisions) {
        INDArray wanted = decisions.apply(expected);
        return runs.stream().mapToDouble(actual -> wanted.eq(decisions.apply(actual)).castTo(DataType.DOUBLE)
                .meanNumber().doubleValue()).min().orElseThrow();
    }

    /**
     * @return ONNX Runtime's (first) output for {@code x} at every optimization level
     * @throws IllegalStateException if an output's shape is not {@code expected}'s
     */
    static List<INDArray> atEveryLevel(INDArray expected, Path file, String inputName, INDArray x) throws OrtException {
        List<INDArray> runs = new ArrayList<>();
        for (OrtSession.SessionOptions.OptLevel level : OrtSession.SessionOptions.OptLevel.values()) {
            try (OnnxRuntimeRunner ort = new OnnxRuntimeRunner(file, level)) {
                INDArray actual = ort.run(inputName, x);
                if (!Arrays.equals(expected.shape(), actual.shape())) {
                    throw new IllegalStateException(level + ": ONNX Runtime's output has shape "
                            + Arrays.toString(actual.shape()) + ", DL4J's " + Arrays.toString(expected.shape()));
                }
                runs.add(actual);
            }
        }
        return runs;
    }
}
