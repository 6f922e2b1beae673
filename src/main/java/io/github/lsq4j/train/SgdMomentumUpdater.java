package io.github.lsq4j.train;

import java.util.Collections;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.learning.GradientUpdater;

/** The state and update step of {@link SgdMomentum}: one momentum buffer per parameter. */
final class SgdMomentumUpdater implements GradientUpdater<SgdMomentum> {
    static final String BUFFER = "M";

    private final SgdMomentum config;
    private INDArray buffer;

    SgdMomentumUpdater(SgdMomentum config) {
        this.config = config;
    }

    @Override
    public SgdMomentum getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        if (stateMap == null || !stateMap.containsKey(BUFFER) || stateMap.size() != 1) {
            throw new IllegalStateException("SgdMomentum state must hold exactly the key " + BUFFER + ", got "
                    + (stateMap == null ? null : stateMap.keySet()));
        }
        buffer = stateMap.get(BUFFER);
        if (initialize) {
            buffer.assign(0);
        }
    }

    @Override
    public Map<String, INDArray> getState() {
        return Collections.singletonMap(BUFFER, buffer);
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (initialize) {
            viewArray.assign(0);
        }
        buffer = Shape.newShapeNoCopy(viewArray, gradientShape, gradientOrder == 'f');
        if (buffer == null) {
            throw new IllegalStateException("could not reshape the SgdMomentum state to the gradient's shape");
        }
    }

    /** DL4J subtracts the returned gradient from the parameters: it becomes {@code lr * buf}. */
    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (buffer == null) {
            throw new IllegalStateException("SgdMomentum updater has no state array");
        }
        double lr = config.getLearningRate(iteration, epoch);
        buffer.muli(config.getMomentum()).addi(gradient.reshape(buffer.shape()));
        gradient.assign(buffer.reshape(gradient.shape())).muli(lr);
    }
}
