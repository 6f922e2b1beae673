package io.github.lsq4j.samples.export;

import io.github.lsq4j.backend.OneDnnHelpers;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.export.OnnxExporter;
import io.github.lsq4j.export.OnnxFormat;
import io.github.lsq4j.layers.IntegerInference;
import io.github.lsq4j.onednn.IntegerNetwork;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.ImageClassificationIterator;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.train.ModelFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Integer inference on the JVM, measured (issue 31): ResNet-8 and ResNet-20 on Fashion-MNIST trained in float (or
 * read with {@code --fp8}, {@code --fp20}), converted to LSQ and briefly fine-tuned at each bit width, per tensor
 * and per channel weight steps, then
 * <ul>
 *   <li><b>agreement</b>: on the test images, the top-1 class of the LSQ layers' int8 path
 *       ({@link IntegerInference} on) and of the compiled {@link IntegerNetwork}, each against lsq4j's own float
 *       path ({@code IntegerInference.setEnabled(false)}), with each path's top-1 and the count of images whose
 *       class differs; with {@code --in-double}, all three against the float path computed in double too, which
 *       shows how often float rounding alone moves a class;</li>
 *   <li><b>speed</b>, at {@code --speed-bits} (per tensor), batch 1 and 128, images/s: DL4J's stock float
 *       network (with {@link OneDnnHelpers}), the LSQ layers on their float and their int8 path, the compiled
 *       {@link IntegerNetwork}, and ONNX Runtime on the float export and on the {@code FOLDED} export (2 intra-op
 *       threads). DL4J and oneDNN use {@code OMP_NUM_THREADS} threads: run with {@code OMP_NUM_THREADS=2}.</li>
 * </ul>
 * Both tables are printed in markdown. PyTorch's int8 row comes from {@code torch_int8_bench.py}, run beside it.
 *
 * <p>{@code OMP_NUM_THREADS=2 mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.export.IntegerInferenceBenchmark}
 */
@Command(name = "IntegerInferenceBenchmark", sortOptions = false, usageHelpWidth = 100, description = {
    "Agreement and speed of lsq4j's integer inference (LSQ layers' int8 path, IntegerNetwork) beside DL4J float "
            + "and ONNX Runtime, ResNet-8 and ResNet-20 on Fashion-MNIST.", ""})
public final class IntegerInferenceBenchmark implements SampleCli.Checked {
    private static final int EVAL_BATCH = 500;

    @Mixin
    HelpOption help;

    @Mixin
    FashionDataOption data;

    @Option(names = "--depths", split = ",", paramLabel = "D", defaultValue = "8,20", description = "ResNet depths, "
            + "8 and/or 20 (default: ${DEFAULT-VALUE}).")
    List<Integer> depths;

    @Option(names = "--fp8", paramLabel = "ZIP", description = "A trained float ResNet-8 (e.g. the demo's fp.zip); "
            + "default: train one for an epoch on --fp-images.")
    Path fp8;

    @Option(names = "--fp20", paramLabel = "ZIP", description = "A trained float ResNet-20; default: train one for "
            + "an epoch on --fp-images.")
    Path fp20;

    @Option(names = "--fp-images", paramLabel = "N", defaultValue = "8000", description = "Images of the float "
            + "epoch (default: ${DEFAULT-VALUE}).")
    int fpImages;

    @Option(names = "--lsq-images", paramLabel = "N", defaultValue = "3200", description = "Images of the LSQ "
            + "fine-tuning epoch per bit width and weight-step layout (default: ${DEFAULT-VALUE}).")
    int lsqImages;

    @Option(names = "--bits", split = ",", paramLabel = "B", defaultValue = "8,4,3,2",
            description = "Bit widths of the agreement table (default: ${DEFAULT-VALUE}).")
    List<Integer> bits;

