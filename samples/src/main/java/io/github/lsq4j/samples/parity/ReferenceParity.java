package io.github.lsq4j.samples.parity;

import io.github.lsq4j.backend.OneDnnHelpers;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.samples.fashion.SmallResNet;
import io.github.lsq4j.train.LsqRecipe;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * lsq4j's side of the parity harness with the PyTorch reference ({@code samples/reference/parity.py}):
 * reads a run folder that {@code parity.py run} wrote, starts from the same full-precision network,
 * converts it with the paper's policy, initializes the steps, trains on the same batches with the paper's
 * recipe, and writes what it computed in the reference's names and layouts to {@code RUN/lsq4j/}: the
 * state after initialization, the first step's gradients, the state at each checkpoint and every step's
 * loss. {@code parity.py compare RUN} prints the differences.
 */
public final class ReferenceParity {
    private static final Logger log = LoggerFactory.getLogger(ReferenceParity.class);
    /** The reference initializes the input steps on the first 128 training images, in file order. */
    static final int INIT_IMAGES = 128;

    /** The command line. */
    @Command(name = "ReferenceParity", sortOptions = false, usageHelpWidth = 100,
            description = "Repeats a parity.py run with lsq4j and writes RUN/lsq4j for parity.py compare.")
    static final class Options {
        @Mixin
        HelpOption help;

        @Option(names = "--run", paramLabel = "DIR", required = true, description = "The run folder of parity.py run.")
        Path run;

        @Mixin
        FashionDataOption data;

        @Option(names = "--reference-init", description = "Continue from the reference's state after step "
                + "initialization instead of lsq4j's own, to compare the training steps alone (at 2 bits a "
                + "step 1e-5 apart already flips codes).")
        boolean referenceInit;

        @Option(names = "--max-steps", paramLabel = "N", description = "Stop after N steps (default: all of "
                + "the run's).")
        int maxSteps = Integer.MAX_VALUE;
    }

    /** What one run computed. */
    record Result(Map<String, INDArray> init, Map<String, INDArray> firstGradients, double[] losses,
                  Map<Integer, Map<String, INDArray>> checkpoints) {
    }

    private ReferenceParity() {
    }

    /**
     * @param args {@code --run DIR [--data DIR]}
     * @throws IOException if the run folder or the data cannot be read, or the results cannot be written
     */
    public static void main(String[] args) throws IOException {
        Options opts = SampleCli.parse(new Options(), args);
        LabeledImages train = opts.data.loadOrExit().train();
        Path out = opts.run.resolve("lsq4j");
        LsqRecipe recipe = paperRecipe(opts.run);
        Result r = run(opts.run, train, recipe, opts.maxSteps, opts.referenceInit);
        write(out.resolve("init"), r.init());
        write(out.resolve("grad1"), r.firstGradients());
        for (Map.Entry<Integer, Map<String, INDArray>> c : r.checkpoints().entrySet()) {
            write(out.resolve("step" + c.getKey()), c.getValue());
        }
        Nd4j.writeAsNumpy(Nd4j.createFromArray(r.losses()), out.resolve("losses.npy").toFile());
        log.info("wrote {}; compare with: parity.py compare {}", out, opts.run);
    }

    /**
     * The paper's recipe for the run's bit width, checked against the settings the reference ran with.
     *
     * @param runDir the run folder
     * @return the recipe
     * @throws IOException           if the run's settings cannot be read
     * @throws IllegalStateException if the reference ran with another learning rate, weight decay or momentum
     */
    static LsqRecipe paperRecipe(Path runDir) throws IOException {
        JsonNode meta = meta(runDir);
        LsqRecipe recipe = LsqRecipe.paper(meta.get("bits").asInt());
        check(meta, "lr", recipe.learningRate());
        check(meta, "weight_decay", recipe.weightDecay());
        check(meta, "momentum", recipe.momentum());
        return recipe;
    }

    private static JsonNode meta(Path runDir) throws IOException {
        return new ObjectMapper().readTree(runDir.resolve("meta.json").toFile());
    }

