package io.github.lsq4j.train;

import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Knowledge distillation as in the paper (this class for {@link DataSetIterator}s;
 * {@link MultiDistillation} for graphs with several inputs or outputs): the quantized student learns from its full-precision
 * teacher's softmax mixed with the true labels.
 *
 * <p>This iterator wraps the training data and replaces each batch's one-hot labels {@code y} by
 * {@code (1 - teacherWeight) * y + teacherWeight * q}, where {@code q} is the teacher's softmax on the
 * same (augmented) batch. Cross-entropy is linear in its target, so training the student with its usual
 * softmax cross-entropy on these labels minimizes exactly {@code (1 - w) * CE(y, student) + w * CE(q,
 * student)}, the paper's mix.
 *
 * <p>Temperature 1 only, as in the paper. Hinton et al.'s temperature {@code T != 1} divides the
 * student's logits by {@code T} as well and scales the soft term by {@code T^2}; that changes the
 * student's loss, which relabelling the data cannot do, so lsq4j does not offer it.
 */
public final class Distillation implements DataSetIterator {
    private final DataSetIterator data;
    private final UnaryOperator<INDArray> teacher;
    private final double teacherWeight;

    private Distillation(DataSetIterator data, UnaryOperator<INDArray> teacher, double teacherWeight) {
        checkArguments(data, teacher, teacherWeight);
        this.data = data;
        this.teacher = teacher;
        this.teacherWeight = teacherWeight;
    }

    /**
     * Distillation at temperature 1, as in the paper.
     *
     * @param data          the training data (one-hot labels)
     * @param teacher       the full-precision network, whose output is a softmax
     * @param teacherWeight weight of the teacher's distribution in the labels, 0 to 1
     * @return the distilling iterator
     */
    public static Distillation from(DataSetIterator data, MultiLayerNetwork teacher, double teacherWeight) {
        return new Distillation(data, x -> teacher.output(x, false), teacherWeight);
    }

    /**
     * Distillation at temperature 1, as in the paper.
     *
     * @param data          the training data (one-hot labels)
     * @param teacher       the full-precision network, whose single output is a softmax
     * @param teacherWeight weight of the teacher's distribution in the labels, 0 to 1
     * @return the distilling iterator
     */
    public static Distillation from(DataSetIterator data, ComputationGraph teacher, double teacherWeight) {
        return new Distillation(data, x -> teacher.outputSingle(false, x), teacherWeight);
    }

    /** @throws IllegalArgumentException if data or teacher is missing or the weight is outside [0, 1] */
    static void checkArguments(Object data, Object teacher, double teacherWeight) {
        if (data == null || teacher == null) {
            throw new IllegalArgumentException("distillation needs training data and a teacher");
        }
        if (!(teacherWeight >= 0 && teacherWeight <= 1)) {
            throw new IllegalArgumentException("teacher weight must be in [0, 1], got " + teacherWeight);
        }
    }

    /**
     * The distillation target for one batch.
     *
     * @param labels       one-hot labels {@code [batch, classes]}
     * @param teacherProbs the teacher's softmax {@code [batch, classes]}
     * @return the mixed labels
     */
    INDArray target(INDArray labels, INDArray teacherProbs) {
        return target(labels, teacherProbs, teacherWeight, "the labels'");
    }

    /**
     * @param labels        the true labels
     * @param teacherOutput the teacher's output for the same batch
     * @param teacherWeight weight of the teacher's output
     * @param what          the labels, for the shape error
     * @return {@code (1 - teacherWeight) * labels + teacherWeight * teacherOutput}
     * @throws IllegalArgumentException if the shapes differ
     */
    static INDArray target(INDArray labels, INDArray teacherOutput, double teacherWeight, String what) {
        if (!Arrays.equals(teacherOutput.shape(), labels.shape())) {
            throw new IllegalArgumentException("teacher output shape " + Arrays.toString(teacherOutput.shape())
                    + " does not match " + what + " " + Arrays.toString(labels.shape()));
        }
        return labels.castTo(teacherOutput.dataType()).mul(1 - teacherWeight).addi(teacherOutput.mul(teacherWeight));
    }

    @Override
    public DataSet next(int num) {
        return distill(data.next(num));
    }

    @Override
    public DataSet next() {
        return distill(data.next());
    }

    private DataSet distill(DataSet batch) {
        INDArray probs = teacher.apply(batch.getFeatures());
        return new DataSet(batch.getFeatures(), target(batch.getLabels(), probs), batch.getFeaturesMaskArray(),
                batch.getLabelsMaskArray());
    }

    /**
     * The wrapped data: the same features in the same order, with the true labels. Passes that read only
     * the features (batch-norm re-estimation) use it and skip the teacher's forward pass.
     */
    DataSetIterator features() {
        return data;
    }

    @Override
    public boolean hasNext() {
        return data.hasNext();
    }

    @Override
    public int inputColumns() {
        return data.inputColumns();
    }

    @Override
    public int totalOutcomes() {
        return data.totalOutcomes();
    }

    @Override
    public boolean resetSupported() {
        return data.resetSupported();
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void reset() {
        data.reset();
    }

    @Override
    public int batch() {
        return data.batch();
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        data.setPreProcessor(preProcessor);
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return data.getPreProcessor();
    }

    @Override
    public List<String> getLabels() {
        return data.getLabels();
    }

    @Override
    public String toString() {
        return "Distillation(teacherWeight=" + teacherWeight + ", temperature=1, data=" + data + ")";
    }
}
