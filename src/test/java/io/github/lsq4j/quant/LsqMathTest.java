package io.github.lsq4j.quant;

import static io.github.lsq4j.ArrayAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.GoldenCases;
import io.github.lsq4j.GoldenCases.Case;
import io.github.lsq4j.StraightThroughSurrogate;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LsqMathTest {

    static List<Case> goldenCases() {
        return GoldenCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void referenceMatchesThePapersPseudocode(Case c) {
        assertClose("codes", c.codes(), LsqMath.codes(c.v(), c.shape(), c.quantizer(), c.s()), 0, c.kind());
        assertClose("vhat", c.vhat(), LsqMath.values(c.v(), c.shape(), c.quantizer(), c.s()), 1e-12, c.kind());
        LsqMath.Gradients grads = LsqMath.gradients(c.v(), c.shape(), c.quantizer(), c.s(), c.upstream(), c.g());
        assertClose("dv", c.dv(), grads.dv(), 1e-12, c.kind());
        assertClose("ds", c.ds(), grads.ds(), 1e-12);
    }

    @Test
    void goldenFileCoversEveryKindOfValue() {
        List<String> required = List.of("interior", "above", "below", "at_qp", "at_qn", "grid", "band_above", "band_below");
        for (String kind : required) {
            assertTrue(goldenCases().stream().anyMatch(c -> List.of(c.kind()).contains(kind)), kind);
        }
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (boolean signed : new boolean[] {true, false}) {
                for (boolean perChannel : new boolean[] {true, false}) {
                    assertTrue(goldenCases().stream().anyMatch(c -> c.bits() == bits && c.signed() == signed
                            && c.layout().perChannelSteps() == perChannel),
                            bits + " bits, signed=" + signed + ", perChannel=" + perChannel);
                }
            }
        }
    }

    /** The reference's gradients equal finite differences of the straight-through surrogate. */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {2, 3, 4, 8})
    void gradientsEqualFiniteDifferencesOfTheStraightThroughSurrogate(int bits) {
        long[] shape = {4, 6};
        StepLayout layout = StepLayout.perChannel(1);
        QuantRange range = QuantRange.of(bits, true);
        double[] steps = {0.11, 0.07, 0.23, 0.05, 0.19, 0.31};
        Random random = new Random(bits);
        double[] v = StraightThroughSurrogate.awayFromClipEnds(random, steps, layout, shape, range);
        double[] upstream = random.doubles(v.length, -1, 1).toArray();
        double g = 0.3;
        LsqMath.Gradients grads = LsqMath.gradients(v, shape, quantizer(layout, range), steps, upstream, g);

        StraightThroughSurrogate h = new StraightThroughSurrogate(v, shape, layout, steps, range, upstream);
        assertClose("dv vs finite differences", h.finiteDifferencesV(), grads.dv(), 1e-6);
        assertClose("ds vs finite differences", h.finiteDifferencesS(g), grads.ds(), 1e-6);
    }

    @Test
    void initialStepIsTwiceMeanAbsOverRootQp() {
        double[] v = {1, -2, 3, -4, 0.5, -0.5};
        QuantRange range = QuantRange.of(4, true);
        double[] perTensor = LsqMath.initialSteps(v, new long[] {6}, quantizer(StepLayout.perTensor(), range));
        assertArrayEquals(new double[] {2 * (11.0 / 6) / Math.sqrt(7)}, perTensor, 1e-15);
        double[] perChannel = LsqMath.initialSteps(v, new long[] {3, 2}, quantizer(StepLayout.perChannel(1), range));
        assertArrayEquals(new double[] {2 * 4.5 / 3 / Math.sqrt(7), 2 * 6.5 / 3 / Math.sqrt(7)}, perChannel, 1e-15);
    }

    @Test
    void initialStepOfAllZeroDataIsTheMinimumStep() {
        double[] steps = LsqMath.initialSteps(new double[8], new long[] {8},
                quantizer(StepLayout.perTensor(), QuantRange.of(2, false)));
        assertArrayEquals(new double[] {LsqMath.MIN_STEP}, steps);
    }

    @Test
    void initialStepsAndCodesOnIndArrays() {
        INDArray w = Nd4j.createFromArray(new float[][] {{0.5f, -1f}, {1.5f, -0.1f}});
        QuantRange range = QuantRange.of(3, true);
        INDArray steps = LsqMath.initialSteps(w, quantizer(StepLayout.perChannel(1), range));
        assertEquals(DataType.FLOAT, steps.dataType());
        assertArrayEquals(new long[] {2}, steps.shape());
        INDArray codes = LsqMath.codes(w, quantizer(StepLayout.perChannel(1), range),
                Nd4j.createFromArray(0.5f, 0.25f));
        assertEquals(DataType.INT32, codes.dataType());
        assertArrayEquals(new int[][] {{1, -4}, {3, 0}}, codes.toIntMatrix());
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, -0.5, Double.NaN, Double.POSITIVE_INFINITY})
    void nonPositiveOrNonFiniteStepIsRefusedWithTheValue(double step) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsqMath.codes(new double[] {1, 2}, new long[] {2},
                        quantizer(StepLayout.perTensor(), QuantRange.of(4, true)), new double[] {step}));
        assertTrue(e.getMessage().contains("got " + step), e.getMessage());
    }

    @Test
    void perChannelStepCountMustMatchTheChannels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LsqMath.values(new double[6], new long[] {2, 3},
                        quantizer(StepLayout.perChannel(1), QuantRange.of(4, true)), new double[] {1, 1}));
        assertTrue(e.getMessage().contains("expected 3 step sizes") && e.getMessage().contains("got 2"), e.getMessage());
        IllegalArgumentException axis = assertThrows(IllegalArgumentException.class,
                () -> LsqMath.values(new double[6], new long[] {2, 3},
                        quantizer(StepLayout.perChannel(2), QuantRange.of(4, true)), new double[] {1}));
        assertTrue(axis.getMessage().contains("channel axis 2"), axis.getMessage());
    }

    /** The quantizer of a range and step layout (the gradient scale plays no part: g is passed directly). */
    private static Quantizer quantizer(StepLayout layout, QuantRange range) {
        return new Quantizer(range.bits(), range.signed(), layout.axis(), GradientScale.paper());
    }

    @Test
    void roundingIsHalfAwayFromZero() {
        assertEquals(3.0, LsqMath.round(2.5));
        assertEquals(-3.0, LsqMath.round(-2.5));
        assertEquals(1.0, LsqMath.round(0.5));
        assertEquals(2.0, LsqMath.round(2.4999));
    }
}
