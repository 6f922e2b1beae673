package io.github.lsq4j.onednn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;

/**
 * An elementwise op that no layer could take in as a post-op, as one oneDNN binary primitive:
 * {@code y = x0 (op) x1}, where {@code x1} is a second tensor of the same shape (a residual sum of two
 * computed tensors), a per-channel vector (a batch norm's factor, then its shift as a post-op), or the scalar
 * 1 (a lone activation, or a quantizer: {@code x * (1/s)}, clamped, rounded when written as codes). Its
 * {@link PostOp}s follow.
 */
final class ElementwiseOp extends Op implements Fusable {
    /** What the op computes before its post-ops. */
    enum Kind { SUM, SCALE_SHIFT, FUNCTION, QUANTIZER }

    final Kind kind;
    private final dnnl.algorithm algorithm;
    /** The second operand when it is a constant: per channel, or one value; null when it is {@code inputs[1]}. */
    final float[] constant;
    /** A per-channel shift added after the first operation (a batch norm's); null for none. */
    final float[] shift;
    private final List<PostOp> postOps = new ArrayList<>();
    private final String what;

    private ElementwiseOp(String layer, Kind kind, String what, dnnl.algorithm algorithm, float[] constant, float[] shift) {
        super(layer);
        this.kind = kind;
        this.what = what;
        this.algorithm = algorithm;
        this.constant = constant;
        this.shift = shift;
    }

    /** {@code a + b}. */
    static ElementwiseOp sum(String layer, Value a, Value b, Value output) {
        ElementwiseOp op = new ElementwiseOp(layer, Kind.SUM, "sum", dnnl.algorithm.binary_add, null, null);
        op.inputs.add(a);
        op.inputs.add(b);
        op.output = output;
        return op;
    }

    /** {@code x * factor[c] + shift[c]}: a batch norm at inference. */
    static ElementwiseOp scaleShift(String layer, Value x, Value output, float[] factor, float[] shift) {
        ElementwiseOp op = new ElementwiseOp(layer, Kind.SCALE_SHIFT, "batch norm", dnnl.algorithm.binary_mul, factor, shift);
        op.inputs.add(x);
        op.output = output;
        return op;
    }

    /**
     * The quantizer of {@code codes}: {@code x * (1/s)} by the binary op itself, then the clamp, then the rounding
     * of the write to bytes. (With the scaling as a post-op instead, oneDNN 2.5 falls back to its reference
     * kernel: 30x slower.)
     */
    static ElementwiseOp quantizer(String layer, Value x, Value codes) {
        ElementwiseOp op = new ElementwiseOp(layer, Kind.QUANTIZER, "quantizer", dnnl.algorithm.binary_mul,
                new float[] {codes.codes.reciprocal()}, null);
        op.inputs.add(x);
        op.output = codes;
        return op;
    }

    /** {@code x * factor}: DL4J's {@code ScaleVertex}. */
    static ElementwiseOp scale(String layer, Value x, Value output, float factor) {
        ElementwiseOp op = new ElementwiseOp(layer, Kind.SCALE_SHIFT, "scale", dnnl.algorithm.binary_mul,
                new float[] {factor}, null);
        op.inputs.add(x);
        op.output = output;
        return op;
    }

    /** {@code f(x)}, from its post-ops alone: an activation.*/
    static ElementwiseOp identity(String layer, String what, Value x, Value output) {
        ElementwiseOp op = new ElementwiseOp(layer, Kind.FUNCTION, what, dnnl.algorithm.binary_mul, new float[] {1f}, null);
        op.inputs.add(x);
        op.output = output;
        return op;
    }

    @Override
    public List<PostOp> postOps() {
        return postOps;
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        // without per-channel operands the op is elementwise on the whole buffer: described as a vector, which
        // oneDNN 2.5 runs on its JIT kernel for every shape (an NHWC tensor of 16 channels fell back to its
        // reference kernel, 30x slower)
        boolean flat = shift == null && (constant == null || constant.length == 1);
        memory src0 = flat ? flat(plan, inputs.get(0)) : plan.memory(inputs.get(0));
        memory dst = flat ? flat(plan, output) : plan.memory(output);
        int rank = flat ? 1 : output.dims.length + 1;
        memory src1 = constant == null ? flat(plan, inputs.get(1)) : PostOpChain.constant(plan, constant, rank);
        PostOpChain chain = new PostOpChain(plan, rank);
        if (shift != null) {
            chain.perChannel(dnnl.algorithm.binary_add, shift);
        }
        if (kind == Kind.QUANTIZER) {
            chain.then(postOps, null).clamp(output.codes);
        } else {
            chain.then(postOps, output.codes);
        }
        binary p = owner.own(new binary(owner.own(new binary.primitive_desc(owner.own(new binary.desc(algorithm,
                src0.get_desc(), src1.get_desc(), dst.get_desc())), chain.attr(), OneDnn.engine()))));
        IntMemoryMap args = owner.own(new IntMemoryMap());
        args.put(dnnl.DNNL_ARG_SRC_0, src0);
        args.put(dnnl.DNNL_ARG_SRC_1, src1);
        args.put(dnnl.DNNL_ARG_DST, dst);
        chain.bind(args);
        return () -> p.execute(OneDnn.stream(), args);
    }

    /** A value's memory seen as one vector of all its elements. */
    private static memory flat(Plan plan, Value v) {
        NativeOwner owner = plan.owner;
        memory m = plan.memory(v);
        return owner.own(new memory(owner.own(new memory.desc(new long[] {plan.batch * v.elementsPerExample()},
                Descriptors.type(v), memory.format_tag.a)), OneDnn.engine(), m.get_data_handle()));
    }

    @Override
    String describe() {
        return "f32 " + what + (postOps.isEmpty() ? "" : " + " + postOps.size() + " post-ops")
                + (output.codes != null ? " -> codes" : "");
    }
}
