package io.github.lsq4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * {@link Distillation} for ComputationGraphs with several inputs or outputs: wraps a
 * {@link MultiDataSetIterator} and replaces the labels of each output {@code i} by
 * {@code (1 - teacherWeight) * y_i + teacherWeight * q_i}, where {@code q_i} is the teacher's output
 * {@code i} on the same batch. Temperature 1, as in the paper.
 */
public final class MultiDistillation implements MultiDataSetIterator {
    private final MultiDataSetIterator data;
    private final ComputationGraph teacher;
    private final double teacherWeight;

    private MultiDistillation(MultiDataSetIterator data, ComputationGraph teacher, double teacherWeight) {
        Distillation.checkArguments(data, teacher, teacherWeight);
        this.data = data;
        this.teacher = teacher;
        this.teacherWeight = teacherWeight;
    }

    /**
     * Distillation at temperature 1, as in the paper.
     *
     * @param data          the training data, labels for every output of the teacher
     * @param teacher       the full-precision network with the student's inputs and outputs
     * @param teacherWeight weight of the teacher's outputs in the labels, 0 to 1
     * @return the distilling iterator
     */
    public static MultiDistillation from(MultiDataSetIterator data, ComputationGraph teacher, double teacherWeight) {
        return new MultiDistillation(data, teacher, teacherWeight);
    }

    @Override
    public MultiDataSet next(int num) {
        return distill(data.next(num));
    }

    @Override
    public MultiDataSet next() {
        return distill(data.next());
    }

    private MultiDataSet distill(MultiDataSet batch) {
        INDArray[] outputs = teacher.output(false, batch.getFeatures(), batch.getFeaturesMaskArrays(),
                batch.getLabelsMaskArrays());
        INDArray[] labels = batch.getLabels();
        if (outputs.length != labels.length) {
            throw new IllegalArgumentException("the teacher has " + outputs.length + " outputs, the batch labels for "
                    + labels.length);
        }
        INDArray[] targets = new INDArray[labels.length];
        for (int i = 0; i < labels.length; i++) {
            targets[i] = Distillation.target(labels[i], outputs[i], teacherWeight, "the labels of output " + i);
        }
        return new org.nd4j.linalg.dataset.MultiDataSet(batch.getFeatures(), targets, batch.getFeaturesMaskArrays(),
                batch.getLabelsMaskArrays());
    }

    @Override
    public boolean hasNext() {
        return data.hasNext();
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
    public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
        data.setPreProcessor(preProcessor);
    }

    @Override
    public MultiDataSetPreProcessor getPreProcessor() {
        return data.getPreProcessor();
    }

    @Override
    public String toString() {
        return "MultiDistillation(teacherWeight=" + teacherWeight + ", temperature=1, data=" + data + ")";
    }
}
