package io.github.lsq4j.layers;

import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.Quantizer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The steps a layer's step parameters hold: a step parameter holds {@code s / u}, where {@code u} is the
 * layer's step unit ({@link LsqOptions}, 1 unless set). Every reader and writer of a step value goes
 * through here, so that the unit is applied in one place; with unit 1 the parameter is the step.
 */
final class StepParams {
    private StepParams() {
    }

    /**
     * @param layer the layer
     * @param key   {@link LsqLayerConfig#WEIGHT_STEP_KEY} or {@link LsqLayerConfig#INPUT_STEP_KEY}
     * @return the steps, in the parameter's shape: the parameter itself when the unit is 1, else a new
     *         array; null if the layer has no such parameter
     */
    static INDArray values(QuantizedLayer layer, String key) {
        INDArray p = layer.getParam(key);
        double unit = layer.lsqConf().getStepUnit();
        return p == null || unit == 1 ? p : p.mul(unit);
    }

    /**
     * @param layer the layer
     * @param key   a step parameter's key
     * @return its first step, in double ({@code 0} = not initialized)
     */
    static double first(QuantizedLayer layer, String key) {
        return layer.getParam(key).getDouble(0) * layer.lsqConf().getStepUnit();
    }

    /** Stores the step {@code s} in every element of the parameter. */
    static void assign(QuantizedLayer layer, String key, double s) {
        layer.getParam(key).assign(s / layer.lsqConf().getStepUnit());
    }

    /** Stores the steps {@code s}, of the parameter's length. */
    static void assign(QuantizedLayer layer, String key, INDArray s) {
        INDArray p = layer.getParam(key);
        double unit = layer.lsqConf().getStepUnit();
        p.assign((unit == 1 ? s : s.div(unit)).reshape(p.shape()).castTo(p.dataType()));
    }

    /**
     * The factor that turns a step's raw gradient (the sum over its elements) into its parameter's
     * gradient: the paper's scale {@code g} over the unit. The chain rule gives {@code u * g}; the extra
     * {@code 1/u^2} makes SGD move {@code s = u * p} exactly as it moves a step stored as itself.
     *
     * @param layer     the layer
     * @param quantizer the step's quantizer
     * @param shape     the shape of what it quantizes
     * @param input     whether it quantizes the layer's input (the batch counts in {@code g} there)
     * @return {@code g / u}
     */
    static double gradientScale(QuantizedLayer layer, Quantizer quantizer, long[] shape, boolean input) {
        return quantizer.stepGradientScale(shape, input) / layer.lsqConf().getStepUnit();
    }

    /**
     * Raises every step below {@link LsqMath#MIN_STEP} to it, in place, so that an update never leaves a zero or
     * negative step (the quantizers also guard the value they compute with).
     *
     * @param layer the layer
     */
    static void clamp(QuantizedLayer layer) {
        for (String key : new String[] {LsqLayerConfig.WEIGHT_STEP_KEY, LsqLayerConfig.INPUT_STEP_KEY}) {
            INDArray p = layer.getParam(key);
            if (p != null) {
                raiseTo(p, LsqMath.MIN_STEP / layer.lsqConf().getStepUnit());
            }
        }
    }

    /**
     * Raises every element below {@code min} to it, in place; NaN stays (and is refused where it is used).
     * Element by element: a step array is short (one per tensor or per channel), and this runs after every
     * update, where a native op call per array costs more.
     */
    static void raiseTo(INDArray steps, double min) {
        for (long i = 0; i < steps.length(); i++) {
            if (steps.getDouble(i) < min) {
                steps.putScalar(i, min);
            }
        }
    }
}
