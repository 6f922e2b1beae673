package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;

/** A network output: its value written into a DL4J array, {@code [N, C, H, W]} or {@code [N, C]}, float. */
final class OutputOp extends Op {
    final int index;

    OutputOp(String name, int index, Value value) {
        super(name);
        this.index = index;
        inputs.add(value);
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        Value v = inputs.get(0);
        memory src = plan.memory(v);
        memory dst = owner.own(new memory(owner.own(new memory.desc(v.batchDims(plan.batch), Descriptors.type(v),
                v.isSpatial() ? memory.format_tag.nchw : memory.format_tag.nc)), OneDnn.engine(), src.get_data_handle()));
        reorder r = owner.own(new reorder(src, dst));
        return () -> {
            dst.set_data_handle(plan.output(index, v).data().addressPointer());
            r.execute(OneDnn.stream(), src, dst);
        };
    }

    @Override
    String describe() {
        return "output";
    }
}
