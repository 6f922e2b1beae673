package io.github.lsq4j.op;

import static io.github.lsq4j.ArrayAsserts.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.StraightThroughSurrogate;
import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import io.github.lsq4j.quant.StepLayout;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

class LsqOpTest {

    /** The op's gradients equal finite differences of the straight-through surrogate, per tensor and per channel. */
    @ParameterizedTest(name = "axis {0}")
    @ValueSource(ints = {-1, 0, 2})
    void gradientsEqualFiniteDifferencesAwayFromRoundingJumps(int axis) {
        long[] shape = {3, 4, 5};
        StepLayout layout = StepLayout.forAxis(axis);
        QuantRange range = QuantRange.of(3, false);
        Random random = new Random(7 + axis);
        double[] steps = random.doubles(layout.numSteps(shape), 0.05, 0.3).toArray();
        double[] v = StraightThroughSurrogate.awayFromClipEnds(random, steps, layout, shape, range);
        double[] upstream = random.doubles(v.length, -1, 1).toArray();
        double g = 0.2;

        OpRunner out = OpRunner.run(v, shape, steps, upstream,
                new Quantizer(3, false, layout.axis(), GradientScale.fixed(g)), false);

        StraightThroughSurrogate h = new StraightThroughSurrogate(v, shape, layout, steps, range, upstream);
        assertClose("dv", h.finiteDifferencesV(), out.dv(), 1e-6);
        assertClose("ds", h.finiteDifferencesS(g), out.ds(), 1e-6);
    }