    @Option(names = "--weight-steps", split = ",", paramLabel = "L", defaultValue = "tensor,channel",
            description = "Weight steps per tensor and/or per channel (default: ${DEFAULT-VALUE}).")
    List<String> weightSteps;

    @Option(names = "--test-images", paramLabel = "N", defaultValue = "10000", description = "Test images of the "
            + "agreement table (default: ${DEFAULT-VALUE}, all).")
    int testImages;

    @Option(names = "--speed-bits", paramLabel = "B", defaultValue = "4", description = "Bit width of the speed "
            + "table, per tensor weight steps (default: ${DEFAULT-VALUE}); 0: no speed table.")
    int speedBits;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "5", description = "Timed seconds per speed cell, "
            + "after a second of warm-up (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--in-double", description = "Also compare every path with the float path computed in double "
            + "(slow: DL4J's double convolutions run without native helpers).")
    boolean inDouble;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the ONNX files go (default: a temporary "
            + "folder).")
    Path out;

    @Override
    public void check() {
        for (int d : depths) {
            if (d != 8 && d != 20) {
                throw new IllegalArgumentException("--depths: 8 or 20, not " + d);
            }
        }
        for (String s : weightSteps) {
            if (!s.equals("tensor") && !s.equals("channel")) {
                throw new IllegalArgumentException("--weight-steps: tensor or channel, not " + s);
            }
        }
        if (speedBits != 0 && (speedBits < 2 || speedBits > 8)) {
            throw new IllegalArgumentException("--speed-bits: 2 to 8, or 0, not " + speedBits);
        }
        if (testImages < 1 || testImages > 10_000) {
            throw new IllegalArgumentException("--test-images: 1 to 10000, not " + testImages);
        }
    }

    /**
     * The agreement of both integer paths of one fine-tuned network with its float path.
     *
     * @param network         e.g. "ResNet-8"
     * @param bits            the target bit width
     * @param perChannel      whether the weight steps are per output channel
     * @param images          test images compared
     * @param floatCorrect    images the float path classifies correctly
     * @param layerCorrect    the same for the LSQ layers' int8 path
     * @param layerDiffers    images on which the int8 path's class differs from the float path's
     * @param compiledCorrect the same for the compiled {@link IntegerNetwork}
     * @param compiledDiffers images on which its class differs from the float path's
     * @param layerMaxDiff    the largest difference of an output probability, int8 path against float path
     * @param compiledMaxDiff the same for the compiled network
     */
    record Agreement(String network, int bits, boolean perChannel, int images, int floatCorrect, int layerCorrect,
                     int layerDiffers, int compiledCorrect, int compiledDiffers, double layerMaxDiff,
                     double compiledMaxDiff, DoubleReference inDouble) {
        double layerAgreement() {
            return 1 - layerDiffers / (double) images;
        }

        double compiledAgreement() {
            return 1 - compiledDiffers / (double) images;
        }
    }

    /**
     * How many images each path classifies differently from the same network's float path computed in double:
     * how often float rounding alone moves a class, in the reference as in the integer paths.
     */
    record DoubleReference(int floatDiffers, int layerDiffers, int compiledDiffers) {
    }

    /**
     * @param args see {@code --help}
     * @throws Exception if reading, training, compiling, exporting or running fails
     */
    public static void main(String[] args) throws Exception {
        IntegerInferenceBenchmark o = SampleCli.parse(new IntegerInferenceBenchmark(), args);
        if (!IntegerInference.isAvailable()) {
            throw SampleCli.fail("no integer kernels: org.bytedeco:dnnl-platform is not on the class path");
        }
        FashionMnist.Splits data = o.data.loadOrExit();
        Path out = o.out != null ? Files.createDirectories(o.out) : Files.createTempDirectory("lsq4j-integer");
        List<Agreement> agreements = new ArrayList<>();
        Map<Integer, ComputationGraph> floats = new LinkedHashMap<>();
        Map<Integer, ComputationGraph> speedNets = new LinkedHashMap<>();
        for (int depth : o.depths) {
            Path zip = depth == 8 ? o.fp8 : o.fp20;
            long t0 = System.nanoTime();
            ComputationGraph fp = zip != null ? ModelFiles.loadComputationGraph(zip)
                    : OnnxDeployment.trainFloat(depth, data.train(), o.fpImages, o.seed);
            log("ResNet-%d float: %s (%.0f s)", depth, zip != null ? zip : "trained on " + o.fpImages + " images",
                    seconds(t0));
            floats.put(depth, fp);
            for (String steps : o.weightSteps) {
                boolean perChannel = steps.equals("channel");
                for (int b : o.bits) {
                    t0 = System.nanoTime();
                    ComputationGraph lsq = OnnxDeployment.fineTune(fp, policy(b, perChannel), data.train(),
                            o.lsqImages, o.seed);
                    double tuned = seconds(t0);
                    t0 = System.nanoTime();
                    Agreement a = agreement("ResNet-" + depth, b, perChannel, lsq, data.test(), o.testImages, o.inDouble);
                    agreements.add(a);
                    log("ResNet-%d %d-bit per %s: fine-tuned in %.0f s, compared in %.0f s: float %.2f %%, int8 "
                                    + "layers differ on %d, compiled on %d", depth, b, steps, tuned, seconds(t0),
                            100.0 * a.floatCorrect() / a.images(), a.layerDiffers(), a.compiledDiffers());
                    if (b == o.speedBits && !perChannel) {
                        speedNets.put(depth, lsq);
                    }
                }
            }
            if (o.speedBits != 0 && !speedNets.containsKey(depth)) {
                speedNets.put(depth, OnnxDeployment.fineTune(fp, policy(o.speedBits, false), data.train(),
                        o.lsqImages, o.seed));
            }
        }
        System.out.println();
        System.out.println("Top-1 agreement with lsq4j's float path, " + o.testImages + " test images:");
        System.out.println();
        agreementTable(agreements).forEach(System.out::println);
        if (o.speedBits != 0) {
            System.out.println();
            System.out.println("Inference, images/s, batch 1 and 128, " + o.speedBits + "-bit per-tensor LSQ networks, "
                    + "OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS") + ", ONNX Runtime with 2 intra-op "
                    + "threads, " + o.seconds + " s per cell:");
            System.out.println();
            speedTable(floats, speedNets, o.speedBits, data.test(), out, o.seconds).forEach(System.out::println);
        }
    }

    /** @return the paper's policy at {@code bits}, with per-channel weight steps if asked */
    static QuantizationPolicy policy(int bits, boolean perChannel) {
        return QuantizationPolicy.builder(bits).perChannelWeights(perChannel).build();
    }

    /**
     * Compares the LSQ layers' int8 path and the compiled network with the float path on the first
     * {@code images} test images.
     *
     * @param lsq      a fine-tuned (or calibrated) LSQ network
     * @param test     the test images
     * @param images   how many of them
     * @param inDouble whether to compare all three paths with the float path computed in double as well
     * @return the comparison
     */
    static Agreement agreement(String network, int bits, boolean perChannel, ComputationGraph lsq, LabeledImages test,
                               int images, boolean inDouble) {
        boolean wasEnabled = IntegerInference.isEnabled();
        int floatCorrect = 0;
        int layerCorrect = 0;
        int layerDiffers = 0;
        int compiledCorrect = 0;
        int compiledDiffers = 0;
        double layerMax = 0;
        double compiledMax = 0;
        ComputationGraph lsqDouble = inDouble ? lsq.convertDataType(DataType.DOUBLE) : null;
        int floatVsDouble = 0;
        int layerVsDouble = 0;
        int compiledVsDouble = 0;
        ImageClassificationIterator it = ImageClassificationIterator.builder(test, EVAL_BATCH)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).limit(images).build();
        try (IntegerNetwork compiled = IntegerNetwork.compile(lsq, 1, 28, 28)) {
            while (it.hasNext()) {
                DataSet batch = it.next();
                INDArray x = batch.getFeatures();
                IntegerInference.setEnabled(false);
                INDArray floatOut = lsq.outputSingle(x);
                IntegerInference.setEnabled(true);
                INDArray layerOut = lsq.outputSingle(x);
                INDArray compiledOut = compiled.output(x);
                int[] labels = classes(batch.getLabels());
                int[] f = classes(floatOut);
                int[] l = classes(layerOut);
                int[] c = classes(compiledOut);
                for (int i = 0; i < labels.length; i++) {
                    floatCorrect += f[i] == labels[i] ? 1 : 0;
                    layerCorrect += l[i] == labels[i] ? 1 : 0;
                    compiledCorrect += c[i] == labels[i] ? 1 : 0;
                    layerDiffers += l[i] != f[i] ? 1 : 0;
                    compiledDiffers += c[i] != f[i] ? 1 : 0;
                }
                if (lsqDouble != null) {
                    int[] d = classes(lsqDouble.outputSingle(x.castTo(DataType.DOUBLE)));
                    for (int i = 0; i < d.length; i++) {
                        floatVsDouble += f[i] != d[i] ? 1 : 0;
                        layerVsDouble += l[i] != d[i] ? 1 : 0;
                        compiledVsDouble += c[i] != d[i] ? 1 : 0;
                    }
                }
                layerMax = Math.max(layerMax, layerOut.sub(floatOut).amaxNumber().doubleValue());
                compiledMax = Math.max(compiledMax, compiledOut.sub(floatOut).amaxNumber().doubleValue());
            }
        } finally {
            IntegerInference.setEnabled(wasEnabled);
        }
        return new Agreement(network, bits, perChannel, images, floatCorrect, layerCorrect, layerDiffers,
                compiledCorrect, compiledDiffers, layerMax, compiledMax,
                lsqDouble == null ? null : new DoubleReference(floatVsDouble, layerVsDouble, compiledVsDouble));
    }

    private static int[] classes(INDArray scores) {
        return scores.argMax(1).castTo(DataType.INT32).toIntVector();
    }

    /** @return the agreement table, markdown */
    static List<String> agreementTable(List<Agreement> agreements) {
        List<String> lines = new ArrayList<>();
        lines.add("| network | bits | weight steps | float path top-1 % | int8 layers: top-1 % | agreement % | "
                + "classes differ | max output diff | IntegerNetwork: top-1 % | agreement % | classes differ | "
                + "max output diff | classes differ from the float path in double: float path / int8 layers / "
                + "IntegerNetwork |");
        lines.add("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Agreement a : agreements) {
            double n = a.images() / 100.0;
            DoubleReference d = a.inDouble();
            lines.add(String.format(Locale.ROOT, "| %s | %d | per %s | %.2f | %.2f | %.2f | %d | %.2g | %.2f | %.2f | %d "
                            + "| %.2g | %s |", a.network(), a.bits(), a.perChannel() ? "channel" : "tensor",
                    a.floatCorrect() / n, a.layerCorrect() / n, 100 * a.layerAgreement(), a.layerDiffers(),
                    a.layerMaxDiff(), a.compiledCorrect() / n, 100 * a.compiledAgreement(), a.compiledDiffers(),
                    a.compiledMaxDiff(), d == null ? "-"
                            : d.floatDiffers() + " / " + d.layerDiffers() + " / " + d.compiledDiffers()));
        }
        return lines;
    }

    /**
     * Times every runtime on every network, batch 1 and 128.
     *
     * @param floats    the float networks by depth
     * @param lsqs      the LSQ networks by depth
     * @param bits      their bit width
     * @param dir       where the ONNX files go
     * @param seconds   timed seconds per cell
     * @return the speed table, markdown, a column pair per network
     */
    static List<String> speedTable(Map<Integer, ComputationGraph> floats, Map<Integer, ComputationGraph> lsqs, int bits,
                                   LabeledImages test, Path dir, double seconds) throws Exception {
        INDArray one = OnnxDeployment.testIterator(test).next(1).getFeatures();
        INDArray batch = OnnxDeployment.testIterator(test).next(128).getFeatures();
        String[] names = {"DL4J, stock float layers (native helpers)", "LSQ layers, float path",
            "LSQ layers, int8 path (oneDNN)", "IntegerNetwork (compiled, oneDNN int8)", "ONNX Runtime, float export",
            "ONNX Runtime, FOLDED " + bits + "-bit export"};
        Map<String, List<String>> cells = new LinkedHashMap<>();
        for (String name : names) {
            cells.put(name, new ArrayList<>());
        }
        StringBuilder header = new StringBuilder("| runtime |");
        StringBuilder rule = new StringBuilder("|---|");
        boolean wasEnabled = IntegerInference.isEnabled();
        try {
            for (Map.Entry<Integer, ComputationGraph> e : lsqs.entrySet()) {
                int depth = e.getKey();
                ComputationGraph fp = floats.get(depth);
                ComputationGraph lsq = e.getValue();
                header.append(" ResNet-").append(depth).append(" batch 1 | ResNet-").append(depth)
                        .append(" batch 128 |");
                rule.append("---|---|");
                OneDnnHelpers.attach(fp);
                OneDnnHelpers.attach(lsq);
                Path fpOnnx = dir.resolve("resnet" + depth + "-float.onnx");
                Path folded = dir.resolve("resnet" + depth + "-" + bits + "bit-folded.onnx");
                OnnxExporter.export(fp, fpOnnx, 1, 28, 28);
                OnnxExporter.export(lsq, folded, OnnxFormat.FOLDED, 1, 28, 28);
                cells.get(names[0]).add(cell(x -> fp.outputSingle(x), one, batch, seconds));
                IntegerInference.setEnabled(false);
                cells.get(names[1]).add(cell(x -> lsq.outputSingle(x), one, batch, seconds));
                IntegerInference.setEnabled(true);
                cells.get(names[2]).add(cell(x -> lsq.outputSingle(x), one, batch, seconds));
                try (IntegerNetwork compiled = IntegerNetwork.compile(lsq, 1, 28, 28)) {
                    log("ResNet-%d, %d-bit: %s", depth, bits, compiled);
                    cells.get(names[3]).add(cell(compiled::output, one, batch, seconds));
                }
                try (OnnxDeployment.OnnxModel model = new OnnxDeployment.OnnxModel(fpOnnx, 2)) {
                    cells.get(names[4]).add(cell(model::run, one, batch, seconds));
                }
                try (OnnxDeployment.OnnxModel model = new OnnxDeployment.OnnxModel(folded, 2)) {
                    cells.get(names[5]).add(cell(model::run, one, batch, seconds));
                }
            }
        } finally {
            IntegerInference.setEnabled(wasEnabled);
        }
        List<String> lines = new ArrayList<>();
        lines.add(header.toString());
        lines.add(rule.toString());
        cells.forEach((name, values) -> lines.add("| " + name + " | " + String.join(" | ", values) + " |"));
        return lines;
    }

    private static String cell(InferenceBenchmark.Runner runner, INDArray one, INDArray batch, double seconds)
            throws Exception {
        double b1 = InferenceBenchmark.imagesPerSecond(() -> runner.run(one), one.size(0), seconds);
        double b128 = InferenceBenchmark.imagesPerSecond(() -> runner.run(batch), batch.size(0), seconds);
        return String.format(Locale.ROOT, "%,.0f | %,.0f", b1, b128);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static void log(String format, Object... args) {
        System.err.println(String.format(Locale.ROOT, format, args));
    }
}
