package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_forward;

/**
 * Max or average pooling, or global pooling (a window of the whole input). Max pooling also runs on codes:
 * the largest code is the code of the largest value, so a quantizer after it can move in front of it.
 */
final class PoolOp extends Op {
    final dnnl.algorithm algorithm;
    final long[] kernel;
    final long[] strides;
    final long[] padTop;
    final long[] padBottom;

    PoolOp(String layer, Value input, Value output, dnnl.algorithm algorithm, long[] kernel, long[] strides,
           long[] padTop, long[] padBottom) {
        super(layer);
        this.algorithm = algorithm;
        this.kernel = kernel;
        this.strides = strides;
        this.padTop = padTop;
        this.padBottom = padBottom;
        inputs.add(input);
        this.output = output;
    }

    boolean isMax() {
        return algorithm == dnnl.algorithm.pooling_max;
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        memory src = plan.memory(inputs.get(0));
        memory dst = plan.memory(output);
        // a [N, C] result of global pooling is [N, C, 1, 1] channels-last: the same bytes
        memory poolDst = output.isSpatial() ? dst : owner.own(new memory(owner.own(new memory.desc(
                new long[] {plan.batch, output.channels(), 1, 1}, Descriptors.type(output), memory.format_tag.nhwc)),
                OneDnn.engine(), dst.get_data_handle()));
        pooling_forward p = owner.own(new pooling_forward(owner.own(new pooling_forward.primitive_desc(owner.own(
                new pooling_forward.desc(dnnl.prop_kind.forward_inference, algorithm, src.get_desc(), poolDst.get_desc(),
                        strides, kernel, padTop, padBottom)), OneDnn.engine()))));
        IntMemoryMap args = owner.own(new IntMemoryMap());
        args.put(dnnl.DNNL_ARG_SRC, src);
        args.put(dnnl.DNNL_ARG_DST, poolDst);
        return () -> p.execute(OneDnn.stream(), args);
    }

    @Override
    String describe() {
        return (inputs.get(0).codes != null ? "u8/s8 " : "f32 ") + (isMax() ? "max" : "average") + " pooling";
    }
}
