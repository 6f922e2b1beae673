package io.github.lsq4j.quant;

import java.util.Arrays;

/**
 * How step sizes map onto a tensor: one step for the whole tensor, or one step per channel along an
 * axis (for weights, the output-channel axis).
 */
public final class StepLayout {
    private static final int PER_TENSOR = -1;
    private static final StepLayout TENSOR = new StepLayout(PER_TENSOR);

    private final int axis;

    private StepLayout(int axis) {
        this.axis = axis;
    }

    /** @return the layout with one step for the whole tensor */
    public static StepLayout perTensor() {
        return TENSOR;
    }

    /**
     * One step per index along {@code axis}.
     *
     * @param axis the channel axis, non-negative
     * @return the layout
     * @throws IllegalArgumentException if {@code axis} is negative
     */
    public static StepLayout perChannel(int axis) {
        if (axis < 0) {
            throw new IllegalArgumentException("channel axis must be >= 0, got " + axis);
        }
        return new StepLayout(axis);
    }

    /**
     * The layout for a channel axis, or per tensor when {@code axis} is negative.
     *
     * @param axis a channel axis, or any negative value for per tensor
     * @return the layout
     */
    public static StepLayout forAxis(int axis) {
        return axis < 0 ? TENSOR : perChannel(axis);
    }

    /** @return whether there is one step per channel */
    public boolean perChannelSteps() {
        return axis != PER_TENSOR;
    }

    /** @return the channel axis, or -1 per tensor */
    public int axis() {
        return axis;
    }

    /**
     * The number of steps a tensor of this shape needs.
     *
     * @param shape the tensor's shape
     * @return 1 per tensor, else {@code shape[axis]}
     * @throws IllegalArgumentException if the axis does not exist in {@code shape}
     */
    public int numSteps(long[] shape) {
        if (!perChannelSteps()) {
            return 1;
        }
        checkAxis(shape);
        return Math.toIntExact(shape[axis]);
    }

    /**
     * The number of tensor elements that share one step (the {@code N} of the paper's gradient scale
     * for a weight tensor).
     *
     * @param shape the tensor's shape
     * @return the element count divided by the number of steps
     */
    public long elementsPerStep(long[] shape) {
        return length(shape) / numSteps(shape);
    }

    /**
     * The shape a step vector is reshaped to so that it broadcasts against a tensor of the given rank:
     * all ones, but {@code numSteps} on the channel axis.
     *
     * @param rank     the tensor's rank
     * @param numSteps the number of steps
     * @return the broadcast shape
     */
    public long[] broadcastShape(int rank, long numSteps) {
        long[] shape = new long[rank];
        Arrays.fill(shape, 1);
        if (perChannelSteps()) {
            if (axis >= rank) {
                throw new IllegalArgumentException("channel axis " + axis + " does not exist in a tensor of rank " + rank);
            }
            shape[axis] = numSteps;
        }
        return shape;
    }

    /**
     * For each element of a C-order tensor, the index of its step.
     *
     * @param shape the tensor's shape
     * @return one step index per element
     */
    public int[] stepIndices(long[] shape) {
        int n = Math.toIntExact(length(shape));
        int[] index = new int[n];
        if (!perChannelSteps()) {
            return index;
        }
        checkAxis(shape);
        long inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        long channels = shape[axis];
        for (int i = 0; i < n; i++) {
            index[i] = (int) ((i / inner) % channels);
        }
        return index;
    }

    static long length(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private void checkAxis(long[] shape) {
        if (axis >= shape.length) {
            throw new IllegalArgumentException("channel axis " + axis + " does not exist in shape "
                    + Arrays.toString(shape));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepLayout l && l.axis == axis;
    }

    @Override
    public int hashCode() {
        return axis;
    }

    @Override
    public String toString() {
        return perChannelSteps() ? "per channel (axis " + axis + ")" : "per tensor";
    }
}
