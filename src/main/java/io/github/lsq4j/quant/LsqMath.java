package io.github.lsq4j.quant;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The LSQ quantizer in plain Java: the reference implementation of the paper's forward pass and
 * gradients, which the SameDiff op is tested against and which export and integer inference use.
 *
 * <p>Forward: {@code vbar = round(clip(v / s, -Qn, Qp))}, {@code vhat = vbar * s}. Backward, with the
 * clip decided on {@code v/s} before rounding and the value exactly at a clip end counting as clipped:
 * <ul>
 *   <li>{@code d vhat / d v = 1} if {@code -Qn < v/s < Qp}, else {@code 0};</li>
 *   <li>{@code d vhat / d s = g * (round(v/s) - v/s)} inside, {@code -g * Qn} at or below {@code -Qn},
 *       {@code g * Qp} at or above {@code Qp}.</li>
 * </ul>
 *
 * <p>Rounding is half away from zero, as ND4J's {@code round} does (PyTorch rounds half to even; exact
 * ties almost never occur in real data). Training, export and integer inference all use this rule.
 *
 * <p>Tensors are flat {@code double} arrays in C order with an explicit shape.
 */
public final class LsqMath {
    /**
     * The smallest step size a quantizer computes with. Steps are guarded to stay at or above it, so a
     * step never reaches zero or turns negative (which would flip or explode the quantized values).
     */
    public static final double MIN_STEP = 1e-8;

    private LsqMath() {
    }

    /**
     * Rounds half away from zero, as ND4J's {@code round} does.
     *
     * @param x the value
     * @return the nearest integer, ties away from zero
     */
    public static double round(double x) {
        return Math.copySign(Math.floor(Math.abs(x) + 0.5), x);
    }

