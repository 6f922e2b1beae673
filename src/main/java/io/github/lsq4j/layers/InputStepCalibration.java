package io.github.lsq4j.layers;

import io.github.lsq4j.quant.LsqMath;

/**
 * The running state of one layer's input-step calibration ({@link LsqLayers#calibrate}): the paper's
 * initial step {@code 2 * mean|x| / sqrt(Qp)} over every batch seen, as the element-weighted mean of
 * the per-batch steps (which is the same number).
 */
final class InputStepCalibration {
    private double weightedStepSum;
    private long elements;

    /**
     * @param batchStep the initial step of one batch
     * @param batchElements the number of input elements in that batch
     */
    void add(double batchStep, long batchElements) {
        weightedStepSum += batchStep * batchElements;
        elements += batchElements;
    }

    /** @return the step over all batches (at least {@link LsqMath#MIN_STEP}), or NaN if none was seen */
    double step() {
        return elements == 0 ? Double.NaN : Math.max(LsqMath.MIN_STEP, weightedStepSum / elements);
    }
}
