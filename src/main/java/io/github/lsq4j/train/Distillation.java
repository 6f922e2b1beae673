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
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Knowledge distillation as in the paper: the quantized student learns from its full-precision
 * teacher's softmax mixed with the true labels.
 *
 * <p>This iterator wraps the training data and replaces each batch's one-hot labels {@code y} by
 * {@code (1 - teacherWeight) * y + teacherWeight * q}, where {@code q} is the teacher's softmax on the
 * same (augmented) batch, softened by the temperature: {@code q ~ p^(1/T)}, which is
 * {@code softmax(logits / T)}. Cross-entropy is linear in its target, so training the student with
 * its usual softmax cross-entropy on these labels minimizes exactly
 * {@code (1 - w) * CE(y, student) + w * CE(q, student)}, the paper's mix. At the default temperature 1
 * this is the paper's distillation; the temperature softens the teacher only.
 */
public final class Distillation implements DataSetIterator {
    private final DataSetIterator data;
    private final UnaryOperator<INDArray> teacher;
    private final double teacherWeight;
    private final double temperature;

    private Distillation(DataSetIterator data, UnaryOperator<INDArray> teacher, double teacherWeight,
                         double temperature) {
        if (data == null || teacher == null) {
            throw new IllegalArgumentException("distillation needs training data and a teacher");
        }
        if (!(teacherWeight >= 0 && teacherWeight <= 1)) {
            throw new IllegalArgumentException("teacher weight must be in [0, 1], got " + teacherWeight);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
        }
        this.data = data;
        this.teacher = teacher;
        this.teacherWeight = teacherWeight;
        this.temperature = temperature;
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
        return from(data, teacher, teacherWeight, 1.0);
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
        return from(data, teacher, teacherWeight, 1.0);
    }

    /**
     * @param data          the training data (one-hot labels)
     * @param teacher       the full-precision network, whose output is a softmax
     * @param teacherWeight weight of the teacher's distribution in the labels, 0 to 1
     * @param temperature   softening of the teacher's distribution (1: the paper)
     * @return the distilling iterator
     */
    public static Distillation from(DataSetIterator data, MultiLayerNetwork teacher, double teacherWeight,
                                    double temperature) {
        return new Distillation(data, x -> teacher.output(x, false), teacherWeight, temperature);
    }

    /**
     * @param data          the training data (one-hot labels)
     * @param teacher       the full-precision network, whose single output is a softmax
     * @param teacherWeight weight of the teacher's distribution in the labels, 0 to 1
     * @param temperature   softening of the teacher's distribution (1: the paper)
     * @return the distilling iterator
     */
    public static Distillation from(DataSetIterator data, ComputationGraph teacher, double teacherWeight,
                                    double temperature) {
        return new Distillation(data, x -> teacher.outputSingle(false, x), teacherWeight, temperature);
    }

    /**
     * The distillation target for one batch.
     *
     * @param labels       one-hot labels {@code [batch, classes]}
     * @param teacherProbs the teacher's softmax {@code [batch, classes]}
     * @return the mixed labels
     */
    INDArray target(INDArray labels, INDArray teacherProbs) {
        INDArray soft = temperature == 1 ? teacherProbs.dup() : Transforms.pow(teacherProbs, 1.0 / temperature, true);
        soft.diviColumnVector(soft.sum(true, 1));
        return labels.castTo(soft.dataType()).mul(1 - teacherWeight).addi(soft.muli(teacherWeight));
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
        if (!Arrays.equals(probs.shape(), batch.getLabels().shape())) {
            throw new IllegalArgumentException("teacher output shape " + Arrays.toString(probs.shape())
                    + " does not match the labels' " + Arrays.toString(batch.getLabels().shape()));
        }
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
        return "Distillation(teacherWeight=" + teacherWeight + ", temperature=" + temperature + ", data=" + data + ")";
    }
}
