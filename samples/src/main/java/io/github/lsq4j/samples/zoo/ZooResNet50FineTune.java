package io.github.lsq4j.samples.zoo;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.samples.FashionDataOption;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.LabeledImages;
import io.github.lsq4j.train.EpochResult;
import io.github.lsq4j.train.FineTuner;
import io.github.lsq4j.train.LsqRecipe;
import io.github.lsq4j.train.ModelFiles;
import io.github.lsq4j.zoo.ZooModels;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.datavec.api.io.filters.BalancedPathFilter;
import org.datavec.api.io.labels.ParentPathLabelGenerator;
import org.datavec.api.split.FileSplit;
import org.datavec.api.split.InputSplit;
import org.datavec.image.loader.NativeImageLoader;
import org.datavec.image.recordreader.ImageRecordReader;
import org.deeplearning4j.datasets.datavec.RecordReaderDataSetIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.preprocessor.ImagePreProcessingScaler;
import org.nd4j.linalg.learning.config.Sgd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Quantization-aware fine-tuning of the DL4J zoo ResNet50 on a folder of images, one sub-folder per
 * class (read with DataVec's ImageRecordReader and ParentPathLabelGenerator). Without {@code --images},
 * it writes a small folder of PNGs from Fashion-MNIST first and uses that.
 *
 * <p>Steps: a short full-precision training of ResNet50 (standing in for your pretrained network),
 * conversion to 4-bit LSQ (first and last layer at 8), input-step calibration on one batch, the
 * paper's 4-bit recipe, fine-tuning, evaluation, and an atomic save.
 *
 * <p>{@code mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.zoo.ZooResNet50FineTune
 * -Dexec.args="--images DIR --size 32 --epochs 1"}; {@code --help} lists the options.
 */
@Command(name = "ZooResNet50FineTune", sortOptions = false, usageHelpWidth = 100,
        description = "The DL4J zoo ResNet50 on a folder of images: short full-precision training, conversion to LSQ, "
                + "calibration, fine-tuning with the paper's recipe, save.")
public final class ZooResNet50FineTune implements SampleCli.Checked {
    private static final int BATCH = 32;

    @Mixin
    HelpOption help;

    @Option(names = "--images", paramLabel = "DIR", description = "A folder of class folders of images (default: "
            + "600 Fashion-MNIST PNGs written to lsq4j-zoo-images/ from --data).")
    Path images;

    @Mixin
    FashionDataOption data;

    @Option(names = "--size", paramLabel = "N", defaultValue = "32", description = "Input height and width, at least "
            + "32 (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "1", description = "LSQ fine-tuning epochs "
            + "(default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--bits", paramLabel = "N", defaultValue = "4", description = "Bit width (default: ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--out", paramLabel = "FILE", description = "The saved model (default: resnet50-lsq<bits>.zip).")
    Path out;

    private ZooResNet50FineTune() {
    }

    @Override
    public void check() {
        if (size < 32) {
            throw new IllegalArgumentException("--size must be at least 32, got " + size);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
    }

    /**
     * @param args see {@code --help}
     * @throws IOException if images cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        ZooResNet50FineTune opts = SampleCli.parse(new ZooResNet50FineTune(), args);
        int size = opts.size;
        int epochs = opts.epochs;
        int bits = opts.bits;
        Path images = opts.images != null ? opts.images
                : writeFashionMnistPngs(opts.data, Path.of("lsq4j-zoo-images"), 60);
        Path out = opts.out != null ? opts.out : Path.of("resnet50-lsq" + bits + ".zip");

        Random random = new Random(42);
        ParentPathLabelGenerator labels = new ParentPathLabelGenerator();
        FileSplit all = new FileSplit(images.toFile(), NativeImageLoader.ALLOWED_FORMATS, random);
        int numClasses = all.getRootDir().listFiles(File::isDirectory).length;
        InputSplit[] parts = all.sample(new BalancedPathFilter(random, NativeImageLoader.ALLOWED_FORMATS, labels), 80, 20);
        DataSetIterator train = iterator(parts[0], size, labels, numClasses);
        DataSetIterator test = iterator(parts[1], size, labels, numClasses);
        System.out.printf("%d classes from %s, %dx%d RGB inputs%n", numClasses, images, size, size);

        ComputationGraph resnet = ZooModels.initResNet50(numClasses, 3, size, size, 42, new Sgd(0.01));
        System.out.println("Full-precision training (stands in for your pretrained ResNet50)");
        long batchesPerEpoch = countBatches(train);
        resnet = LsqRecipe.fullPrecision().withLearningRate(0.01).applyTo(resnet, batchesPerEpoch);
        report(FineTuner.builder(resnet, train).test(test).epochs(1).build().fit().get(0), "full precision");

        ComputationGraph lsq = LsqConverter.convert(resnet, QuantizationPolicy.paper(bits));
        LsqLayers.calibrate(lsq, train);
        long iterations = epochs * batchesPerEpoch;
        lsq = LsqRecipe.paper(bits).applyTo(lsq, iterations);
        System.out.println("LSQ fine-tuning at " + bits + " bits");
        for (EpochResult r : FineTuner.builder(lsq, train).test(test).epochs(epochs).build().fit()) {
            report(r, bits + "-bit");
        }
        ModelFiles.save(lsq, out);
        System.out.println("saved " + out.toAbsolutePath());
    }

    private static DataSetIterator iterator(InputSplit split, int size, ParentPathLabelGenerator labels,
                                            int numClasses) throws IOException {
        ImageRecordReader reader = new ImageRecordReader(size, size, 3, labels);
        reader.initialize(split);
        DataSetIterator it = new RecordReaderDataSetIterator(reader, BATCH, 1, numClasses);
        it.setPreProcessor(new ImagePreProcessingScaler(0, 1));
        return it;
    }

    private static long countBatches(DataSetIterator it) {
        it.reset();
        long n = 0;
        while (it.hasNext()) {
            it.next();
            n++;
        }
        it.reset();
        return n;
    }

    private static void report(EpochResult r, String stage) {
        System.out.printf("  %s epoch %d: loss %.4f, test top-1 %.2f %%, %.0f s%n", stage, r.epoch(), r.meanLoss(),
                100 * r.testAccuracy(), r.seconds());
    }

    /** Writes {@code perClass} Fashion-MNIST training images of each class as PNGs, one folder per class. */
    private static Path writeFashionMnistPngs(FashionDataOption fashionMnist, Path dir, int perClass)
            throws IOException {
        LabeledImages data = fashionMnist.loadOrExit().train();
        int[] written = new int[data.numClasses()];
        for (int i = 0; i < data.count(); i++) {
            int label = data.label(i);
            if (written[label] >= perClass) {
                continue;
            }
            String className = FashionMnist.CLASS_NAMES.get(label).replaceAll("[^A-Za-z]", "_");
            Path file = dir.resolve(className).resolve(i + ".png");
            if (!Files.exists(file)) {
                Files.createDirectories(file.getParent());
                BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                for (int r = 0; r < 28; r++) {
                    for (int c = 0; c < 28; c++) {
                        int p = data.images().pixel(i, r, c);
                        image.getRaster().setSample(c, r, 0, p);
                    }
                }
                ImageIO.write(image, "png", file.toFile());
            }
            written[label]++;
        }
        return dir;
    }
}