    /**
     * The integer codes {@code vbar = round(clip(v / s, -Qn, Qp))}.
     *
     * @param v         the data, C order
     * @param shape     its shape
     * @param quantizer the quantizer (range and step layout)
     * @param steps     the step sizes, one per channel of the quantizer's layout
     * @return the codes, integers stored as doubles
     */
    public static double[] codes(double[] v, long[] shape, Quantizer quantizer, double[] steps) {
        int[] stepIndex = checkedStepIndices(v, shape, quantizer.layout(), steps);
        QuantRange range = quantizer.range();
        double[] codes = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            codes[i] = round(clip(v[i] / steps[stepIndex[i]], range));
        }
        return codes;
    }

    /**
     * The quantized values {@code vhat = vbar * s}.
     *
     * @param v         the data, C order
     * @param shape     its shape
     * @param quantizer the quantizer
     * @param steps     the step sizes
     * @return the quantized values
     */
    public static double[] values(double[] v, long[] shape, Quantizer quantizer, double[] steps) {
        int[] stepIndex = checkedStepIndices(v, shape, quantizer.layout(), steps);
        double[] codes = codes(v, shape, quantizer, steps);
        for (int i = 0; i < codes.length; i++) {
            codes[i] *= steps[stepIndex[i]];
        }
        return codes;
    }

    /**
     * The gradients of a loss through the quantizer, given the loss's gradient with respect to
     * {@code vhat}.
     *
     * @param v         the data, C order
     * @param shape     its shape
     * @param quantizer the quantizer
     * @param steps     the step sizes
     * @param upstream  d loss / d vhat, same length as {@code v}
     * @param g         the step-size gradient scale (from {@link GradientScale#value} of the quantizer's policy)
     * @return d loss / d v and d loss / d s
     */
    public static Gradients gradients(double[] v, long[] shape, Quantizer quantizer, double[] steps,
                                      double[] upstream, double g) {
        int[] stepIndex = checkedStepIndices(v, shape, quantizer.layout(), steps);
        QuantRange range = quantizer.range();
        if (upstream.length != v.length) {
            throw new IllegalArgumentException("upstream gradient has " + upstream.length + " elements, data has "
                    + v.length);
        }
        double[] dv = new double[v.length];
        double[] ds = new double[steps.length];
        for (int i = 0; i < v.length; i++) {
            int c = stepIndex[i];
            double r = v[i] / steps[c];
            double dvhatDs;
            if (r <= -range.qn()) {
                dvhatDs = -range.qn();
            } else if (r >= range.qp()) {
                dvhatDs = range.qp();
            } else {
                dv[i] = upstream[i];
                dvhatDs = round(r) - r;
            }
            ds[c] += upstream[i] * dvhatDs;
        }
        for (int c = 0; c < ds.length; c++) {
            ds[c] *= g;
        }
        return new Gradients(dv, ds);
    }

    /**
     * The paper's step-size initialization {@code s = 2 * mean(|v|) / sqrt(Qp)}, per step, guarded to
     * at least {@link #MIN_STEP} (all-zero data would otherwise give a zero step).
     *
     * @param v         the data (pretrained weights, or a batch of layer inputs), C order
     * @param shape     its shape
     * @param quantizer the quantizer
     * @return one initial step per channel of the quantizer's layout
     */
    public static double[] initialSteps(double[] v, long[] shape, Quantizer quantizer) {
        checkLength(v, shape);
        StepLayout layout = quantizer.layout();
        QuantRange range = quantizer.range();
        int[] stepIndex = layout.stepIndices(shape);
        int numSteps = layout.numSteps(shape);
        double[] sumAbs = new double[numSteps];
        long[] count = new long[numSteps];
        for (int i = 0; i < v.length; i++) {
            checkFinite(v[i], i);
            sumAbs[stepIndex[i]] += Math.abs(v[i]);
            count[stepIndex[i]]++;
        }
        double[] steps = new double[numSteps];
        for (int c = 0; c < numSteps; c++) {
            double meanAbs = count[c] == 0 ? 0 : sumAbs[c] / count[c];
            steps[c] = Math.max(MIN_STEP, 2 * meanAbs / Math.sqrt(range.qp()));
        }
        return steps;
    }

    /**
     * {@link #initialSteps(double[], long[], Quantizer)} on an INDArray.
     *
     * @param v         the data
     * @param quantizer the quantizer
     * @return the initial steps as a vector of {@code v}'s data type
     */
    public static INDArray initialSteps(INDArray v, Quantizer quantizer) {
        double[] steps = initialSteps(v.dup('c').data().asDouble(), v.shape(), quantizer);
        return Nd4j.createFromArray(steps).castTo(floatingType(v));
    }

    /**
     * {@link #codes(double[], long[], Quantizer, double[])} on INDArrays.
     *
     * @param v         the data
     * @param quantizer the quantizer
     * @param steps     the step sizes, one per channel of the quantizer's layout (any shape of that length)
     * @return the integer codes, as an INT32 array of {@code v}'s shape
     */
    public static INDArray codes(INDArray v, Quantizer quantizer, INDArray steps) {
        double[] codes = codes(v.dup('c').data().asDouble(), v.shape(), quantizer, steps.dup('c').data().asDouble());
        return Nd4j.createFromArray(codes).reshape('c', v.shape()).castTo(DataType.INT32);
    }

    /**
     * Validates a step size.
     *
     * @param what a name for the step in the error message
     * @param step the step
     * @throws IllegalArgumentException naming {@code what} and the value unless it is finite and {@code > 0}
     */
    public static void checkStep(String what, double step) {
        if (!(step > 0) || Double.isInfinite(step)) {
            throw new IllegalArgumentException(what + " must be finite and > 0, got " + step);
        }
    }

    private static double clip(double x, QuantRange range) {
        return Math.max(-range.qn(), Math.min(range.qp(), x));
    }

    private static int[] checkedStepIndices(double[] v, long[] shape, StepLayout layout, double[] steps) {
        checkLength(v, shape);
        int expected = layout.numSteps(shape);
        if (steps.length != expected) {
            throw new IllegalArgumentException("expected " + expected + " step sizes for shape "
                    + Arrays.toString(shape) + " " + layout + ", got " + steps.length);
        }
        for (int c = 0; c < steps.length; c++) {
            checkStep("step size " + c, steps[c]);
        }
        return layout.stepIndices(shape);
    }

    private static void checkLength(double[] v, long[] shape) {
        if (StepLayout.length(shape) != v.length) {
            throw new IllegalArgumentException("data has " + v.length + " elements, shape " + Arrays.toString(shape)
                    + " needs " + StepLayout.length(shape));
        }
    }

    private static void checkFinite(double x, int index) {
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("data element " + index + " is not finite: " + x);
        }
    }

    private static DataType floatingType(INDArray v) {
        return v.dataType().isFPType() ? v.dataType() : DataType.FLOAT;
    }

    /**
     * Gradients through the quantizer.
     *
     * @param dv d loss / d v, one per data element
     * @param ds d loss / d s, one per step, already multiplied by the gradient scale
     */
    public record Gradients(double[] dv, double[] ds) {
    }
}
