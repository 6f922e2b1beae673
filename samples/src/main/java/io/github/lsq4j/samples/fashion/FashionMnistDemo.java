package io.github.lsq4j.samples.fashion;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.data.FashionMnist;
import io.github.lsq4j.data.ImageClassificationIterator;
import io.github.lsq4j.data.LabeledImages;
import io.github.lsq4j.layers.LsqLayers;
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
import org.nd4j.shade.jackson.databind.ObjectMapper;
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
 *   <li>{@code --out DIR} [lsq4j-fashion-demo]: models ({@code fp.zip}, {@code lsq-<bits>.zip}) and
 *       {@code report.json}; an existing {@code fp.zip} is reused, so each precision can be run alone.</li>
 * </ul>
 */
public final class FashionMnistDemo {
    private static final Logger log = LoggerFactory.getLogger(FashionMnistDemo.class);
    private static final int BATCH = 128;
    private static final int CALIBRATION_IMAGES = 128;

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

        Path fpFile = out.resolve("fp.zip");
        ComputationGraph fp;
        if (Files.isRegularFile(fpFile)) {
            fp = ModelFiles.loadComputationGraph(fpFile);
            log.info("reusing the full-precision network of {}", fpFile);
            results.put("fp", Map.of("top1", FineTuner.accuracy(fp, testData)));
        } else {
            fp = LsqRecipe.fullPrecision().applyTo(SmallResNet.build(depth, seed),
                    iterationsPerEpoch * schedule.fpEpochs());
            System.out.println("Training the full-precision network");
            results.put("fp", train("full precision", fp, trainData, testData, schedule.fpEpochs()));
            ModelFiles.save(fp, fpFile);
        }

        for (int bits : bitWidths) {
            ComputationGraph lsq = LsqConverter.convert(fp, QuantizationPolicy.paper(bits));
            LsqLayers.calibrate(lsq, ImageClassificationIterator.builder(train, CALIBRATION_IMAGES)
                    .normalize(FashionMnist.MEAN, FashionMnist.STD).limit(CALIBRATION_IMAGES).build(), 1);
            lsq = LsqRecipe.paper(bits).applyTo(lsq, iterationsPerEpoch * schedule.lsqEpochs());
            System.out.println("Fine-tuning with LSQ at " + bits + " bits (first and last layer at 8)");
            results.put(bits + "-bit", train(bits + "-bit", lsq, trainData, testData, schedule.lsqEpochs()));
            ModelFiles.save(lsq, out.resolve("lsq-" + bits + ".zip"));
        }

        System.out.println();
        System.out.println("| ResNet-" + depth + " | top-1 % |");
        System.out.println("|---|---|");
        results.forEach((name, r) -> System.out.printf("| %s | %.2f |%n", name,
                100 * (double) ((Map<?, ?>) r).get("top1")));
        Files.createDirectories(out);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("report.json").toFile(), report);
        log.info("models and report.json in {}", out.toAbsolutePath());
    }

    private static Map<String, Object> train(String stage, ComputationGraph net, ImageClassificationIterator trainData,
                                             ImageClassificationIterator testData, int epochs) {
        List<EpochResult> history = FineTuner.builder(net, trainData).test(testData).epochs(epochs)
                .examplesPerEpoch(trainData.numExamples())
                .afterEpoch(e -> System.out.printf("  %s epoch %d: loss %.4f, test top-1 %.2f %%, %.0f s, %.0f images/s%n",
                        stage, e.epoch(), e.meanLoss(), 100 * e.testAccuracy(), e.seconds(), e.examplesPerSecond()))
                .build().fit();
        EpochResult last = history.get(history.size() - 1);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("top1", last.testAccuracy());
        r.put("epochs", history.stream().map(e -> Map.of("epoch", e.epoch(), "loss", e.meanLoss(),
                "top1", e.testAccuracy(), "seconds", e.seconds(), "imagesPerSecond", e.examplesPerSecond())).toList());
        r.put("seconds", history.stream().mapToDouble(EpochResult::seconds).sum());
        return r;
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
