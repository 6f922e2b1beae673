package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;

/** oneDNN memory descriptors and attributes of lsq4j's tensors, each registered with an owner. */
final class Descriptors {
    /** Exec argument of post-op {@code index}'s second input (oneDNN's {@code DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1}). */
    static int postOpInput(int index) {
        return dnnl.DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE * (index + 1) | dnnl.DNNL_ARG_SRC_1;
    }

    private Descriptors() {
    }

    /** @return the data type a value is stored in */
    static memory.data_type type(Value v) {
        return v.codes == null ? memory.data_type.f32 : v.codes.signed() ? memory.data_type.s8 : memory.data_type.u8;
    }

    /** A value's batch, channels-last: {@code [N, C, H, W]} as NHWC, {@code [N, C]} as NC. */
    static memory.desc of(NativeOwner owner, Value v, long batch) {
        return owner.own(new memory.desc(v.batchDims(batch), type(v), v.isSpatial() ? memory.format_tag.nhwc
                : memory.format_tag.nc));
    }

    /** @return a descriptor that lets the primitive choose the layout (weights it packs for itself) */
    static memory.desc any(NativeOwner owner, long[] dims, memory.data_type type) {
        return owner.own(new memory.desc(dims, type, memory.format_tag.any));
    }

    /** @return a descriptor of plain data with the given strides, in elements */
    static memory.desc strided(NativeOwner owner, long[] dims, memory.data_type type, long[] strides) {
        return owner.own(new memory.desc(dims, type, strides));
    }

    /**
     * @return a per-channel vector broadcast over a tensor of rank {@code rank}: {@code [1, C, 1, 1]}, {@code [1, C]},
     *         or, over a vector, {@code [C]} with C = 1 (a scalar)
     */
    static memory.desc perChannel(NativeOwner owner, long channels, int rank) {
        long[] dims = new long[rank];
        java.util.Arrays.fill(dims, 1);
        dims[Math.min(1, rank - 1)] = channels;
        memory.format_tag tag = switch (rank) {
            case 4 -> memory.format_tag.nchw;
            case 2 -> memory.format_tag.nc;
            default -> memory.format_tag.a;
        };
        return owner.own(new memory.desc(dims, memory.data_type.f32, tag));
    }

    /** @return an attribute holding the post-ops (registered with the owner) */
    static primitive_attr attr(NativeOwner owner, post_ops ops) {
        primitive_attr attr = owner.own(new primitive_attr());
        attr.set_post_ops(ops);
        return attr;
    }
}
