package io.github.lsq4j;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the tests do to a network of either kind, MultiLayerNetwork or ComputationGraph. */
public final class AnyModel {
    private AnyModel() {
    }

    /** @return {@code net} converted by {@link LsqConverter} */
    public static Model convert(Model net, QuantizationPolicy policy) {
        return net instanceof MultiLayerNetwork m ? LsqConverter.convert(m, policy)
                : LsqConverter.convert((ComputationGraph) net, policy);
    }

    /** @return DL4J's output for {@code x} (the first output of a graph) */
    public static INDArray output(Model net, INDArray x) {
        return net instanceof MultiLayerNetwork m ? m.output(x) : ((ComputationGraph) net).outputSingle(x);
    }
}
