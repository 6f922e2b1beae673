package io.github.lsq4j.convert;

import io.github.lsq4j.layers.AbstractLsqLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the mapping rows share: reading a stock layer's common settings and copying its parameters. */
final class FloatLayers {
    private FloatLayers() {
    }

    /**
     * Fills the builder with the float layer's name, sizes, activation, bias flag, updaters and
     * regularization.
     */
    static <B extends AbstractLsqLayer.Builder<B>> B copyCommon(FeedForwardLayer floatLayer, B builder,
                                                                 boolean hasBias) {
        builder.name(floatLayer.getLayerName());
        builder.nIn(floatLayer.getNIn()).nOut(floatLayer.getNOut());
        builder.activation(activation(floatLayer));
        builder.hasBias(hasBias);
        if (floatLayer.getIUpdater() != null) {
            builder.updater(floatLayer.getIUpdater().clone());
        }
        if (floatLayer.getBiasUpdater() != null) {
            builder.biasUpdater(floatLayer.getBiasUpdater().clone());
        }
        if (floatLayer.getRegularization() != null) {
            builder.regularization(new ArrayList<>(floatLayer.getRegularization()));
        }
        if (floatLayer.getRegularizationBias() != null) {
            builder.regularizationBias(new ArrayList<>(floatLayer.getRegularizationBias()));
        }
        return builder;
    }

    /** The {@link Activation} whose function equals the layer's, so the LSQ layer can rebuild it. */
    static Activation activation(BaseLayer layer) {
        IActivation fn = layer.getActivationFn();
        if (fn == null) {
            return Activation.IDENTITY;
        }
        return Arrays.stream(Activation.values())
                .filter(a -> {
                    try {
                        return a.getActivationFunction().equals(fn);
                    } catch (RuntimeException notInstantiable) {
                        return false;
                    }
                })
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("layer '" + layer.getLayerName() + "': activation "
                        + fn + " has no LSQ equivalent"));
    }

    /** Copies the bias, if both layers have one (stock biases are {@code [1, nOut]}, LSQ ones {@code [nOut]}). */
    static void copyBias(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
        INDArray bias = floatParams.get(DefaultParamInitializer.BIAS_KEY);
        if (bias != null && lsqParams.containsKey(AbstractLsqLayer.BIAS_KEY)) {
            INDArray target = lsqParams.get(AbstractLsqLayer.BIAS_KEY);
            target.assign(bias.reshape(target.shape()));
        }
    }
}
