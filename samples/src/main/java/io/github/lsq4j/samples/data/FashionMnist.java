package io.github.lsq4j.samples.data;

import io.github.lsq4j.samples.SampleCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of 28x28 grey clothing items in ten
 * classes, read from the four IDX files in a directory. On Debian they come with the package
 * {@code dataset-fashion-mnist}, in {@link #DEFAULT_DIR}.
 */
public final class FashionMnist {
    /** Where Debian's {@code dataset-fashion-mnist} package installs the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** Mean of the training pixels scaled to [0, 1], for normalization. */
    public static final double MEAN = 0.2860;
    /** Standard deviation of the training pixels scaled to [0, 1]. */
    public static final double STD = 0.3530;
    /** How to get the files, for messages: the Debian package, or the upstream files and a folder. */
    public static final String HOW_TO_GET = String.join(System.lineSeparator(),
            "  On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist   (installs it in " + DEFAULT_DIR + ")",
            "  Elsewhere: put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and",
            "  t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist in a folder, and pass",
            "  --data FOLDER");
    /** The class names, by label. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The two parts of the data set. */
    public enum Split {
        /** 60,000 training images. */
        TRAIN("train"),
        /** 10,000 test images. */
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnist() {
    }

    /**
     * Loads one split from a directory holding {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
     * {@code t10k-images-idx3-ubyte} and {@code t10k-labels-idx1-ubyte}, each possibly with {@code .gz}.
     *
     * @param dir   the directory
     * @param split which split
     * @return the images and labels
     * @throws IOException if a file is missing (the message says how to get them) or damaged
     */
    public static LabeledImages load(Path dir, Split split) throws IOException {
        return LabeledImages.read(find(dir, split.prefix + "-images-idx3-ubyte"),
                find(dir, split.prefix + "-labels-idx1-ubyte"), CLASS_NAMES.size());
    }

    /**
     * Both splits.
     *
     * @param train the training split
     * @param test  the test split
     */
    public record Splits(LabeledImages train, LabeledImages test) {
    }

    /**
     * Both splits.
     *
     * @param dir the directory with the four files
     * @return the training and test splits
     * @throws IOException if a file is missing ({@link NoSuchFileException}, the message says how to get them) or
     *                     damaged
     */
    public static Splits load(Path dir) throws IOException {
        return new Splits(load(dir, Split.TRAIN), load(dir, Split.TEST));
    }

    /**
     * Both splits, for the samples' main methods: where a file is missing or damaged, the program ends
     * with what is wrong and how to get the data set ({@link SampleCli#fail}), not with a stack trace.
     *
     * @param dir the directory with the four files
     * @return the training and test splits
     */
    public static Splits loadOrExit(Path dir) {
        try {
            return load(dir);
        } catch (NoSuchFileException e) {
            throw SampleCli.fail("Fashion-MNIST is not in " + dir + ": " + e.getFile() + "(.gz) is missing."
                    + System.lineSeparator() + HOW_TO_GET);
        } catch (IOException e) {
            throw SampleCli.fail("cannot read Fashion-MNIST in " + dir + ": " + e.getMessage());
        }
    }

    private static Path find(Path dir, String name) throws IOException {
        for (String candidate : new String[] {name, name + ".gz"}) {
            Path file = dir.resolve(candidate);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new NoSuchFileException(dir.resolve(name).toString(), null,
                "Fashion-MNIST file missing (neither " + name + " nor " + name + ".gz in " + dir
                        + "); on Debian: apt-get install dataset-fashion-mnist, or point to a directory with the IDX files");
    }
}
