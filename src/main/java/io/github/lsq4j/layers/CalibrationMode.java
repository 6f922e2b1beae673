package io.github.lsq4j.layers;

/**
 * How {@link LsqLayers#calibrate} runs the network while it measures the inputs of each LSQ layer.
 * The mode matters wherever batch normalization sits before a quantized layer: its output, and so the
 * measured {@code mean|x|}, depends on which statistics it normalizes with.
 */
public enum CalibrationMode {
    /**
     * A training-mode forward pass: batch normalization normalizes with the batch's own statistics
     * (and dropout, if the network has any, drops). This is what the paper's reference implementation
     * does and what the layers see in the first training step, so it is the default. DL4J's forward
     * pass does not move the running statistics, so calibration changes nothing but the input steps.
     */
    TRAINING,
    /**
     * An inference-mode forward pass: batch normalization uses its running statistics. Matches what
     * the layers see at test time; for calibrating a network that will not be trained further.
     */
    INFERENCE;

    boolean training() {
        return this == TRAINING;
    }
}
