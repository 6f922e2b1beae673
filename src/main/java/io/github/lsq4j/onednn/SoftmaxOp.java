package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.softmax_forward;

/** Softmax over the channels of a {@code [N, C]} tensor: an output layer's activation. */
final class SoftmaxOp extends Op {

    SoftmaxOp(String layer, Value input, Value output) {
        super(layer);
        inputs.add(input);
        this.output = output;
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        memory src = plan.memory(inputs.get(0));
        memory dst = plan.memory(output);
        softmax_forward p = owner.own(new softmax_forward(owner.own(new softmax_forward.primitive_desc(owner.own(
                new softmax_forward.desc(dnnl.prop_kind.forward_inference, src.get_desc(), 1)), OneDnn.engine()))));
        IntMemoryMap args = owner.own(new IntMemoryMap());
        args.put(dnnl.DNNL_ARG_SRC, src);
        args.put(dnnl.DNNL_ARG_DST, dst);
        return () -> p.execute(OneDnn.stream(), args);
    }

    @Override
    boolean canWriteCodes() {
        return false;
    }

    @Override
    String describe() {
        return "f32 softmax";
    }
}
