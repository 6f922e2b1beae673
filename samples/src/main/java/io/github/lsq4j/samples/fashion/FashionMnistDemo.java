package io.github.lsq4j.samples.fashion;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.data.FashionMnist;
import io.github.lsq4j.data.ImageClassificationIterator;
import io.github.lsq4j.data.LabeledImages;
import io.github.lsq4j.layers.AbstractLsqLayer;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.LsqRuntimeLayer;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.train.EpochResult;
import io.github.lsq4j.train.FineTuner;
import io.github.lsq4j.train.LsqRecipe;
import io.github.lsq4j.train.ModelFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.MissingNode;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main job: train the reference ResNet-8 on Fashion-MNIST in full precision, convert it to LSQ,
 * fine-tune it at 8, 4, 3 and 2 bits with the paper's recipe, and print the accuracy table.
 *
 * <p>Options (defaults in brackets):
 * <ul>
 *   <li>{@code --data DIR} the four IDX files [/usr/share/datasets/fashion-mnist];</li>
 *   <li>{@code --recipe quick|short} quick [default]: a short schedule that fits 15 minutes on 2 cores
 *       (8,000 training images, 2 full-precision epochs, 1 LSQ epoch per bit width); short:
 *       the reference recipe of LSQ-SPEC.md exactly (all 60,000 images, 5 + 3 epochs);</li>
 *   <li>{@code --bits 8,4,3,2}, {@code --depth 8|20} [8], {@code --seed N} [1];</li>
 *   <li>{@code --train-images N}, {@code --fp-epochs N}, {@code --lsq-epochs N} override the recipe's sizes;</li>
 *   <li>{@code --out DIR} [lsq4j-fashion-demo]: models ({@code fp.zip}, {@code lsq-<bits>.zip}),
 *       {@code report.json} (rewritten after each stage) and PNG plots (accuracy against bit width,
 *       training curves and loss, weight histogram of layer {@code s2b1_a} before and after LSQ per bit
 *       width). Existing models are reused (evaluated, not retrained), so an interrupted run resumes at
 *       the first stage it had not finished, and each precision can be run alone.</li>
 * </ul>
 */
public final class FashionMnistDemo {
    private static final Logger log = LoggerFactory.getLogger(FashionMnistDemo.class);
    private static final int BATCH = 128;
    private static final int CALIBRATION_IMAGES = 128;
    /** The layer whose weights the histograms show: the first conv of stage 2. */
    private static final String HISTOGRAM_LAYER = "s2b1_a";

    /** Schedule sizes of a run. */
    record Schedule(String name, int trainImages, int fpEpochs, int lsqEpochs) {
    }

    private FashionMnistDemo() {
    }

    /**
     * @param args see the class documentation
     * @throws IOException if the data cannot be read or results cannot be written
     */
    public static void main(String[] args) throws IOException {
        Map<String, String> opts = parse(args);
        Path dataDir = Path.of(opts.getOrDefault("data", FashionMnist.DEFAULT_DIR.toString()));
        Schedule schedule = switch (opts.getOrDefault("recipe", "quick")) {
            case "quick" -> new Schedule("quick", 8_000, 2, 1);
            case "short" -> new Schedule("short", 60_000, 5, 3);
            default -> throw new IllegalArgumentException("--recipe must be quick or short, got " + opts.get("recipe"));
        };
        schedule = new Schedule(schedule.name(),
                Integer.parseInt(opts.getOrDefault("train-images", String.valueOf(schedule.trainImages()))),
                Integer.parseInt(opts.getOrDefault("fp-epochs", String.valueOf(schedule.fpEpochs()))),
                Integer.parseInt(opts.getOrDefault("lsq-epochs", String.valueOf(schedule.lsqEpochs()))));
        int depth = Integer.parseInt(opts.getOrDefault("depth", "8"));
        long seed = Long.parseLong(opts.getOrDefault("seed", "1"));
        List<Integer> bitWidths = new ArrayList<>();
        for (String b : opts.getOrDefault("bits", "8,4,3,2").split(",")) {
            bitWidths.add(Integer.parseInt(b.trim()));
        }
        Path out = Path.of(opts.getOrDefault("out", "lsq4j-fashion-demo"));

        LabeledImages train;
        LabeledImages test;
        try {
            train = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN);
            test = FashionMnist.load(dataDir, FashionMnist.Split.TEST);
        } catch (IOException e) {
            log.error("cannot read Fashion-MNIST: {}", e.getMessage());
            System.exit(2);
            return;
        }
        int trainImages = Math.min(schedule.trainImages(), train.count());
        log.info("ResNet-{} on Fashion-MNIST, recipe '{}': {} training images, {} + {} epochs, bits {}, seed {}",
                depth, schedule.name(), trainImages, schedule.fpEpochs(), schedule.lsqEpochs(), bitWidths, seed);

