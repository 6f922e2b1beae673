package io.github.lsq4j.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Cosine decay without restarts, as in the paper: {@code value(t) = initial * (1 + cos(pi * t / T)) / 2}
 * for {@code t} from 0 to {@code T}, then 0. Equals PyTorch's {@code CosineAnnealingLR(T_max=T)} stepped
 * once per iteration. Survives DL4J's JSON configuration round trip.
 */
public final class CosineSchedule implements ISchedule {
    private final ScheduleType scheduleType;
    private final double initialValue;
    private final long totalSteps;

    /**
     * @param scheduleType whether {@code t} counts iterations or epochs
     * @param initialValue the value at {@code t = 0}
     * @param totalSteps   {@code T}, the number of iterations (or epochs) over which the value reaches 0
     * @throws IllegalArgumentException if {@code totalSteps < 1} or the initial value is not finite
     */
    public CosineSchedule(@JsonProperty("scheduleType") ScheduleType scheduleType,
                          @JsonProperty("initialValue") double initialValue,
                          @JsonProperty("totalSteps") long totalSteps) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("cosine schedule needs totalSteps >= 1, got " + totalSteps);
        }
        if (!Double.isFinite(initialValue)) {
            throw new IllegalArgumentException("cosine schedule needs a finite initial value, got " + initialValue);
        }
        this.scheduleType = scheduleType == null ? ScheduleType.ITERATION : scheduleType;
        this.initialValue = initialValue;
        this.totalSteps = totalSteps;
    }

    /**
     * A schedule over iterations.
     *
     * @param initialValue   the value at iteration 0
     * @param totalIterations the iterations over which it decays to 0
     * @return the schedule
     */
    public static CosineSchedule overIterations(double initialValue, long totalIterations) {
        return new CosineSchedule(ScheduleType.ITERATION, initialValue, totalIterations);
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        long t = Math.min(scheduleType == ScheduleType.ITERATION ? iteration : epoch, totalSteps);
        return initialValue * 0.5 * (1 + Math.cos(Math.PI * t / totalSteps));
    }

    @Override
    public ISchedule clone() {
        return new CosineSchedule(scheduleType, initialValue, totalSteps);
    }

    /** @return whether t counts iterations or epochs */
    public ScheduleType getScheduleType() {
        return scheduleType;
    }

    /** @return the value at t = 0 */
    public double getInitialValue() {
        return initialValue;
    }

    /** @return T */
    public long getTotalSteps() {
        return totalSteps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CosineSchedule c && c.scheduleType == scheduleType
                && Double.compare(c.initialValue, initialValue) == 0 && c.totalSteps == totalSteps;
    }

    @Override
    public int hashCode() {
        return (scheduleType.hashCode() * 31 + Double.hashCode(initialValue)) * 31 + Long.hashCode(totalSteps);
    }

    @Override
    public String toString() {
        return "CosineSchedule(" + initialValue + " -> 0 over " + totalSteps + " " + scheduleType.name().toLowerCase()
                + "s)";
    }
}
