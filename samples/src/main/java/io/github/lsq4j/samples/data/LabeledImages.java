package io.github.lsq4j.samples.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Single-channel images with one class label each, kept in memory as unsigned bytes.
 *
 * @param images     the images
 * @param labels     one class index per image
 * @param numClasses the number of classes
 */
public record LabeledImages(IdxFile.Images images, byte[] labels, int numClasses) {
    /**
     * @throws IllegalArgumentException if image and label counts differ or a label is out of range
     */
    public LabeledImages {
        if (images.count() != labels.length) {
            throw new IllegalArgumentException(images.count() + " images but " + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if ((labels[i] & 0xff) >= numClasses) {
                throw new IllegalArgumentException("label " + (labels[i] & 0xff) + " of example " + i
                        + " is not below the number of classes, " + numClasses);
            }
        }
    }

    /**
     * Reads an image IDX file and its label IDX file.
     *
     * @param imageFile  the images
     * @param labelFile  the labels
     * @param numClasses the number of classes
     * @return the data
     * @throws IOException if a file is missing or damaged, or the two do not match
     */
    public static LabeledImages read(Path imageFile, Path labelFile, int numClasses) throws IOException {
        IdxFile.Images images = IdxFile.readImages(imageFile);
        byte[] labels = IdxFile.readLabels(labelFile);
        try {
            return new LabeledImages(images, labels, numClasses);
        } catch (IllegalArgumentException e) {
            throw new IOException(imageFile + " and " + labelFile + " do not match: " + e.getMessage(), e);
        }
    }

    /** @return the number of examples */
    public int count() {
        return labels.length;
    }

    /**
     * @param index an example index
     * @return its class
     */
    public int label(int index) {
        return labels[index] & 0xff;
    }
}
