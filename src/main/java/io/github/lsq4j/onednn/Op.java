package io.github.lsq4j.onednn;

import java.util.ArrayList;
import java.util.List;

/**
 * One operation of a compiled network: reads its input values, writes its output value. Ops are independent
 * of the batch size; {@link #prepare} makes the oneDNN primitive that runs one for a batch.
 */
abstract class Op {
    /** The DL4J layer or vertex the op computes (or the first of those fused into it), for messages. */
    final String layer;
    final List<Value> inputs = new ArrayList<>();
    Value output;

    Op(String layer) {
        this.layer = layer;
    }

    /**
     * @param plan the plan of one batch size: its memories and the owner of the primitive
     * @return the step that runs this op on the plan's memories
     */
    abstract Step prepare(Plan plan);

    /**
     * @return whether the op can write its output as integer codes (its kernel takes a quantizer as post-ops);
     *         a concat and a softmax write float only
     */
    boolean canWriteCodes() {
        return true;
    }

    /** @return what the op does, for {@link IntegerNetwork#toString()} */
    abstract String describe();

    /** One op of a plan, ready to run on its memories. */
    interface Step {
        void run();
    }
}
