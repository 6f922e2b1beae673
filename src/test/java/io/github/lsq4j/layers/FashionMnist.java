package io.github.lsq4j.layers;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads Fashion-MNIST from the IDX files of the Debian package {@code dataset-fashion-mnist}
 * ({@value #DEFAULT_DIR}, gzipped or not; system property {@code lsq4j.fashionMnistDir} overrides).
 * Pixels are normalized as in LSQ-SPEC.md: {@code (x / 255 - 0.2860) / 0.3530}.
 */
final class FashionMnist {
    static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";
    private static final double MEAN = 0.2860;
    private static final double STD = 0.3530;

    private FashionMnist() {
    }

    /**
     * @param train whether to read the training set (else the test set)
     * @param n     how many examples, from the start of the file
     * @return features [n, 1, 28, 28] (float) and one-hot labels [n, 10]
     */
    static DataSet load(boolean train, int n) throws IOException {
        String prefix = train ? "train" : "t10k";
        byte[] images = read(prefix + "-images-idx3-ubyte", 2051, n, 28 * 28);
        byte[] labels = read(prefix + "-labels-idx1-ubyte", 2049, n, 1);
        float[] x = new float[n * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (((images[i] & 0xff) / 255.0 - MEAN) / STD);
        }
        float[] y = new float[n * 10];
        for (int i = 0; i < n; i++) {
            y[i * 10 + (labels[i] & 0xff)] = 1;
        }
        INDArray features = Nd4j.create(x, new long[] {n, 1, 28, 28}, 'c').castTo(DataType.FLOAT);
        INDArray oneHot = Nd4j.create(y, new long[] {n, 10}, 'c').castTo(DataType.FLOAT);
        return new DataSet(features, oneHot);
    }

    private static byte[] read(String name, int magic, int n, int itemSize) throws IOException {
        Path dir = Paths.get(System.getProperty("lsq4j.fashionMnistDir", DEFAULT_DIR));
        Path raw = dir.resolve(name);
        Path gz = dir.resolve(name + ".gz");
        if (!Files.exists(raw) && !Files.exists(gz)) {
            throw new IllegalStateException("Fashion-MNIST file " + name + "[.gz] not found in " + dir
                    + ": install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or "
                    + "set -Dlsq4j.fashionMnistDir");
        }
        try (InputStream in = Files.exists(raw) ? Files.newInputStream(raw)
                : new GZIPInputStream(Files.newInputStream(gz));
             DataInputStream d = new DataInputStream(new BufferedInputStream(in))) {
            int m = d.readInt();
            if (m != magic) {
                throw new IOException(name + ": bad IDX magic " + m + ", expected " + magic);
            }
            int count = d.readInt();
            for (int i = 0; i < (magic == 2051 ? 2 : 0); i++) {
                d.readInt(); // rows, columns
            }
            if (n > count) {
                throw new IllegalArgumentException(name + " has " + count + " items, asked for " + n);
            }
            byte[] out = new byte[n * itemSize];
            d.readFully(out);
            return out;
        }
    }
}
