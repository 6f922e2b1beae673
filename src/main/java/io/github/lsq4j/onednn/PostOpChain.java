package io.github.lsq4j.onednn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The post-ops of one primitive, in order, with the tensors that its binary post-ops read: what a fused op
 * applies to its result before writing it.
 */
final class PostOpChain {
    private final Plan plan;
    private final int rank;
    private final post_ops ops;
    /** The second input of each post-op; null for the elementwise ones. */
    private final List<memory> inputs = new ArrayList<>();

    /**
     * @param plan the plan the primitive belongs to (owner of what is made here)
     * @param rank the rank of the primitive's output, 2 or 4
     */
    PostOpChain(Plan plan, int rank) {
        this.plan = plan;
        this.rank = rank;
        this.ops = plan.owner.own(new post_ops());
    }

    /** {@code y = y (op) values[c]}, a constant per output channel. */
    PostOpChain perChannel(dnnl.algorithm algorithm, float[] values) {
        memory m = constant(plan, values, rank);
        ops.append_binary(algorithm, m.get_desc());
        inputs.add(m);
        return this;
    }

    /** The fused layers' post-ops, then, for an output held as codes, its quantizer (the rounding is the write's). */
    PostOpChain then(List<PostOp> postOps, Codes outputCodes) {
        for (PostOp p : postOps) {
            if (p instanceof PostOp.Function f) {
                eltwise(f.function());
            } else if (p instanceof PostOp.Sum s) {
                memory residual = plan.memory(s.residual());
                ops.append_binary(dnnl.algorithm.binary_add, residual.get_desc());
                inputs.add(residual);
            }
        }
        if (outputCodes != null) {
            for (Eltwise e : Eltwise.quantizer(outputCodes)) {
                eltwise(e);
            }
        }
        return this;
    }

    /** The clamp of a quantizer whose scaling is done: {@code clip(y, -Qn, Qp)}. */
    PostOpChain clamp(Codes codes) {
        eltwise(Eltwise.clip(-codes.qn(), codes.qp()));
        return this;
    }

    private void eltwise(Eltwise e) {
        ops.append_eltwise(1f, e.algorithm(), e.alpha(), e.beta());
        inputs.add(null);
    }

    /** @return an attribute with these post-ops */
    primitive_attr attr() {
        return Descriptors.attr(plan.owner, ops);
    }

    /** Adds the binary post-ops' inputs to a primitive's arguments. */
    void bind(IntMemoryMap args) {
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i) != null) {
                args.put(Descriptors.postOpInput(i), inputs.get(i));
            }
        }
    }

    /** A constant per-channel vector ({@code [1, C, 1, 1]} or {@code [1, C]}), or a scalar if it has one value. */
    static memory constant(Plan plan, float[] values, int rank) {
        NativeOwner owner = plan.owner;
        memory m = owner.own(new memory(Descriptors.perChannel(owner, values.length, rank), OneDnn.engine()));
        new FloatPointer(m.get_data_handle()).put(values);
        return m;
    }
}
