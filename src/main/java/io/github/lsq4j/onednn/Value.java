package io.github.lsq4j.onednn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A tensor of a compiled network, per example: {@code [C, H, W]}, stored channels-last (NHWC), or {@code [C]}
 * (NC). Float, or integer {@link Codes} when every reader of it quantizes it the same way.
 */
final class Value {
    /** The DL4J layer or vertex that computes it, or the network input's name. */
    final String name;
    final long[] dims;
    /** Null while the tensor is float. */
    Codes codes;
    Op producer;
    final List<Op> consumers = new ArrayList<>();
    boolean networkOutput;

    Value(String name, long... dims) {
        if (dims.length != 1 && dims.length != 3) {
            throw new IllegalArgumentException(name + ": tensors of rank " + (dims.length + 1)
                    + " are not supported (only [N, C] and [N, C, H, W])");
        }
        this.name = name;
        this.dims = dims.clone();
    }

    boolean isSpatial() {
        return dims.length == 3;
    }

    long channels() {
        return dims[0];
    }

    long elementsPerExample() {
        return Arrays.stream(dims).reduce(1, (a, b) -> a * b);
    }

    /** @return the dimensions of a batch, {@code [N, C, H, W]} or {@code [N, C]}, as oneDNN orders them */
    long[] batchDims(long batch) {
        long[] d = new long[dims.length + 1];
        d[0] = batch;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return d;
    }

    /** @return the only op that reads this value, if it is not a network output; else null */
    Op soleConsumer() {
        return consumers.size() == 1 && !networkOutput ? consumers.get(0) : null;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(dims) + (codes == null ? " f32" : " " + codes);
    }
}
