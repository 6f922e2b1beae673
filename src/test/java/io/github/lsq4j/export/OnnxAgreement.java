package io.github.lsq4j.export;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import java.nio.file.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** How closely ONNX Runtime computes what DL4J computes, on an exported network. */
final class OnnxAgreement {
    private OnnxAgreement() {
    }

    /**
     * Gives each quantized layer the bias its export holds, in the accumulator's unit ({@link BiasCodes}),
     * as integer runtimes hold it: on that network, the exported file and DL4J compute the same.
     */
    static void useExportedBiases(Model net) {
        for (QuantizedLayer layer : LsqLayers.lsqLayers(net)) {
            INDArray b = layer.getParam(LsqLayerConfig.BIAS_KEY);
            if (b != null && layer.lsqConf().isQuantizeWeights() && layer.lsqConf().isQuantizeInputs()) {
                b.assign(Nd4j.createFromArray(BiasCodes.of(layer.integerParams()).values()).reshape(b.shape()));
            }
        }
    }

    /** @return DL4J's output for {@code x} (the first output of a graph) */
    static INDArray dl4jOutput(Model net, INDArray x) {
        return net instanceof MultiLayerNetwork m ? m.output(x) : ((ComputationGraph) net).outputSingle(x);
    }

    /**
     * @return the largest {@code |DL4J - ONNX Runtime|} over the outputs for {@code x}, at every ONNX
     *         Runtime optimization level
     * @throws IllegalStateException if ONNX Runtime's output has another shape
     */
    static double maxDifference(INDArray expected, Path file, String inputName, INDArray x) throws OrtException {
        double max = 0;
        for (OrtSession.SessionOptions.OptLevel level : OrtSession.SessionOptions.OptLevel.values()) {
            try (OnnxRuntimeRunner ort = new OnnxRuntimeRunner(file, level)) {
                INDArray actual = ort.run(inputName, x);
                if (!java.util.Arrays.equals(expected.shape(), actual.shape())) {
                    throw new IllegalStateException(level + ": ONNX Runtime's output has shape "
                            + java.util.Arrays.toString(actual.shape()) + ", DL4J's "
                            + java.util.Arrays.toString(expected.shape()));
                }
                max = Math.max(max, expected.sub(actual).amaxNumber().doubleValue());
            }
        }
        return max;
    }
}
