package io.github.lsq4j.onednn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.dnnl.memory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A compiled network's ops made ready for one batch size: a oneDNN primitive per op and a memory per value.
 * Values share buffers where their lifetimes do not overlap (a buffer returns to the pool after the last
 * reader of its value has run), so a plan holds a few activations of the network, not all of them. Owns every
 * native object it makes; {@link #close} frees them.
 */
final class Plan implements AutoCloseable {
    /** Plans made and not yet closed, in this JVM: what the tests of native-memory ownership count. */
    private static final AtomicLong OPEN = new AtomicLong();

    final long batch;
    final NativeOwner owner = new NativeOwner();
    private final Map<Value, memory> memories = new IdentityHashMap<>();
    private final List<Op.Step> steps = new ArrayList<>();
    /** Free buffers: raw byte memories by size. */
    private final List<memory> free = new ArrayList<>();
    private final Map<memory, Long> capacity = new HashMap<>();
    private final Map<Value, memory> bufferOf = new IdentityHashMap<>();

    /**
     * @param ops   the ops in execution order (each reads only values written before it or network inputs)
     * @param batch the batch size
     */
    Plan(List<Op> ops, long batch) {
        this.batch = batch;
        try {
            Map<Value, Op> lastReader = new IdentityHashMap<>();
            ops.forEach(op -> op.inputs.forEach(v -> lastReader.put(v, op)));
            for (Op op : ops) {
                if (op.output != null) {
                    allocate(op.output);
                }
                steps.add(op.prepare(this));
                for (Value v : op.inputs) {
                    if (lastReader.get(v) == op && !v.networkOutput && bufferOf.containsKey(v)) {
                        free.add(bufferOf.get(v));
                    }
                }
            }
        } catch (RuntimeException e) {
            owner.close();
            throw e;
        }
        OPEN.incrementAndGet();
    }

    /** @return how many plans are open (made and not closed) in this JVM */
    static long openPlans() {
        return OPEN.get();
    }

    /** @return the memory of a value in this plan */
    memory memory(Value v) {
        memory m = memories.get(v);
        if (m == null) {
            throw new IllegalStateException("value " + v + " has no memory yet (ops out of order?)");
        }
        return m;
    }

    /** Gives the value a memory over the smallest free buffer that holds it, or a new buffer. */
    private void allocate(Value v) {
        memory.desc desc = Descriptors.of(owner, v, batch);
        long bytes = desc.get_size();
        memory best = null;
        for (memory m : free) {
            if (capacity.get(m) >= bytes && (best == null || capacity.get(m) < capacity.get(best))) {
                best = m;
            }
        }
        if (best == null) {
            best = owner.own(new memory(Descriptors.strided(owner, new long[] {bytes}, memory.data_type.u8,
                    new long[] {1}), OneDnn.engine()));
            capacity.put(best, bytes);
        } else {
            free.remove(best);
        }
        bufferOf.put(v, best);
        memories.put(v, owner.own(new memory(desc, OneDnn.engine(), best.get_data_handle())));
    }

    /** The arrays of the run in progress. */
    private INDArray[] runInputs;
    private INDArray[] runOutputs;

    /**
     * Runs every op, in order.
     *
     * @param inputs  the network inputs, float, C order, from element 0, of this plan's batch size
     * @param outputs one element per network output: an array to write it into (float, C order, from element 0),
     *                or null for a new array outside any workspace
     * @return the network outputs
     */
    INDArray[] run(INDArray[] inputs, INDArray[] outputs) {
        runInputs = inputs;
        runOutputs = outputs;
        try {
            for (Op.Step step : steps) {
                step.run();
            }
            OneDnn.stream()._wait();
            return runOutputs;
        } finally {
            runInputs = null;
            runOutputs = null;
        }
    }

    /** @return network input {@code i} of the run in progress */
    INDArray input(int i) {
        return runInputs[i];
    }

    /** @return the array that receives network output {@code i}, made on first use: {@code v}'s shape, channels first */
    INDArray output(int i, Value v) {
        if (runOutputs[i] == null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                runOutputs[i] = Nd4j.createUninitialized(DataType.FLOAT, v.batchDims(batch), 'c');
            }
        }
        return runOutputs[i];
    }

    @Override
    public void close() {
        if (!owner.isClosed()) {
            owner.close();
            OPEN.decrementAndGet();
        }
    }
}
