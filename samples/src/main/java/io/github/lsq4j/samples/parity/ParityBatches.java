package io.github.lsq4j.samples.parity;

import io.github.lsq4j.samples.data.FashionMnist;
import io.github.lsq4j.samples.data.IdxFile;
import io.github.lsq4j.samples.data.LabeledImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The batches of a parity run, pixel for pixel as the reference builds them: the planned examples,
 * normalized in float arithmetic as PyTorch does ({@code (x / 255 - mean) / std}), padded by 2 with
 * zeros after normalization, cropped at the planned offsets and flipped where planned.
 */
final class ParityBatches {
    private static final int PAD = 2;
    private static final float MEAN = (float) FashionMnist.MEAN;
    private static final float STD = (float) FashionMnist.STD;

    private final LabeledImages data;
    private final int[][] index;
    private final int[][] row;
    private final int[][] col;
    private final int[][] flip;

    /**
     * @param folder the run's {@code batches} folder: {@code index}, {@code row}, {@code col} and
     *               {@code flip}, each {@code [steps, batch]}
     * @param data   the training images the indices refer to
     * @throws IOException if the folder cannot be read
     */
    ParityBatches(Path folder, LabeledImages data) throws IOException {
        Map<String, INDArray> plan = ReferenceParity.read(folder);
        this.data = data;
        this.index = plan.get("index").toIntMatrix();
        this.row = plan.get("row").toIntMatrix();
        this.col = plan.get("col").toIntMatrix();
        this.flip = plan.get("flip").toIntMatrix();
    }

    /**
     * @param step the step, from 0
     * @return its batch
     */
    DataSet batch(int step) {
        return images(data, index[step], row[step], col[step], flip[step]);
    }

    /**
     * The first images of the data, unaugmented, as the reference's step initialization takes them.
     *
     * @param data the images
     * @param n    how many
     * @return them, with their labels
     */
    static DataSet firstImages(LabeledImages data, int n) {
        int[] examples = new int[n];
        int[] centre = new int[n];
        for (int i = 0; i < n; i++) {
            examples[i] = i;
            centre[i] = PAD;
        }
        return images(data, examples, centre, centre, new int[n]);
    }

    private static DataSet images(LabeledImages data, int[] examples, int[] rowOffset, int[] colOffset, int[] flip) {
        IdxFile.Images images = data.images();
        int rows = images.rows();
        int cols = images.cols();
        int n = examples.length;
        float[] x = new float[n * rows * cols];
        float[] y = new float[n * data.numClasses()];
        for (int i = 0; i < n; i++) {
            int e = examples[i];
            for (int r = 0; r < rows; r++) {
                int sr = r + rowOffset[i] - PAD;
                for (int c = 0; c < cols; c++) {
                    int sc = (flip[i] != 0 ? cols - 1 - c : c) + colOffset[i] - PAD;
                    boolean inside = sr >= 0 && sr < rows && sc >= 0 && sc < cols;
                    x[(i * rows + r) * cols + c] = inside ? ((float) images.pixel(e, sr, sc) / 255f - MEAN) / STD : 0f;
                }
            }
            y[i * data.numClasses() + data.label(e)] = 1f;
        }
        return new DataSet(Nd4j.create(x, new long[] {n, 1, rows, cols}, DataType.FLOAT),
                Nd4j.create(y, new long[] {n, data.numClasses()}, DataType.FLOAT));
    }
}