    /**
     * Stock rounding has a zero gradient: if the op fell back to it, v would never move. SameDiff's own
     * training loop must pull v (and s) so that vhat reaches a target that needs v to change.
     */
    @Test
    void trainingUsesTheStraightThroughGradient() {
        SameDiff sd = SameDiff.create();
        INDArray v0 = Nd4j.createFromArray(0.1f, -0.2f, 0.3f, 0.05f);
        SDVariable v = sd.var("v", v0.dup());
        SDVariable s = sd.var("s", Nd4j.createFromArray(0.1f));
        SDVariable target = sd.placeHolder("target", DataType.FLOAT, 4);
        QuantizedVariable q = LsqOp.quantize(sd, "q", v, s,
                new Quantizer(4, true, StepLayout.perTensor().axis(), GradientScale.none()), false);
        sd.math.squaredDifference(q.value(), target).sum().rename("loss").markAsLoss();
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Sgd(0.05)).dataSetFeatureMapping("target")
                .markLabelsUnused().build());

        INDArray t = Nd4j.createFromArray(0.4f, -0.4f, 0.0f, 0.2f);
        double before = loss(sd, q, t);
        for (int i = 0; i < 200; i++) {
            QuietSameDiff.call(() -> sd.fit(new DataSet(t, null)));
        }
        double after = loss(sd, q, t);

        assertNotEquals(v0, v.getArr(), "v did not move: training did not use the straight-through gradient");
        assertNotEquals(0.1f, s.getArr().getFloat(0), "s did not move");
        assertTrue(after < before / 10, "loss " + before + " -> " + after);
    }

    private static double loss(SameDiff sd, QuantizedVariable q, INDArray target) {
        INDArray vhat = sd.output(Map.of("target", target), q.value().name()).get(q.value().name());
        return vhat.sub(target).norm2Number().doubleValue();
    }

    /** For layer inputs the paper counts one example's elements; the batch-inclusive option counts them all. */
    @ParameterizedTest
    @EnumSource(GradientScale.Mode.class)
    void gradientScaleOfBatchedInputsFollowsThePolicy(GradientScale.Mode mode) {
        GradientScale policy = GradientScale.of(mode, 0.05);
        QuantRange range = QuantRange.of(4, false);
        for (int batch : new int[] {2, 5}) {
            long[] shape = {batch, 3, 4};
            Random random = new Random(batch);
            double[] v = random.doubles(batch * 12, 0, 2).toArray();
            double[] upstream = random.doubles(v.length, -1, 1).toArray();
            double[] step = {0.2};
            OpRunner out = OpRunner.run(v, shape, step, upstream, new Quantizer(4, false, Quantizer.PER_TENSOR, policy),
                    true);
            double g = policy.value(12, batch, range);
            double[] expected = LsqMath.gradients(v, shape, new Quantizer(range.bits(), range.signed(),
                    StepLayout.perTensor().axis(), GradientScale.paper()), step, upstream, g).ds();
            assertClose(mode + ", batch " + batch, expected, out.ds(), 1e-9);
        }
    }

    /** The batch size of a placeholder is only known at run time; g must follow it. */
    @Test
    void paperGradientScaleFollowsTheRuntimeBatchSize() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, 6);
        SDVariable s = sd.var("s", Nd4j.createFromArray(new double[] {0.5}));
        QuantizedVariable q = LsqOp.quantize(sd, "q", x, s,
                new Quantizer(2, true, Quantizer.PER_TENSOR, GradientScale.paper()), true);
        q.value().sum().rename("loss").markAsLoss();
        QuantRange range = QuantRange.of(2, true);
        for (int batch : new int[] {1, 4}) {
            INDArray input = Nd4j.linspace(DataType.DOUBLE, -2, 0.1, batch * 6).reshape(batch, 6);
            double[] ds = QuietSameDiff.call(() -> sd.calculateGradients(Map.of("x", input), "s")).get("s").data()
                    .asDouble();
            double[] expected = LsqMath.gradients(input.data().asDouble(), input.shape(),
                    new Quantizer(range.bits(), range.signed(), StepLayout.perTensor().axis(), GradientScale.paper()),
                    new double[] {0.5}, ones(batch * 6), GradientScale.paperFormula(6, range)).ds();
            assertClose("ds at batch " + batch, expected, ds, 1e-9);
        }
    }

    /** A step pushed to zero or below by an update is guarded: finite outputs, and its gradient still flows. */
    @ParameterizedTest
    @ValueSource(doubles = {0.0, -0.3})
    void nonPositiveStepDuringTrainingIsGuarded(double badStep) {
        SameDiff sd = SameDiff.create();
        SDVariable v = sd.var("v", Nd4j.createFromArray(0.5, -0.25, 1.2e-8, -2e-8));
        SDVariable s = sd.var("s", Nd4j.createFromArray(0.1));
        QuantizedVariable q = LsqOp.quantize(sd, "q", v, s,
                new Quantizer(4, true, StepLayout.perTensor().axis(), GradientScale.none()), false);
        q.value().sum().rename("loss").markAsLoss();
        s.getArr().assign(badStep);

        INDArray vhat = sd.output((Map<String, INDArray>) null, q.value().name()).get(q.value().name());
        assertEquals(7 * LsqMath.MIN_STEP, vhat.getDouble(0), 1e-20);
        assertEquals(-8 * LsqMath.MIN_STEP, vhat.getDouble(1), 1e-20);
        assertEquals(LsqMath.MIN_STEP, vhat.getDouble(2), 1e-20);
        assertEquals(-2 * LsqMath.MIN_STEP, vhat.getDouble(3), 1e-20);
        // clipped at Qp, clipped at -Qn, round(1.2) - 1.2, round(-2) + 2
        double ds = QuietSameDiff.call(() -> sd.calculateGradients(null, "s")).get("s").getDouble(0);
        assertEquals(7 - 8 - 0.2 + 0, ds, 1e-6);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 9})
    void bitsOutOfRangeAreRefusedWithTheValue(int bits) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Quantizer(bits, true, Quantizer.PER_TENSOR, GradientScale.paper()));
        assertTrue(e.getMessage().contains("got " + bits), e.getMessage());
    }

    @Test
    void perChannelStepCountMustMatchTheChannels() {
        SameDiff sd = SameDiff.create();
        SDVariable w = sd.var("w", Nd4j.rand(DataType.FLOAT, 3, 3, 4, 5));
        SDVariable s = sd.var("s", Nd4j.ones(DataType.FLOAT, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LsqOp.quantize(sd, "conv1", w, s,
                new Quantizer(4, true, StepLayout.perChannel(3).axis(), GradientScale.paper()), false));
        assertTrue(e.getMessage().contains("conv1") && e.getMessage().contains("4 elements")
                && e.getMessage().contains("5 channels on axis 3"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, -1.0, Double.NaN})
    void nonPositiveOrNanInitialStepIsRefusedWithTheValue(double step) {
        SameDiff sd = SameDiff.create();
        SDVariable w = sd.var("w", Nd4j.rand(DataType.FLOAT, 2, 3));
        SDVariable s = sd.var("s", Nd4j.createFromArray((float) step));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LsqOp.quantize(sd, "fc", w, s,
                new Quantizer(4, true, StepLayout.perTensor().axis(), GradientScale.paper()), false));
        assertTrue(e.getMessage().contains("fc") && e.getMessage().contains("got " + (float) step), e.getMessage());
    }

    /** The batch axis cannot carry per-channel steps: each example would get its own step. */
    @Test
    void perChannelStepsOnTheBatchAxisOfBatchedDataAreRefused() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", Nd4j.rand(DataType.FLOAT, 4, 3));
        SDVariable s = sd.var("s", Nd4j.ones(DataType.FLOAT, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LsqOp.quantize(sd, "in", x, s,
                Quantizer.signed(4).perChannel(0), true));
        assertTrue(e.getMessage().contains("per-channel steps cannot lie on axis 0 of batched data"), e.getMessage());
    }

    private static double[] ones(int n) {
        double[] x = new double[n];
        Arrays.fill(x, 1);
        return x;
    }
}
