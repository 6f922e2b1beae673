package io.github.lsq4j.train;

import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * DL4J's batch normalization whose gamma and beta take the layer's regularization. DL4J's own layer never
 * regularizes them; PyTorch's SGD {@code weight_decay}, with which the paper's recipe and its reference
 * implementation train, decays every parameter. Same parameters, same runtime layer, same JSON but for the
 * class name, so a network can switch between the two without touching its parameters.
 *
 * @see LsqRecipe#withBatchNormDecay(boolean)
 */
public class DecayedBatchNormalization extends BatchNormalization {
    private static final ObjectMapper JSON = NeuralNetConfiguration.mapper();

    /** For JSON; use {@link #of(BatchNormalization)}. */
    public DecayedBatchNormalization() {
    }

    /**
     * @param bn a batch-normalization layer configuration
     * @return a copy of it, every setting kept, whose gamma and beta are regularized
     */
    public static DecayedBatchNormalization of(BatchNormalization bn) {
        return (DecayedBatchNormalization) withClass(bn, DecayedBatchNormalization.class);
    }

    /**
     * @param bn a batch-normalization layer configuration, possibly a {@code DecayedBatchNormalization}
     * @return DL4J's own layer with the same settings
     */
    public static BatchNormalization stock(BatchNormalization bn) {
        return (BatchNormalization) withClass(bn, BatchNormalization.class);
    }

    /** Copies every setting through the layer's JSON form, which DL4J keeps complete for restoring models. */
    private static Layer withClass(BatchNormalization bn, Class<? extends BatchNormalization> type) {
        ObjectNode json = JSON.valueToTree(bn);
        json.put("@class", type.getName());
        try {
            return JSON.treeToValue(json, Layer.class);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot copy batch-norm layer '" + bn.getLayerName() + "'", e);
        }
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        boolean learned = BatchNormalizationParamInitializer.GAMMA.equals(paramName)
                || BatchNormalizationParamInitializer.BETA.equals(paramName);
        return learned ? regularization : null;
    }
}
