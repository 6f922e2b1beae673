package io.github.lsq4j.samples.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class FashionMnistTest {
    /** System property that turns the skip of the real-data test into a failure (CI sets it). */
    public static final String REQUIRE_PROPERTY = "lsq4j.requireFashionMnist";

    @TempDir
    Path dir;

    @Test
    void loadsBothSplitsFromADirectory() throws IOException {
        IdxTestFiles.writeDataset(dir, "train", 30, 28, 28, 10, true);
        IdxTestFiles.writeDataset(dir, "t10k", 20, 28, 28, 10, false);
        assertEquals(30, FashionMnist.load(dir, FashionMnist.Split.TRAIN).count());
        LabeledImages test = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(20, test.count());
        assertEquals(3, test.label(13));
    }

    @Test
    void missingFilesSayHowToGetThem() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte") && e.getMessage().contains("dataset-fashion-mnist"),
                e.getMessage());
    }

    @Test
    void mismatchedImageAndLabelCountsAreRefused() throws IOException {
        IdxTestFiles.writeDataset(dir, "train", 30, 28, 28, 10, false);
        IdxTestFiles.write(dir.resolve("train-labels-idx1-ubyte"), IdxTestFiles.idx(1, new int[] {29}, new byte[29]), false);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("30 images but 29 labels"), e.getMessage());
    }

    @Test
    void labelBeyondTheClassesIsRefused() throws IOException {
        IdxTestFiles.writeDataset(dir, "train", 30, 28, 28, 12, false);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("label 10 of example 10"), e.getMessage());
    }

    /**
     * The real data set, from Debian's dataset-fashion-mnist. Where it is not installed this test is
     * skipped (a JUnit assumption: Surefire counts it as skipped, with the reason), unless the system
     * property {@value #REQUIRE_PROPERTY} is true: then it fails. {@code .ci/run} installs the package and
     * sets the property, so CI always runs it.
     */
    /**
     * The real data set for the tests that train on it: skipped where it is not installed, failing
     * instead where {@value #REQUIRE_PROPERTY} is true (CI).
     *
     * @return the training and test images
     * @throws IOException if the files cannot be read
     */
    public static FashionMnist.Splits loadOrSkip() throws IOException {
        String missing = "Fashion-MNIST is not installed in " + FashionMnist.DEFAULT_DIR
                + " (apt-get install dataset-fashion-mnist)";
        if (Boolean.getBoolean(REQUIRE_PROPERTY)) {
            assertTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), missing + ", and " + REQUIRE_PROPERTY + " is set");
        }
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), missing + ": skipped");
        return FashionMnist.load(FashionMnist.DEFAULT_DIR);
    }

    @Test
    void realDataSetHasSixThousandImagesPerClass() throws IOException {
        FashionMnist.Splits data = loadOrSkip();
        LabeledImages train = data.train();
        LabeledImages test = data.test();
        assertEquals(60_000, train.count());
        assertEquals(10_000, test.count());
        assertEquals(28, train.images().rows());
        int[] perClass = new int[10];
        for (int i = 0; i < train.count(); i++) {
            perClass[train.label(i)]++;
        }
        for (int count : perClass) {
            assertEquals(6000, count);
        }
        double mean = 0;
        for (byte p : train.images().pixels()) {
            mean += (p & 0xff) / 255.0;
        }
        assertEquals(FashionMnist.MEAN, mean / train.images().pixels().length, 5e-4);
    }
}
