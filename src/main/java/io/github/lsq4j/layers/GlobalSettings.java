package io.github.lsq4j.layers;

import java.util.Arrays;
import java.util.Optional;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;

/**
 * A network's global settings as the LSQ SameDiff layers store them: DL4J's global configuration holds
 * an {@link IActivation} and an {@link IWeightInit}, the layers an {@link Activation} and a
 * {@link WeightInit} (what SameDiff can rebuild).
 */
final class GlobalSettings {
    private GlobalSettings() {
    }

    /**
     * @param layer the layer's description, for the message
     * @param fn    the global activation
     * @return the activation equal to it
     * @throws IllegalArgumentException naming the layer and the activation if there is none
     */
    static Activation activation(String layer, IActivation fn) {
        return equalActivation(fn).filter(AbstractLsqLayer.SUPPORTED_ACTIVATIONS::contains)
                .orElseThrow(() -> new IllegalArgumentException(layer + ": the global activation " + fn + " is not "
                        + "supported by LSQ layers; set one of " + AbstractLsqLayer.SUPPORTED_ACTIVATIONS + " on the layer"));
    }

    /**
     * @param fn an activation function
     * @return the {@link Activation} whose function equals it, if any (what an LSQ layer can rebuild)
     */
    static Optional<Activation> equalActivation(IActivation fn) {
        return Arrays.stream(Activation.values()).filter(a -> {
            try {
                return a.getActivationFunction().equals(fn);
            } catch (RuntimeException notInstantiable) {
                return false;
            }
        }).findFirst();
    }

    /**
     * @param layer the layer's description, for the message
     * @param init  the global weight initialization
     * @return the scheme equal to it
     * @throws IllegalArgumentException naming the layer and the scheme if there is none
     */
    static WeightInit weightInit(String layer, IWeightInit init) {
        for (WeightInit w : WeightInit.values()) {
            try {
                if (w.getWeightInitFunction().equals(init)) {
                    return w;
                }
            } catch (RuntimeException needsArguments) {
                // DISTRIBUTION and the like cannot be made without their parameters
            }
        }
        throw new IllegalArgumentException(layer + ": the global weight initialization " + init + " has no "
                + "WeightInit equivalent; set weightInit on the layer");
    }
}
