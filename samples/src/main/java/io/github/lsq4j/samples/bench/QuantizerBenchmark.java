package io.github.lsq4j.samples.bench;

import io.github.lsq4j.op.LsqOp;
import io.github.lsq4j.op.QuantizedVariable;
import io.github.lsq4j.quant.Quantizer;
import io.github.lsq4j.samples.SampleCli;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Forward and forward+backward throughput of {@link LsqOp#quantize} on one float vector (default
 * 2^20 elements), 4-bit signed, one step per tensor, the paper's gradient scale, loss
 * {@code sum(vhat * upstream)}: the same computation as {@code samples/bench/quantizer_bench.py}.
 *
 * <p>Method: build the graph once, run {@code warmup} untimed iterations, then time {@code reps}
 * iterations one by one with {@link System#nanoTime()}; report the median and the best, in million
 * elements per second. Besides the LSQ graph it times, for comparison, the same math as eager ND4J
 * array ops (no SameDiff), and with {@code --profile} it breaks one SameDiff iteration down by op.
 *
 * <p>Arguments: {@code --n N --warmup W --reps R --profile --series}.
 * Run: {@code mvn -q exec:java -Dexec.args="--reps 30 --profile"}.
 */
public final class QuantizerBenchmark {
    private static final int BITS = 4;
    private static final int QN = 1 << (BITS - 1);
    private static final int QP = (1 << (BITS - 1)) - 1;

    /** --series: print every timed repetition, to see drift. */
    private static boolean series;

    /** The command line ({@code --help}). */
    @Command(name = "QuantizerBenchmark", sortOptions = false,
            description = "Throughput of the LSQ quantizer op, forward and forward+backward, against eager ND4J ops.")
    static final class Options {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;

        @Option(names = "--n", paramLabel = "N", defaultValue = "1048576",
                description = "Elements of the vector (default: ${DEFAULT-VALUE}).")
        int n;

        @Option(names = "--warmup", paramLabel = "W", defaultValue = "10",
                description = "Untimed iterations first (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--reps", paramLabel = "R", defaultValue = "30",
                description = "Timed iterations (default: ${DEFAULT-VALUE}).")
        int reps;

        @Option(names = "--profile", description = "Break one SameDiff iteration down by op.")
        boolean profile;

        @Option(names = "--series", description = "Print every timed repetition, to see drift.")
        boolean series;
    }

    private QuantizerBenchmark() {
    }

    /**
     * @param args {@code --n N --warmup W --reps R --profile --series}
     */
    public static void main(String[] args) {
        Options opts = SampleCli.parse(new Options(), args);
        int n = opts.n;
        int warmup = opts.warmup;
        int reps = opts.reps;
        boolean profile = opts.profile;
        series = opts.series;
        Nd4j.getRandom().setSeed(0);
        INDArray v0 = Nd4j.randn(DataType.FLOAT, n);
        INDArray up0 = Nd4j.randn(DataType.FLOAT, n);
        float s0 = (float) (2 * v0.ameanNumber().doubleValue() / Math.sqrt(QP));
        double g = 1.0 / Math.sqrt((double) n * QP);

        System.out.printf(Locale.ROOT, "LSQ quantizer benchmark: n=%d float32, %d-bit signed, per tensor; "
                        + "warmup %d, %d timed reps; ND4J threads %d; backend %s%n", n, BITS, warmup, reps,
                Nd4j.getEnvironment().maxMasterThreads(), Nd4j.getBackend().getClass().getSimpleName());

        SameDiff sd = SameDiff.create();
        SDVariable v = sd.var("v", v0.dup());
        SDVariable step = sd.var("step", Nd4j.scalar(DataType.FLOAT, s0).reshape(1));
        SDVariable upstream = sd.constant("upstream", up0.dup());
        QuantizedVariable q = LsqOp.quantize(sd, "q", v, step, Quantizer.signed(BITS), false);
        SDVariable loss = sd.sum("loss", q.value().mul(upstream));
        sd.setLossVariables(loss);
        String vhatName = q.value().name();
        Map<String, INDArray> noPlaceholders = Collections.emptyMap();

        List<Row> rows = new ArrayList<>();
        rows.add(time("SameDiff LsqOp forward (sd.output vhat)", n, warmup, reps,
                () -> sd.output(noPlaceholders, vhatName)));
        rows.add(time("SameDiff LsqOp fwd+bwd (calculateGradients v, step)", n, warmup, reps,
                () -> sd.calculateGradients(noPlaceholders, "v", "step")));
        rows.add(time("SameDiff loss only (sd.output loss)", n, warmup, reps,
                () -> sd.output(noPlaceholders, "loss")));

        // The same math as eager ND4J ops: a floor for what stock ops can do without SameDiff.
        INDArray ve = v0.dup();
        INDArray upe = up0.dup();
        rows.add(time("eager ND4J forward", n, warmup, reps, () -> eagerForward(ve, s0)));
        rows.add(time("eager ND4J fwd+bwd", n, warmup, reps, () -> eagerForwardBackward(ve, upe, s0, g)));

        // What one pass over the data costs, without and with a fresh allocation.
        INDArray scratch = v0.dup();
        rows.add(time("one in-place pass (x.negi(), no allocation)", n, warmup, reps, scratch::negi));
        rows.add(time("one pass into a new array (x.neg())", n, warmup, reps, scratch::neg));
        rows.add(time("allocate only (Nd4j.createUninitialized)", n, warmup, reps,
                () -> Nd4j.createUninitialized(DataType.FLOAT, scratch.length())));

        System.out.println();
        System.out.printf(Locale.ROOT, "%-55s %12s %12s %12s %12s%n", "what", "median ms", "best ms",
                "median Mel/s", "best Mel/s");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-55s %12.3f %12.3f %12.1f %12.1f%n", r.name, r.medianMs, r.bestMs,
                    n / r.medianMs / 1e3, n / r.bestMs / 1e3);
        }

        checkAgreement(sd, vhatName, ve, upe, s0, g);

        if (profile) {
            profile(sd, noPlaceholders, vhatName, warmup, reps);
        }
    }

    private record Row(String name, double medianMs, double bestMs) {
    }

    private static Row time(String name, int n, int warmup, int reps, Runnable body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        if (series) {
            System.out.printf(Locale.ROOT, "%s, ms per rep in order: %s%n", name,
                    Arrays.toString(Arrays.stream(ms).map(x -> Math.round(x * 10) / 10.0).toArray()));
        }
        Arrays.sort(ms);
        double median = reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
        return new Row(name, median, ms[0]);
    }

    /** vhat = round(clip(v / s, -Qn, Qp)) * s, 3 passes. */
    private static INDArray eagerForward(INDArray v, float s) {
        INDArray x = v.mul(1f / s);
        Transforms.min(Transforms.max(x, -QN, false), QP, false);
        return Transforms.round(x, false).muli(s);
    }

    /**
     * vhat, d loss/d v = up * inside, d loss/d s = g * sum(up * (inside ? round(x) - x : clipped end)),
     * with x = v / s and inside = -Qn < x < Qp; returns {vhat, dv, ds}.
     */
    private static INDArray[] eagerForwardBackward(INDArray v, INDArray up, float s, double g) {
        INDArray x = v.mul(1f / s);
        INDArray inside = x.gt(-QN).castTo(DataType.FLOAT).muli(x.lt(QP).castTo(DataType.FLOAT));
        INDArray xc = Transforms.min(Transforms.max(x, -QN, true), QP, false);
        INDArray codes = Transforms.round(xc, true);
        INDArray vhat = codes.mul(s);
        INDArray dv = up.mul(inside);
        // inside: round(x) - x; outside: the clipped end, which equals round(xc) - xc + xc = codes there
        INDArray dsElem = codes.sub(xc.muli(inside));
        double ds = g * up.mul(dsElem).sumNumber().doubleValue();
        return new INDArray[] {vhat, dv, Nd4j.scalar(DataType.FLOAT, (float) ds)};
    }

    /** The eager version must compute the same numbers as LsqOp, or its timing means nothing. */
    private static void checkAgreement(SameDiff sd, String vhatName, INDArray v, INDArray up, float s, double g) {
        Map<String, INDArray> grads = sd.calculateGradients(Collections.emptyMap(), "v", "step");
        INDArray vhat = sd.output(Collections.emptyMap(), vhatName).get(vhatName);
        INDArray[] eager = eagerForwardBackward(v, up, s, g);
        double dvhat = Transforms.abs(vhat.sub(eager[0]), false).maxNumber().doubleValue();
        double ddv = Transforms.abs(grads.get("v").sub(eager[1]), false).maxNumber().doubleValue();
        double dsSd = grads.get("step").getDouble(0);
        double dsEager = eager[2].getDouble(0);
        System.out.printf(Locale.ROOT, "%nagreement SameDiff vs eager: max|dvhat| %.3g, max|d grad v| %.3g, "
                + "grad step %.6g vs %.6g%n", dvhat, ddv, dsSd, dsEager);
    }

    /** Times every op of one SameDiff iteration (summed over reps), forward and fwd+bwd. */
    private static void profile(SameDiff sd, Map<String, INDArray> ph, String vhatName, int warmup, int reps) {
        OpTimer timer = new OpTimer();
        sd.setListeners(timer);
        for (String what : new String[] {"forward", "fwd+bwd"}) {
            Runnable body = what.equals("forward")
                    ? () -> sd.output(ph, vhatName)
                    : () -> sd.calculateGradients(ph, "v", "step");
            for (int i = 0; i < warmup; i++) {
                body.run();
            }
            timer.reset();
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                body.run();
            }
            double wallMs = (System.nanoTime() - t0) / 1e6 / reps;
            timer.print(what, wallMs, reps);
        }
        sd.setListeners();
    }

    /** Wall time between preOpExecution and opExecution, per op type and per op instance. */
    static final class OpTimer extends BaseListener {
        private final Map<String, long[]> byType = new TreeMap<>();
        private final Map<String, long[]> byOp = new TreeMap<>();
        private final Map<String, Long> started = new HashMap<>();

        void reset() {
            byType.clear();
            byOp.clear();
        }

        @Override
        public boolean isActive(Operation operation) {
            return true;
        }

        @Override
        public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext opContext) {
            started.put(op.getName(), System.nanoTime());
        }

        @Override
        public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext,
                                INDArray[] outputs) {
            Long t0 = started.remove(op.getName());
            if (t0 == null) {
                return;
            }
            long dt = System.nanoTime() - t0;
            String type = op.getOp().opName();
            long[] a = byType.computeIfAbsent(type, k -> new long[2]);
            a[0]++;
            a[1] += dt;
            long[] b = byOp.computeIfAbsent(op.getName() + " (" + type + ")", k -> new long[2]);
            b[0]++;
            b[1] += dt;
        }

        void print(String what, double wallMs, int reps) {
            long total = byType.values().stream().mapToLong(a -> a[1]).sum();
            long count = byType.values().stream().mapToLong(a -> a[0]).sum();
            System.out.printf(Locale.ROOT, "%nprofile %s: wall %.3f ms/iter, %d ops/iter, ops' own time %.3f ms/iter "
                            + "(the rest, %.3f ms, is SameDiff's scheduling outside the ops)%n", what, wallMs,
                    count / reps, total / 1e6 / reps, wallMs - total / 1e6 / reps);
            System.out.printf(Locale.ROOT, "  %-28s %8s %12s %7s%n", "op type", "calls/it", "ms/iter", "share");
            byType.entrySet().stream()
                    .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
                    .forEach(e -> System.out.printf(Locale.ROOT, "  %-28s %8d %12.3f %6.1f%%%n", e.getKey(),
                            e.getValue()[0] / reps, e.getValue()[1] / 1e6 / reps, 100.0 * e.getValue()[1] / total));
            System.out.printf(Locale.ROOT, "  top ops:%n");
            byOp.entrySet().stream()
                    .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
                    .limit(12)
                    .forEach(e -> System.out.printf(Locale.ROOT, "    %-60s %10.3f ms%n", e.getKey(),
                            e.getValue()[1] / 1e6 / reps));
        }
    }
}
