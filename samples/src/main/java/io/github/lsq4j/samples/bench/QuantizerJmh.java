package io.github.lsq4j.samples.bench;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.op.LsqOp;
import io.github.lsq4j.quant.Quantizer;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmark of the LSQ quantizer, forward and forward plus backward (gradients of {@code v} and the
 * steps), on float data of 64K, 1M and 16M elements, 4-bit signed, one step per tensor or one per channel
 * (64 channels on the last axis, as for conv weights), by three paths:
 * <ul>
 *   <li>{@code fused}: {@link EagerQuantizer} on a dense array, the path the layers take (one fused
 *       Java loop per pass on CPU);</li>
 *   <li>{@code arrayOps}: {@link EagerQuantizer} on strided views (every other row), which take its ND4J
 *       array-op fallback;</li>
 *   <li>{@code graph}: {@link LsqOp} in a SameDiff graph, for users' own graphs.</li>
 * </ul>
 * Run (from {@code samples/}): {@code mvn -q exec:exec@jmh} (all) or with
 * {@code -Djmh.args="QuantizerJmh -p size=1048576"}; see BENCHMARKS.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class QuantizerJmh {
    private static final int CHANNELS = 64;

    /** Elements. */
    @Param({"65536", "1048576", "16777216"})
    public int size;

    /** One step per tensor, or per channel. */
    @Param({"tensor", "channel"})
    public String steps;

    /** fused, arrayOps or graph. */
    @Param({"fused", "arrayOps", "graph"})
    public String path;

    private Quantizer quantizer;
    private INDArray v;
    private INDArray stepValues;
    private INDArray out;
    private INDArray gradient;
    private double g;
    private SameDiff sd;
    private String vhat;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.getRandom().setSeed(1);
        long[] shape = {size / CHANNELS, CHANNELS};
        quantizer = steps.equals("tensor") ? Quantizer.signed(4) : Quantizer.signed(4).perChannel(1);
        INDArray data = Nd4j.randn(DataType.FLOAT, shape);
        INDArray upstream = Nd4j.randn(DataType.FLOAT, shape);
        stepValues = Nd4j.valueArrayOf(new long[] {steps.equals("tensor") ? 1 : CHANNELS}, 0.3f);
        g = quantizer.stepGradientScale(shape, false);
        switch (path) {
            case "fused" -> {
                v = data;
                out = Nd4j.createUninitialized(DataType.FLOAT, shape);
                gradient = upstream;
            }
            case "arrayOps" -> {
                // every other row of a larger array: not contiguous, so EagerQuantizer takes its array-op path
                v = everyOtherRow(data);
                out = everyOtherRow(data);
                gradient = everyOtherRow(upstream);
            }
            case "graph" -> {
                sd = SameDiff.create();
                SDVariable var = sd.var("v", data);
                SDVariable step = sd.var("step", stepValues.reshape(1, stepValues.length()));
                vhat = LsqOp.quantize(sd, "q", var, step, quantizer, false).value().name();
                sd.setLossVariables(sd.sum("loss", sd.getVariable(vhat).mul(sd.constant("up", upstream))));
                sd.calculateGradients(Map.of(), "v", "step"); // builds the gradient function outside the timing
            }
            default -> throw new IllegalArgumentException("path " + path);
        }
    }

    /** The values of {@code a} in a view of every other row of a twice-as-tall array. */
    private static INDArray everyOtherRow(INDArray a) {
        INDArray view = Nd4j.create(DataType.FLOAT, 2 * a.rows(), a.columns())
                .get(NDArrayIndex.interval(0, 2, 2 * a.rows()), NDArrayIndex.all());
        return view.assign(a);
    }

    @Benchmark
    public Object forward() {
        if (sd != null) {
            return sd.output(Map.of(), vhat);
        }
        return EagerQuantizer.quantize(v, stepValues, quantizer, out);
    }

    @Benchmark
    public Object forwardBackward() {
        if (sd != null) {
            return sd.calculateGradients(Map.of(), "v", "step");
        }
        EagerQuantizer.quantize(v, stepValues, quantizer, out);
        return EagerQuantizer.backward(v, stepValues, quantizer, g, gradient);
    }
}