        ImageClassificationIterator trainData = ImageClassificationIterator.builder(train, BATCH)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).augment(2, true).shuffle(seed).limit(trainImages).build();
        ImageClassificationIterator testData = ImageClassificationIterator.builder(test, 500)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).build();
        long iterationsPerEpoch = (trainImages + BATCH - 1) / BATCH;

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("network", "ResNet-" + depth);
        report.put("recipe", schedule.name());
        report.put("trainImages", trainImages);
        report.put("seed", seed);
        Map<String, Object> results = new LinkedHashMap<>();
        report.put("results", results);
        Map<String, List<EpochResult>> histories = new LinkedHashMap<>();
        JsonNode previous = previousResults(out);

        Path fpFile = out.resolve("fp.zip");
        ComputationGraph fp;
        if (Files.isRegularFile(fpFile)) {
            fp = ModelFiles.loadComputationGraph(fpFile);
            log.info("reusing the full-precision network of {}", fpFile);
            results.put("fp", reused("fp", FineTuner.accuracy(fp, testData), previous, out, histories));
        } else {
            fp = LsqRecipe.fullPrecision().applyTo(SmallResNet.build(depth, seed),
                    iterationsPerEpoch * schedule.fpEpochs());
            System.out.println("Training the full-precision network");
            results.put("fp", train("fp", fp, trainData, testData, schedule.fpEpochs(), histories));
            ModelFiles.save(fp, fpFile);
        }
        writeReport(report, out);

        double[] fpWeights = weights(fp.getLayer(HISTOGRAM_LAYER).getParam("W"));
        for (int bits : bitWidths) {
            String stage = bits + "-bit";
            Path lsqFile = out.resolve("lsq-" + bits + ".zip");
            ComputationGraph lsq;
            if (Files.isRegularFile(lsqFile)) {
                lsq = ModelFiles.loadComputationGraph(lsqFile);
                log.info("reusing the {} network of {}", stage, lsqFile);
                results.put(stage, reused(stage, FineTuner.accuracy(lsq, testData), previous, out, histories));
            } else {
                lsq = LsqConverter.convert(fp, QuantizationPolicy.paper(bits));
                LsqLayers.calibrate(lsq, ImageClassificationIterator.builder(train, CALIBRATION_IMAGES)
                        .normalize(FashionMnist.MEAN, FashionMnist.STD).limit(CALIBRATION_IMAGES).build(), 1);
                lsq = LsqRecipe.paper(bits).applyTo(lsq, iterationsPerEpoch * schedule.lsqEpochs());
                System.out.println("Fine-tuning with LSQ at " + bits + " bits (first and last layer at 8)");
                results.put(stage, train(stage, lsq, trainData, testData, schedule.lsqEpochs(), histories));
                ModelFiles.save(lsq, lsqFile);
            }
            DemoPlots.weightHistogram(HISTOGRAM_LAYER + ", " + stage, fpWeights, lsqWeights(lsq),
                    out.resolve("weight-histogram-" + stage + ".png"));
            writeReport(report, out);
        }

        System.out.println();
        System.out.println("| ResNet-" + depth + " | top-1 % |");
        System.out.println("|---|---|");
        Map<String, Double> top1Percent = new LinkedHashMap<>();
        results.forEach((name, r) -> top1Percent.put(name, 100 * (double) ((Map<?, ?>) r).get("top1")));
        top1Percent.forEach((name, top1) -> System.out.printf("| %s | %.2f |%n", name, top1));
        writeReport(report, out);
        DemoPlots.accuracyVsBits(top1Percent, depth == 8 ? DemoPlots.PYTORCH_REFERENCE : Map.of(),
                out.resolve("accuracy-vs-bits.png"));
        if (!histories.isEmpty()) {
            DemoPlots.trainingCurves(histories, out.resolve("training-curves.png"));
            DemoPlots.trainingLoss(histories, out.resolve("training-loss.png"));
        }
        log.info("models, report.json and plots in {}", out.toAbsolutePath());
    }

    /** Writes the report as it stands, so an interrupted run keeps the stages it finished. */
    private static void writeReport(Map<String, Object> report, Path out) throws IOException {
        DemoReports.writeAtomically(out.resolve("report.json"),
                o -> new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(o, report));
    }

    private static double[] weights(INDArray w) {
        return w.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    /** The de-quantized weights of the histogram layer, {@code round(clip(w/s)) * s}. */
    private static double[] lsqWeights(ComputationGraph lsq) {
        LsqRuntimeLayer layer = LsqLayers.layer(lsq, HISTOGRAM_LAYER);
        AbstractLsqLayer conf = layer.lsqConf();
        INDArray w = layer.getParam(AbstractLsqLayer.WEIGHT_KEY);
        return LsqMath.values(weights(w), w.shape(), conf.weightStepLayout(),
                weights(layer.getParam(AbstractLsqLayer.WEIGHT_STEP_KEY)), conf.weightRange());
    }

    private static Map<String, Object> train(String stage, ComputationGraph net, ImageClassificationIterator trainData,
                                             ImageClassificationIterator testData, int epochs,
                                             Map<String, List<EpochResult>> histories) {
        List<EpochResult> history = FineTuner.builder(net, trainData).test(testData).epochs(epochs)
                .examplesPerEpoch(trainData.numExamples())
                .afterEpoch(e -> System.out.printf("  %s epoch %d: loss %.4f, test top-1 %.2f %%, %.0f s, %.0f images/s%n",
                        DemoPlots.stageName(stage), e.epoch(), e.meanLoss(), 100 * e.testAccuracy(), e.seconds(), e.examplesPerSecond()))
                .build().fit();
        histories.put(stage, history);
        EpochResult last = history.get(history.size() - 1);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("top1", last.testAccuracy());
        r.put("epochs", history.stream().map(DemoReports::toJson).toList());
        r.put("seconds", history.stream().mapToDouble(EpochResult::seconds).sum());
        return r;
    }

    /** The results of an earlier run into the same directory (empty if none), so reused stages keep their history. */
    private static JsonNode previousResults(Path out) throws IOException {
        Path file = out.resolve("report.json");
        return Files.isRegularFile(file) ? new ObjectMapper().readTree(file.toFile()).path("results")
                : MissingNode.getInstance();
    }

    /**
     * The result entry of a stage whose model was reused: the earlier run's entry (epochs, seconds) with
     * the accuracy just measured.
     */
    private static Map<String, Object> reused(String stage, double top1, JsonNode previous, Path out,
                                              Map<String, List<EpochResult>> histories) throws IOException {
        JsonNode old = previous.path(stage);
        Map<String, Object> entry = new LinkedHashMap<>();
        if (old.isObject()) {
            old.fields().forEachRemaining(f -> entry.put(f.getKey(), f.getValue()));
        }
        entry.put("top1", top1);
        List<EpochResult> history = new ArrayList<>();
        for (JsonNode e : old.path("epochs")) {
            history.add(DemoReports.fromJson(e, out.resolve("report.json")));
        }
        if (!history.isEmpty()) {
            histories.put(stage, history);
        }
        return entry;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value pairs, got '" + args[i] + "'");
            }
            opts.put(args[i].substring(2), args[++i]);
        }
        return opts;
    }
}
