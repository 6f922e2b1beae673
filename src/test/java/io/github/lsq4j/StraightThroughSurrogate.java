package io.github.lsq4j;

import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.StepLayout;
import java.util.Random;

/**
 * The function whose ordinary gradient is the paper's straight-through one:
 * {@code h(v, s) = sum(upstream * s * (clip(v / s) + k))}, with the rounding offset
 * {@code k = round(c0) - c0} frozen at the point {@code (v0, s0)} where gradients are taken. Its central
 * finite differences, at points away from the clip ends, must equal the quantizer's dv and ds / g.
 */
public final class StraightThroughSurrogate {
    private static final double EPS = 1e-6;

    private final int[] stepIndex;
    private final QuantRange range;
    private final double[] upstream;
    private final double[] offset;
    private final double[] v0;
    private final double[] s0;

    public StraightThroughSurrogate(double[] v0, long[] shape, StepLayout layout, double[] s0, QuantRange range,
                                    double[] upstream) {
        this.stepIndex = layout.stepIndices(shape);
        this.range = range;
        this.upstream = upstream;
        this.v0 = v0;
        this.s0 = s0;
        this.offset = new double[v0.length];
        for (int i = 0; i < v0.length; i++) {
            double c = clip(v0[i] / s0[stepIndex[i]]);
            offset[i] = LsqMath.round(c) - c;
        }
    }

    /** @return central finite differences of h with respect to each element of v, at (v0, s0) */
    public double[] finiteDifferencesV() {
        double[] fd = new double[v0.length];
        for (int i = 0; i < v0.length; i++) {
            fd[i] = (at(nudged(v0, i, EPS), s0) - at(nudged(v0, i, -EPS), s0)) / (2 * EPS);
        }
        return fd;
    }

    /** @return g times the central finite differences of h with respect to each step, at (v0, s0) */
    public double[] finiteDifferencesS(double g) {
        double[] fd = new double[s0.length];
        for (int c = 0; c < s0.length; c++) {
            fd[c] = g * (at(v0, nudged(s0, c, EPS)) - at(v0, nudged(s0, c, -EPS))) / (2 * EPS);
        }
        return fd;
    }

    private double at(double[] v, double[] s) {
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            double step = s[stepIndex[i]];
            sum += upstream[i] * step * (clip(v[i] / step) + offset[i]);
        }
        return sum;
    }

    private double clip(double x) {
        return Math.max(-range.qn(), Math.min(range.qp(), x));
    }

    private static double[] nudged(double[] x, int i, double by) {
        double[] copy = x.clone();
        copy[i] += by;
        return copy;
    }

    /**
     * Random data whose v/s lies in (-Qn - 2, Qp + 2), at least 0.05 from the clip ends and from rounding
     * ties, where the surrogate is smooth.
     */
    public static double[] awayFromClipEnds(Random random, double[] steps, StepLayout layout, long[] shape,
                                            QuantRange range) {
        int[] stepIndex = layout.stepIndices(shape);
        double[] v = new double[stepIndex.length];
        for (int i = 0; i < v.length; i++) {
            double r;
            do {
                r = -range.qn() - 2 + random.nextDouble() * (range.qn() + range.qp() + 4);
            } while (Math.abs(r + range.qn()) < 0.05 || Math.abs(r - range.qp()) < 0.05
                    || Math.abs(Math.abs(r - Math.floor(r)) - 0.5) < 0.05);
            v[i] = r * steps[stepIndex[i]];
        }
        return v;
    }
}
