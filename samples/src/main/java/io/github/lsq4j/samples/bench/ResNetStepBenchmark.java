package io.github.lsq4j.samples.bench;

import io.github.lsq4j.backend.OneDnnHelpers;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.fashion.SmallResNet;
import io.github.lsq4j.train.LsqRecipe;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Training-step throughput of the demo's ResNet-8 (batch 128, 28x28x1, random data) in three forms: stock
 * DL4J layers, converted to LSQ layers with quantization off, and LSQ at 4 bits (first and last layer at 8);
 * a variant name ending in {@code +h} runs with {@link OneDnnHelpers} attached to the stock layers.
 * Each variant runs {@code warmup} untimed iterations, then {@code reps} timed ones; the report gives
 * images/s from the median and the best iteration.
 *
 * <p>Arguments: {@code --variants stock+h,off+h,lsq4+h,stock,lsq4 --warmup W --reps R --batch B}.
 * Run: {@code mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.bench.ResNetStepBenchmark}.
 */
public final class ResNetStepBenchmark {
    /** The command line ({@code --help}). */
    @Command(name = "ResNetStepBenchmark", sortOptions = false,
            description = "Training-step throughput of the demo's ResNet-8: stock layers, LSQ off, LSQ 4-bit.")
    static final class Options implements SampleCli.Checked {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;

        @Option(names = "--variants", split = ",", paramLabel = "V", defaultValue = "stock+h,off+h,lsq4+h,stock,lsq4",
                description = "stock, off (LSQ layers, quantization off) or lsq4, each with +h for the native helpers "
                        + "(default: ${DEFAULT-VALUE}).")
        List<String> variants;

        @Option(names = "--warmup", paramLabel = "W", defaultValue = "5",
                description = "Untimed iterations first (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--reps", paramLabel = "R", defaultValue = "20",
                description = "Timed iterations (default: ${DEFAULT-VALUE}).")
        int reps;

        @Option(names = "--batch", paramLabel = "B", defaultValue = "128",
                description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batch;

        @Override
        public void check() {
            for (String v : variants) {
                if (!List.of("stock", "off", "lsq4").contains(v.replace("+h", ""))) {
                    throw new IllegalArgumentException("--variants: unknown variant '" + v + "'");
                }
            }
        }
    }

    private ResNetStepBenchmark() {
    }

    /**
     * @param args see the class documentation
     */
    public static void main(String[] args) {
        Options opts = SampleCli.parse(new Options(), args);
        List<String> variants = opts.variants;
        int warmup = opts.warmup;
        int reps = opts.reps;
        int batch = opts.batch;
        Nd4j.getRandom().setSeed(0);
        INDArray features = Nd4j.randn(DataType.FLOAT, batch, 1, 28, 28);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, 10);
        for (int i = 0; i < batch; i++) {
            labels.putScalar(i, i % 10, 1);
        }
        DataSet data = new DataSet(features, labels);
        for (String variant : variants) {
            boolean helpers = variant.endsWith("+h");
            ComputationGraph net = build(variant.replace("+h", ""), data);
            if (helpers) {
                OneDnnHelpers.attach(net);
            }
            double[] seconds = new double[reps];
            for (int i = 0; i < warmup + reps; i++) {
                long t0 = System.nanoTime();
                net.fit(data);
                if (i >= warmup) {
                    seconds[i - warmup] = (System.nanoTime() - t0) / 1e9;
                }
            }
            Arrays.sort(seconds);
            System.out.printf(Locale.ROOT, "%-6s batch %d: %.0f images/s median, %.0f best (%.1f ms/iteration)%n",
                    variant, batch, batch / seconds[reps / 2], batch / seconds[0], 1000 * seconds[reps / 2]);
        }
    }

    private static ComputationGraph build(String variant, DataSet calibration) {
        ComputationGraph stock = SmallResNet.build(8, 1);
        DataSetIterator calib = new SingletonDataSetIterator(calibration);
        return switch (variant) {
            case "stock" -> LsqRecipe.fullPrecision().applyTo(stock, 1000);
            case "off" -> LsqRecipe.fullPrecision().applyTo(
                    LsqConverter.convert(stock, QuantizationPolicy.builder(4).quantize(false).build()), 1000);
            case "lsq4" -> {
                ComputationGraph lsq = LsqConverter.convert(stock, QuantizationPolicy.paper(4));
                LsqLayers.calibrate(lsq, calib, 1);
                yield LsqRecipe.paper(4).applyTo(lsq, 1000);
            }
            default -> throw new IllegalArgumentException("unknown variant " + variant);
        };
    }
}
