package io.github.lsq4j.layers;

import org.deeplearning4j.nn.weights.IWeightInit;
import org.deeplearning4j.nn.weights.WeightInit;

/**
 * A network's global weight initialization as the LSQ SameDiff layers store it: DL4J's global
 * configuration holds an {@link IWeightInit}, DL4J's SameDiff layers a {@link WeightInit}.
 */
final class GlobalSettings {
    private GlobalSettings() {
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
