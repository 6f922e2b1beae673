package io.github.lsq4j.samples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

class ImageClassificationIteratorTest {
    @TempDir
    Path dir;
    LabeledImages data;

    @BeforeEach
    void writeData() throws IOException {
        IdxTestFiles.writeDataset(dir, "train", 10, 4, 5, 3, false);
        data = LabeledImages.read(dir.resolve("train-images-idx3-ubyte"), dir.resolve("train-labels-idx1-ubyte"), 3);
    }

    @Test
    void batchesHaveNchwFeaturesAndOneHotLabels() {
        ImageClassificationIterator it = ImageClassificationIterator.builder(data, 4).normalize(0.5, 0.25).build();
        DataSet first = it.next();
        assertArrayEquals(new long[] {4, 1, 4, 5}, first.getFeatures().shape());
        assertArrayEquals(new long[] {4, 3}, first.getLabels().shape());
        // example 1, pixel (r=1, c=2) = (7 + 7) = 14
        assertEquals((14 / 255.0 - 0.5) / 0.25, first.getFeatures().getDouble(1, 0, 1, 2), 1e-6);
        assertEquals(1.0, first.getLabels().getDouble(2, 2));
        assertEquals(1.0, first.getLabels().sumNumber().doubleValue() / 4);
        it.next();
        assertEquals(2, it.next().numExamples(), "last batch holds the remainder");
        assertFalse(it.hasNext());
    }

    @Test
    void shuffledEpochsVisitEveryExampleOnceInANewRepeatableOrder() {
        List<List<Integer>> epochs = labelsOfEpochs(ImageClassificationIterator.builder(data, 3).shuffle(42).build());
        assertEquals(epochs, labelsOfEpochs(ImageClassificationIterator.builder(data, 3).shuffle(42).build()));
        assertNotEquals(epochs.get(0), epochs.get(1));
        for (List<Integer> epoch : epochs) {
            assertEquals(10, epoch.size());
            assertEquals(4, epoch.stream().filter(l -> l == 0).count());
        }
    }

    @Test
    void augmentationCropsWithinThePaddingAndFlips() {
        ImageClassificationIterator it = ImageClassificationIterator.builder(data, 10).augment(1, true).seed(3).build();
        INDArray x = it.next().getFeatures();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            seen.add(matchingTransform(x, i));
        }
        assertFalse(seen.contains(null), "an augmented image matched no shift within the padding: " + seen);
        assertTrue(seen.size() > 2, "augmentation should vary: " + seen);
    }

    /** Padding shows black (normalized: -mean/std) or the mean (normalized: exactly 0, as the reference). */
    @Test
    void paddingFillIsBlackOrTheMean() {
        for (ImageClassificationIterator.Fill fill : ImageClassificationIterator.Fill.values()) {
            ImageClassificationIterator it = ImageClassificationIterator.builder(data, 10).normalize(0.5, 0.25)
                    .augment(3, fill, false).seed(1).build();
            INDArray x = it.next().getFeatures();
            double expected = fill == ImageClassificationIterator.Fill.MEAN ? 0 : (0 - 0.5) / 0.25;
            int padded = 0;
            for (int i = 0; i < 10; i++) {
                // Shifts reach 3 pixels on a 4x5 image: the corner opposite the shift is always padding.
                for (double v : x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).dup().data().asDouble()) {
                    padded += v == (float) expected ? 1 : 0;
                }
            }
            assertTrue(padded > 10, fill + ": " + padded + " padded pixels of value " + expected);
        }
    }

    @Test
    void dropLastLeavesOutTheExamplesOfAPartialBatch() {
        ImageClassificationIterator it = ImageClassificationIterator.builder(data, 4).shuffle(2).dropLast(true).build();
        assertEquals(8, it.numExamples());
        assertEquals(2, it.batchesPerEpoch());
        for (int epoch = 0; epoch < 2; epoch++) {
            assertEquals(4, it.next().numExamples());
            assertEquals(4, it.next().numExamples());
            assertFalse(it.hasNext());
            it.reset();
        }
        assertEquals(3, ImageClassificationIterator.builder(data, 4).build().batchesPerEpoch(), "without: 4 + 4 + 2");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> ImageClassificationIterator.builder(data, 11).dropLast(true).build());
        assertTrue(none.getMessage().contains("10 examples"), none.getMessage());
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> ImageClassificationIterator.builder(data, 0).build());
        assertTrue(batch.getMessage().contains("got 0"));
        IllegalArgumentException limit = assertThrows(IllegalArgumentException.class,
                () -> ImageClassificationIterator.builder(data, 2).limit(11).build());
        assertTrue(limit.getMessage().contains("got 11"));
        assertThrows(IllegalArgumentException.class, () -> ImageClassificationIterator.builder(data, 2).normalize(0, 0).build());
    }

    private static List<List<Integer>> labelsOfEpochs(ImageClassificationIterator it) {
        List<List<Integer>> epochs = new ArrayList<>();
        for (int e = 0; e < 2; e++) {
            List<Integer> labels = new ArrayList<>();
            while (it.hasNext()) {
                INDArray y = it.next().getLabels();
                for (int i = 0; i < y.rows(); i++) {
                    labels.add(y.getRow(i).argMax().getInt(0) * 100 + i);
                }
            }
            epochs.add(labels.stream().map(l -> l / 100).toList());
            it.reset();
        }
        return epochs;
    }

    /** Which shift (dy, dx) and flip reproduces augmented image i from the original, or null. */
    private String matchingTransform(INDArray x, int i) {
        for (boolean mirror : new boolean[] {false, true}) {
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    if (matches(x, i, dy, dx, mirror)) {
                        return dy + "," + dx + "," + mirror;
                    }
                }
            }
        }
        return null;
    }

    private boolean matches(INDArray x, int i, int dy, int dx, boolean mirror) {
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 5; c++) {
                int sr = r + dy;
                int sc = (mirror ? 4 - c : c) + dx;
                int pixel = sr < 0 || sr >= 4 || sc < 0 || sc >= 5 ? 0 : data.images().pixel(i, sr, sc);
                if (Math.abs(x.getDouble(i, 0, r, c) - pixel / 255.0) > 1e-6) {
                    return false;
                }
            }
        }
        return true;
    }
}
