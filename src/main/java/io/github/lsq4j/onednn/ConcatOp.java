package io.github.lsq4j.onednn;

import java.util.List;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.concat;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;

/** Float tensors joined along the channels (DL4J's {@code MergeVertex}), as one oneDNN concat primitive. */
final class ConcatOp extends Op {

    ConcatOp(String layer, List<Value> parts, Value output) {
        super(layer);
        inputs.addAll(parts);
        this.output = output;
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        memory.desc parts = owner.own(new memory.desc(inputs.size())); // a native array, as oneDNN takes the parts
        for (int i = 0; i < inputs.size(); i++) {
            parts.getPointer(i).data(plan.memory(inputs.get(i)).get_desc().data());
        }
        memory dst = plan.memory(output);
        concat p = owner.own(new concat(owner.own(new concat.primitive_desc(dst.get_desc(), 1, parts, OneDnn.engine()))));
        IntMemoryMap args = owner.own(new IntMemoryMap());
        for (int i = 0; i < inputs.size(); i++) {
            args.put(dnnl.DNNL_ARG_MULTIPLE_SRC + i, plan.memory(inputs.get(i)));
        }
        args.put(dnnl.DNNL_ARG_DST, dst);
        return () -> p.execute(OneDnn.stream(), args);
    }

    @Override
    boolean canWriteCodes() {
        return false;
    }

    @Override
    String describe() {
        return "f32 concat of " + inputs.size();
    }
}