    /**
     * Repeats a reference run.
     *
     * @param runDir   the run folder
     * @param train    the training images the run indexes
     * @param recipe   the recipe to train with (the paper's, unless testing that a change is noticed)
     * @param maxSteps at most this many steps (fewer than the run's for a quick check)
     * @param referenceInit whether to continue from the reference's initialized state (steps and batch-norm
     *                      statistics) rather than lsq4j's
     * @return what lsq4j computed
     * @throws IOException if the run folder cannot be read
     */
    static Result run(Path runDir, LabeledImages train, LsqRecipe recipe, int maxSteps, boolean referenceInit)
            throws IOException {
        JsonNode meta = meta(runDir);
        int depth = meta.get("depth").asInt();
        int bits = meta.get("bits").asInt();
        int steps = Math.min(meta.get("steps").asInt(), maxSteps);
        List<Integer> checkpoints = new ArrayList<>();
        meta.get("checkpoints").forEach(c -> checkpoints.add(c.asInt()));

        Map<String, INDArray> start = read(runDir.resolve("start"));
        DataType dataType = meta.path("dtype").asText("float32").equals("float64") ? DataType.DOUBLE : DataType.FLOAT;
        ComputationGraph fp = SmallResNet.build(depth, meta.get("seed").asLong()).convertDataType(dataType);
        new ReferenceNames(fp, depth).load(start);

        QuantizationPolicy policy = QuantizationPolicy.paper(bits);
        ComputationGraph lsq = LsqConverter.convert(fp, policy);
        LsqLayers.calibrate(lsq, new ListDataSetIterator<>(
                List.of(cast(ParityBatches.firstImages(train, INIT_IMAGES), dataType))), 1);
        lsq = recipe.applyTo(lsq, meta.get("total_steps").asLong());
        OneDnnHelpers.attach(lsq);

        Map<String, INDArray> reference = read(runDir.resolve("reference").resolve("init"));
        ReferenceNames names = new ReferenceNames(lsq, depth);
        Set<String> all = new TreeSet<>(start.keySet()); // every parameter and statistic: the float ones ...
        all.addAll(reference.keySet());                   // ... and the steps
        Map<String, INDArray> init = names.read(all, lsq.paramTable());
        if (referenceInit) {
            names.load(reference);
        }

        ParityBatches batches = new ParityBatches(runDir.resolve("batches"), train);
        double[] losses = new double[steps];
        Map<String, INDArray> firstGradients = null;
        Map<Integer, Map<String, INDArray>> states = new TreeMap<>();
        for (int k = 0; k < steps; k++) {
            DataSet batch = cast(batches.batch(k), dataType);
            if (k == 0 && referenceInit) {
                write(runDir.resolve("lsq4j").resolve("act1"), lsq.feedForward(batch.getFeatures(), true));
            }
            if (k == 0) {
                lsq.setInputs(batch.getFeatures());
                lsq.setLabels(batch.getLabels());
                lsq.computeGradientAndScore();
                double n = batch.numExamples();
                Map<String, INDArray> g = new TreeMap<>();
                lsq.gradient().gradientForVariable().forEach((key, v) -> g.put(key, v.div(n)));
                firstGradients = names.read(all, g);
            }
            double regularization = lsq.calcRegularizationScore(true);
            lsq.fit(batch);
            losses[k] = lsq.score() - regularization;
            if (checkpoints.contains(k + 1)) {
                states.put(k + 1, names.read(all, lsq.paramTable()));
                log.info("step {}: loss {}", k + 1, String.format("%.4f", losses[k]));
            }
        }
        return new Result(init, firstGradients, losses, states);
    }

    private static DataSet cast(DataSet d, DataType dataType) {
        return new DataSet(d.getFeatures().castTo(dataType), d.getLabels().castTo(dataType));
    }

    private static void check(JsonNode meta, String key, double lsq4j) {
        double reference = meta.get(key).asDouble();
        if (Math.abs(reference - lsq4j) > 1e-12 * Math.abs(reference)) {
            throw new IllegalStateException("the run's " + key + " is " + reference + ", lsq4j's recipe has " + lsq4j);
        }
    }

    /**
     * @param folder a folder of {@code .npy} files
     * @return file name without {@code .npy} to array, sorted by name
     * @throws IOException if the folder cannot be listed
     */
    static Map<String, INDArray> read(Path folder) throws IOException {
        Map<String, INDArray> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".npy")).toList()) {
                String name = f.getFileName().toString();
                out.put(name.substring(0, name.length() - 4), Nd4j.createFromNpyFile(f.toFile()));
            }
        }
        if (out.isEmpty()) {
            throw new IOException(folder + " holds no .npy files: is it a run folder of parity.py run?");
        }
        return out;
    }

    private static void write(Path folder, Map<String, INDArray> arrays) throws IOException {
        Files.createDirectories(folder);
        arrays.forEach((name, a) -> {
            File f = folder.resolve(name + ".npy").toFile();
            try {
                Nd4j.writeAsNumpy(a, f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
