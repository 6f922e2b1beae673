package io.github.lsq4j;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.GZIPInputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fixed Fashion-MNIST subset committed in {@code src/test/resources/fashion-mnist-subset/}: the first
 * 60 training and the first 20 test images of every class, in their order in the full files, as gzipped
 * IDX files. {@code make_subset.py} beside them writes them from the real data set (MIT license, see the
 * {@code LICENSE} there), so the tests that need real images run on a machine without the data set.
 */
public final class FashionMnistSubset {
    /** Mean of the full training set's pixels scaled to [0, 1] (the demo normalizes with the same). */
    public static final double MEAN = 0.2860;
    /** Standard deviation of the full training set's pixels scaled to [0, 1]. */
    public static final double STD = 0.3530;
    /** Images in the training split. */
    public static final int TRAIN_SIZE = 600;
    /** Images in the test split. */
    public static final int TEST_SIZE = 200;

    private static final int CLASSES = 10;
    private static final String FOLDER = "/fashion-mnist-subset/";

    /** The two parts of the subset. */
    public enum Split {
        /** {@value #TRAIN_SIZE} images from the full training set. */
        TRAIN("train"),
        /** {@value #TEST_SIZE} images from the full test set. */
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnistSubset() {
    }

    /**
     * All images of a split as one data set: features {@code [n, 1, 28, 28]} as {@code (pixel/255 - MEAN) / STD},
     * one-hot labels {@code [n, 10]}, float. A new data set on each call, so callers may shuffle it.
     *
     * @param split which split
     * @return the images and labels, in file order
     */
    public static DataSet load(Split split) {
        byte[] pixels = read(split.prefix + "-images-idx3-ubyte.gz", 3);
        byte[] labels = read(split.prefix + "-labels-idx1-ubyte.gz", 1);
        int n = labels.length;
        int size = pixels.length / n;
        float[] x = new float[pixels.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (((pixels[i] & 0xff) / 255.0 - MEAN) / STD);
        }
        float[] y = new float[n * CLASSES];
        for (int i = 0; i < n; i++) {
            y[i * CLASSES + labels[i]] = 1f;
        }
        int side = (int) Math.round(Math.sqrt(size));
        return new DataSet(Nd4j.create(x, new long[] {n, 1, side, side}, DataType.FLOAT),
                Nd4j.create(y, new long[] {n, CLASSES}, DataType.FLOAT));
    }

    /** The body of an unsigned-byte IDX resource of the given rank. */
    private static byte[] read(String name, int rank) {
        try (InputStream resource = FashionMnistSubset.class.getResourceAsStream(FOLDER + name)) {
            if (resource == null) {
                throw new IllegalStateException("test resource " + FOLDER + name + " is missing");
            }
            DataInputStream in = new DataInputStream(new GZIPInputStream(resource));
            int magic = in.readInt();
            if (magic != (0x0800 | rank)) {
                throw new IllegalStateException(name + ": not an unsigned-byte IDX file of rank " + rank);
            }
            long length = 1;
            for (int d = 0; d < rank; d++) {
                length *= in.readInt();
            }
            byte[] body = new byte[Math.toIntExact(length)];
            in.readFully(body);
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read test resource " + FOLDER + name, e);
        }
    }
}
