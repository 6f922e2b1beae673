package io.github.lsq4j.samples.fashion;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.ImageClassificationIterator;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.train.BatchNormStatistics;
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
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.nd4j.shade.jackson.databind.node.MissingNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main job: train the reference ResNet-8 on Fashion-MNIST in full precision, convert it to LSQ,
 * fine-tune it at 8, 4, 3 and 2 bits with the paper's recipe, and print the accuracy table.
 *
 * <p>Options ({@code --help} lists them with their defaults; {@link DemoOptions}):
 * <ul>
 *   <li>{@code --data DIR} the four IDX files [/usr/share/datasets/fashion-mnist]; where they are missing,
 *       the demo says how to get them and exits with code 2;</li>
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
 * <p>The accuracy plot shows the PyTorch reference only for the run it belongs to: ResNet-8 with the
 * unmodified {@code short} recipe.
 */
public final class FashionMnistDemo {
    private static final Logger log = LoggerFactory.getLogger(FashionMnistDemo.class);
    static final int BATCH = 128;
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
        DemoOptions opts = SampleCli.parse(new DemoOptions(), args);
        Schedule schedule = opts.schedule();
        int depth = opts.depth;
        long seed = opts.seed;
        List<Integer> bitWidths = opts.bits;
        Path out = opts.out;

        FashionMnist.Splits data = opts.data.loadOrExit();
        LabeledImages train = data.train();
        LabeledImages test = data.test();
        int trainImages = Math.min(schedule.trainImages(), train.count());
        log.info("ResNet-{} on Fashion-MNIST, recipe '{}': {} training images, {} + {} epochs, bits {}, seed {}",
                depth, schedule.name(), trainImages, schedule.fpEpochs(), schedule.lsqEpochs(), bitWidths, seed);

        // The reference's pipeline: crops padded with the mean (it pads normalized images with zeros), full
        // batches only.
        ImageClassificationIterator trainData = ImageClassificationIterator.builder(train, BATCH)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).augment(2, ImageClassificationIterator.Fill.MEAN, true)
                .dropLast(true).shuffle(seed).limit(trainImages).build();
        ImageClassificationIterator testData = ImageClassificationIterator.builder(test, 500)
                .normalize(FashionMnist.MEAN, FashionMnist.STD).build();
        long iterationsPerEpoch = trainData.batchesPerEpoch();

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("network", "ResNet-" + depth);
        report.put("recipe", schedule.name());
        report.put("trainImages", trainImages);
        report.put("fpEpochs", schedule.fpEpochs());
        report.put("lsqEpochs", schedule.lsqEpochs());
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
                QuantizationPolicy policy = QuantizationPolicy.paper(bits);
                lsq = LsqConverter.convert(fp, policy);
                LsqLayers.calibrate(lsq, ImageClassificationIterator.builder(train, CALIBRATION_IMAGES)
                        .normalize(FashionMnist.MEAN, FashionMnist.STD).limit(CALIBRATION_IMAGES).build(), 1);
                lsq = LsqRecipe.paper(policy).applyTo(lsq, iterationsPerEpoch * schedule.lsqEpochs());
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
        // The PyTorch reference belongs to one recipe; beside any other run it would read as a gap.
        DemoPlots.accuracyVsBits(top1Percent, DemoPlots.pytorchReferenceFor("ResNet-" + depth, schedule.name(),
                trainImages, schedule.fpEpochs(), schedule.lsqEpochs()), out.resolve("accuracy-vs-bits.png"));
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
        QuantizedLayer layer = LsqLayers.layer(lsq, HISTOGRAM_LAYER);
        INDArray w = layer.getParam(LsqLayerConfig.WEIGHT_KEY);
        return LsqMath.values(weights(w), w.shape(), layer.lsqConf().getWeightQuantizer(),
                weights(layer.stepValues(LsqLayerConfig.WEIGHT_STEP_KEY)));
    }

    private static Map<String, Object> train(String stage, ComputationGraph net, ImageClassificationIterator trainData,
                                             ImageClassificationIterator testData, int epochs,
                                             Map<String, List<EpochResult>> histories) {
        // The reference evaluates with the moving averages of batch norm: so does the demo's top-1, and
        // the accuracy after re-estimating the statistics (FineTuner's default) is reported beside it.
        List<EpochResult> history = FineTuner.builder(net, trainData).test(testData).epochs(epochs)
                .examplesPerEpoch(trainData.numExamples()).batchNormReestimation(0)
                .afterEpoch(e -> System.out.printf("  %s epoch %d: loss %.4f, test top-1 %.2f %%, %.0f s, %.0f images/s%n",
                        DemoPlots.stageName(stage), e.epoch(), e.meanLoss(), 100 * e.testAccuracy(), e.seconds(), e.examplesPerSecond()))
                .build().fit();
        histories.put(stage, history);
        EpochResult last = history.get(history.size() - 1);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("top1", last.testAccuracy());
        ComputationGraph reestimated = net.clone();
        BatchNormStatistics.reestimate(reestimated, trainData, FineTuner.Builder.DEFAULT_BATCH_NORM_BATCHES);
        r.put("top1ReestimatedBatchNorm", FineTuner.accuracy(reestimated, testData));
        System.out.printf("  %s with re-estimated batch-norm statistics: test top-1 %.2f %%%n",
                DemoPlots.stageName(stage), 100 * (double) r.get("top1ReestimatedBatchNorm"));
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
}
