package io.github.lsq4j.train;

import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * SGD with classic (heavy-ball) momentum, as PyTorch's {@code torch.optim.SGD(momentum=mu)} and the
 * paper use it: {@code buf = mu * buf + grad}, {@code param -= lr * buf}. DL4J's own momentum updater,
 * {@code Nesterovs}, is Nesterov's variant, which trains differently. Weight decay is added to the
 * gradient before the update by DL4J's {@code L2Regularization}, as PyTorch's {@code weight_decay} does.
 */
public final class SgdMomentum implements IUpdater {
    private double learningRate;
    private ISchedule learningRateSchedule;
    private double momentum;

    /** For JSON. */
    public SgdMomentum() {
        this(0.1, null, 0.9);
    }

    /**
     * @param learningRate a fixed learning rate
     * @param momentum     the momentum, in [0, 1)
     */
    public SgdMomentum(double learningRate, double momentum) {
        this(learningRate, null, momentum);
    }

    /**
     * @param learningRateSchedule the learning rate by iteration and epoch
     * @param momentum             the momentum, in [0, 1)
     */
    public SgdMomentum(ISchedule learningRateSchedule, double momentum) {
        this(Double.NaN, learningRateSchedule, momentum);
    }

    private SgdMomentum(double learningRate, ISchedule learningRateSchedule, double momentum) {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (learningRateSchedule == null && !(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + learningRate);
        }
        this.learningRate = learningRate;
        this.learningRateSchedule = learningRateSchedule;
        this.momentum = momentum;
    }

    /** @return the momentum */
    public double getMomentum() {
        return momentum;
    }

    /** @return the schedule, or null for a fixed rate */
    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        SgdMomentumUpdater updater = new SgdMomentumUpdater(this);
        INDArray flat = viewArray.reshape(viewArray.length());
        updater.setStateViewArray(flat, flat.shape(), flat.ordering(), initializeViewArray);
        return updater;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        SgdMomentumUpdater updater = new SgdMomentumUpdater(this);
        updater.setState(updaterState, initializeStateArrays);
        return updater;
    }

    @Override
    public SgdMomentum clone() {
        return new SgdMomentum(learningRate, learningRateSchedule == null ? null : learningRateSchedule.clone(),
                momentum);
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SgdMomentum s && Double.compare(s.learningRate, learningRate) == 0
                && Double.compare(s.momentum, momentum) == 0
                && Objects.equals(s.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, momentum);
    }

    @Override
    public String toString() {
        return "SgdMomentum(lr=" + (learningRateSchedule != null ? learningRateSchedule : learningRate)
                + ", momentum=" + momentum + ")";
    }
}
