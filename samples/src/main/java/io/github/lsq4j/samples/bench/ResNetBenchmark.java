package io.github.lsq4j.samples.bench;

import io.github.lsq4j.backend.OneDnnHelpers;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.fashion.SmallResNet;
import io.github.lsq4j.train.LsqRecipe;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Training and inference throughput, and peak memory, of the demo's ResNet-8 or ResNet-20 (LSQ-SPEC.md;
 * batch 128, random 28x28x1 data) in one of three forms: {@code stock} DL4J layers, {@code off} (converted
 * to LSQ layers with quantization off), {@code lsq4} (LSQ at 4 bits, first and last layer at 8), trained
 * with the recipe's SGD with momentum, with the native helpers attached as {@code FineTuner} attaches them.
 *
 * <p>Prints one line starting {@code RESULT} with the median training and inference images/s and the peak
 * memory: the process's resident set (VmHWM, comparable with PyTorch's; it includes everything), the Java
 * heap, and the off-heap memory of DL4J's workspaces (where the activations and gradients of a step live),
 * sampled after every step. One variant per process, so the peaks are
 * the variant's own. {@code bench/resnet-bench.sh} runs every variant beside PyTorch and prints the table.
 */
public final class ResNetBenchmark {
    /** The command line ({@code --help}). */
    @Command(name = "ResNetBenchmark", sortOptions = false,
            description = "Training and inference throughput and peak memory of ResNet-8/20: stock, LSQ off, LSQ 4-bit.")
    static final class Options implements SampleCli.Checked {
        @Mixin
        HelpOption help;

        @Option(names = "--depth", paramLabel = "D", defaultValue = "8", description = "8 or 20 (default: ${DEFAULT-VALUE}).")
        int depth;

        @Option(names = "--variant", paramLabel = "V", defaultValue = "lsq4",
                description = "stock, off (LSQ layers, quantization off) or lsq4 (default: ${DEFAULT-VALUE}).")
        String variant;

        @Option(names = "--warmup", paramLabel = "W", defaultValue = "5",
                description = "Untimed training steps first (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--reps", paramLabel = "R", defaultValue = "20",
                description = "Timed training steps, and as many inference calls (default: ${DEFAULT-VALUE}).")
        int reps;

        @Option(names = "--batch", paramLabel = "B", defaultValue = "128",
                description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batch;

        @Override
        public void check() {
            if (depth != 8 && depth != 20) {
                throw new IllegalArgumentException("--depth: 8 or 20, got " + depth);
            }
            if (!variant.equals("stock") && !variant.equals("off") && !variant.equals("lsq4")) {
                throw new IllegalArgumentException("--variant: stock, off or lsq4, got '" + variant + "'");
            }
            if (warmup < 0 || reps < 1 || batch < 1) {
                throw new IllegalArgumentException("--warmup >= 0, --reps >= 1 and --batch >= 1");
            }
        }
    }

    private ResNetBenchmark() {
    }

    /**
     * @param args see {@code --help}
     * @throws IOException if /proc/self/status cannot be read
     */
    public static void main(String[] args) throws IOException {
        Options opts = SampleCli.parse(new Options(), args);
        Nd4j.getRandom().setSeed(0);
        INDArray features = Nd4j.randn(DataType.FLOAT, opts.batch, 1, 28, 28);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, opts.batch, 10);
        for (int i = 0; i < opts.batch; i++) {
            labels.putScalar(i, i % 10, 1);
        }
        DataSet data = new DataSet(features, labels);
        ComputationGraph net = build(opts.variant, opts.depth, data);
        OneDnnHelpers.attach(net);

        long[] workspacePeak = {0};
        double train = medianSeconds(() -> net.fit(data), opts, workspacePeak);
        double infer = medianSeconds(() -> net.output(features), opts, workspacePeak);
        System.out.printf(Locale.ROOT, "RESULT impl=lsq4j depth=%d variant=%s train=%.0f infer=%.0f rssMB=%.0f "
                        + "heapMB=%.0f workspacesMB=%.0f%n", opts.depth, opts.variant, opts.batch / train,
                opts.batch / infer, peakResidentMb(), peakHeapMb(), workspacePeak[0] / 1e6);
    }

    private static ComputationGraph build(String variant, int depth, DataSet calibration) {
        ComputationGraph stock = SmallResNet.build(depth, 1);
        return switch (variant) {
            case "stock" -> LsqRecipe.fullPrecision().applyTo(stock, 1000);
            case "off" -> LsqRecipe.fullPrecision().applyTo(
                    LsqConverter.convert(stock, QuantizationPolicy.builder(4).quantize(false).build()), 1000);
            default -> {
                ComputationGraph lsq = LsqConverter.convert(stock, QuantizationPolicy.paper(4));
                LsqLayers.calibrate(lsq, new SingletonDataSetIterator(calibration), 1);
                yield LsqRecipe.paper(4).applyTo(lsq, 1000);
            }
        };
    }

    /** Bytes held by this thread's ND4J workspaces. */
    private static long workspaceBytes() {
        long bytes = 0;
        for (MemoryWorkspace ws : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
            bytes += ws.getCurrentSize();
        }
        return bytes;
    }

    /**
     * Runs {@code step} {@code warmup} times untimed, then {@code reps} times timed.
     *
     * @param workspacePeak updated with the workspaces' size after each run
     * @return the median seconds of the timed runs
     */
    private static double medianSeconds(Runnable step, Options opts, long[] workspacePeak) {
        double[] seconds = new double[opts.reps];
        for (int i = 0; i < opts.warmup + opts.reps; i++) {
            long t0 = System.nanoTime();
            step.run();
            if (i >= opts.warmup) {
                seconds[i - opts.warmup] = (System.nanoTime() - t0) / 1e9;
            }
            workspacePeak[0] = Math.max(workspacePeak[0], workspaceBytes());
        }
        Arrays.sort(seconds);
        return seconds[seconds.length / 2];
    }

    /** The process's peak resident set, from /proc/self/status (VmHWM, in kB). */
    private static double peakResidentMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1e3;
            }
        }
        return Double.NaN;
    }

    private static double peakHeapMb() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak / 1e6;
    }
}
