package io.github.lsq4j.samples.data;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Mini-batches of in-memory single-channel images as {@code [batch, 1, rows, cols]} float features
 * (pixels / 255, optionally normalized by a mean and standard deviation) and one-hot labels.
 *
 * <p>Training augmentation, as torchvision's {@code RandomCrop(size, padding)} plus
 * {@code RandomHorizontalFlip()}: pad, crop at a random offset, flip horizontally half the time. The
 * padding is black pixels (torchvision's, cropping before normalizing) or the mean (the LSQ reference's,
 * which pads the normalized images with zeros): see {@link Fill}. Shuffling draws a new order each epoch
 * ({@link #reset()}); a seed makes the whole sequence repeatable. An epoch may end with a smaller batch,
 * or leave those examples out (PyTorch's {@code drop_last}).
 */
public final class ImageClassificationIterator implements DataSetIterator {
    private final LabeledImages data;
    private final int batchSize;
    private final int count;
    private final double mean;
    private final double std;
    private final int pad;
    private final float padValue;
    private final boolean flip;
    private final boolean dropLast;
    private final boolean shuffle;
    private final Random random;
    private int[] order;
    private int cursor;
    private DataSetPreProcessor preProcessor;

    private ImageClassificationIterator(Builder b) {
        this.data = b.data;
        this.batchSize = b.batchSize;
        this.count = b.limit < 0 ? b.data.count() : b.limit;
        this.mean = b.mean;
        this.std = b.std;
        this.pad = b.pad;
        this.padValue = b.fill == Fill.MEAN ? 0f : (float) ((0 - b.mean) / b.std);
        this.flip = b.flip;
        this.dropLast = b.dropLast;
        this.shuffle = b.shuffle;
        this.random = new Random(b.seed);
        reset();
    }

    /** What the padding of the crop augmentation shows. */
    public enum Fill {
        /** Black pixels, as torchvision's {@code RandomCrop} on images before {@code Normalize}. */
        BLACK,
        /** The normalization mean (0 after normalizing), as the LSQ reference's crop of normalized images. */
        MEAN
    }

    /**
     * @param data      the images and labels
     * @param batchSize examples per mini-batch
     * @return a builder: no normalization beyond /255, no augmentation, no shuffling, all examples
     */
    public static Builder builder(LabeledImages data, int batchSize) {
        return new Builder(data, batchSize);
    }

    @Override
    public boolean hasNext() {
        return cursor < epochEnd();
    }

    /** @return where this epoch's examples end: all of them, or the last full batch with drop-last */
    private int epochEnd() {
        return dropLast ? count - count % batchSize : count;
    }

    @Override
    public DataSet next() {
        return next(batchSize);
    }

    @Override
    public DataSet next(int num) {
        if (!hasNext()) {
            throw new NoSuchElementException("epoch finished; call reset()");
        }
        int n = Math.min(num, epochEnd() - cursor);
        int rows = data.images().rows();
        int cols = data.images().cols();
        float[] features = new float[n * rows * cols];
        float[] labels = new float[n * data.numClasses()];
        for (int i = 0; i < n; i++) {
            int example = order[cursor + i];
            writeImage(example, features, i * rows * cols);
            labels[i * data.numClasses() + data.label(example)] = 1f;
        }
        cursor += n;
        DataSet batch = new DataSet(Nd4j.create(features, new long[] {n, 1, rows, cols}, DataType.FLOAT),
                Nd4j.create(labels, new long[] {n, data.numClasses()}, DataType.FLOAT));
        if (preProcessor != null) {
            preProcessor.preProcess(batch);
        }
        return batch;
    }

    private void writeImage(int example, float[] out, int offset) {
        IdxFile.Images images = data.images();
        int rows = images.rows();
        int cols = images.cols();
        int dy = pad == 0 ? 0 : random.nextInt(2 * pad + 1) - pad;
        int dx = pad == 0 ? 0 : random.nextInt(2 * pad + 1) - pad;
        boolean mirror = flip && random.nextBoolean();
        for (int r = 0; r < rows; r++) {
            int sr = r + dy;
            for (int c = 0; c < cols; c++) {
                int sc = (mirror ? cols - 1 - c : c) + dx;
                out[offset + r * cols + c] = sr < 0 || sr >= rows || sc < 0 || sc >= cols ? padValue
                        : (float) ((images.pixel(example, sr, sc) / 255.0 - mean) / std);
            }
        }
    }

    @Override
    public int inputColumns() {
        return data.images().rows() * data.images().cols();
    }

    @Override
    public int totalOutcomes() {
        return data.numClasses();
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return true;
    }

    /** Starts a new epoch, with a new order when shuffling. */
    @Override
    public void reset() {
        order = IntStream.range(0, count).toArray();
        if (shuffle) {
            for (int i = count - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        cursor = 0;
    }

    @Override
    public int batch() {
        return batchSize;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return null;
    }

    /** @return the number of examples in one epoch */
    public int numExamples() {
        return epochEnd();
    }

    /** @return the number of batches in one epoch */
    public int batchesPerEpoch() {
        return (epochEnd() + batchSize - 1) / batchSize;
    }

    @Override
    public String toString() {
        return "ImageClassificationIterator(examples=" + count + ", batch=" + batchSize + ", mean=" + mean + ", std="
                + std + ", pad=" + pad + (pad > 0 ? " with " + padValue : "") + ", flip=" + flip + ", shuffle=" + shuffle
                + ", dropLast=" + dropLast + ")";
    }

    /** Builds an {@link ImageClassificationIterator}; {@link #build()} validates. */
    public static final class Builder {
        private final LabeledImages data;
        private final int batchSize;
        private double mean = 0;
        private double std = 1;
        private int pad;
        private Fill fill = Fill.BLACK;
        private boolean flip;
        private boolean dropLast;
        private boolean shuffle;
        private long seed;
        private int limit = -1;

        private Builder(LabeledImages data, int batchSize) {
            this.data = data;
            this.batchSize = batchSize;
        }

        /**
         * Normalizes pixels scaled to [0, 1] as {@code (x - mean) / std}.
         *
         * @param mean the mean
         * @param std  the standard deviation, > 0
         * @return this
         */
        public Builder normalize(double mean, double std) {
            this.mean = mean;
            this.std = std;
            return this;
        }

        /**
         * Training augmentation: pad with black pixels, crop back at a random offset, flip half the time.
         *
         * @param pad  pixels of padding on each side (0: no crop)
         * @param flip whether to flip horizontally half the time
         * @return this
         */
        public Builder augment(int pad, boolean flip) {
            return augment(pad, Fill.BLACK, flip);
        }

        /**
         * Training augmentation: pad, crop back at a random offset, flip half the time.
         *
         * @param pad  pixels of padding on each side (0: no crop)
         * @param fill what the padding shows
         * @param flip whether to flip horizontally half the time
         * @return this
         */
        public Builder augment(int pad, Fill fill, boolean flip) {
            this.pad = pad;
            this.fill = fill;
            this.flip = flip;
            return this;
        }

        /**
         * @param dropLast whether each epoch leaves out the examples that do not fill a last batch, as
         *                 PyTorch's {@code drop_last} (with shuffling, different ones every epoch)
         * @return this
         */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /**
         * @param seed seed of the shuffling and augmentation
         * @return this, shuffling every epoch
         */
        public Builder shuffle(long seed) {
            this.shuffle = true;
            this.seed = seed;
            return this;
        }

        /**
         * @param seed seed of the augmentation, without shuffling
         * @return this
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @param limit use only the first {@code limit} examples
         * @return this
         */
        public Builder limit(int limit) {
            this.limit = limit;
            return this;
        }

        /**
         * @return the iterator
         * @throws IllegalArgumentException naming the bad value
         */
        public ImageClassificationIterator build() {
            if (data == null) {
                throw new IllegalArgumentException("data must not be null");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (!(std > 0) || !Double.isFinite(mean) || Double.isInfinite(std)) {
                throw new IllegalArgumentException("normalization needs a finite mean and std > 0, got mean " + mean
                        + ", std " + std);
            }
            if (pad < 0) {
                throw new IllegalArgumentException("padding must be >= 0, got " + pad);
            }
            if (fill == null) {
                throw new IllegalArgumentException("the padding fill must not be null");
            }
            if (limit > data.count() || limit == 0 || limit < -1) {
                throw new IllegalArgumentException("limit must be between 1 and " + data.count() + ", got " + limit);
            }
            int examples = limit < 0 ? data.count() : limit;
            if (dropLast && examples < batchSize) {
                throw new IllegalArgumentException("drop-last with " + examples + " examples and batch size "
                        + batchSize + " leaves no batch");
            }
            return new ImageClassificationIterator(this);
        }
    }
}
