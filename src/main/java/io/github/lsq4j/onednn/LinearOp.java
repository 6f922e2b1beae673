package io.github.lsq4j.onednn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc;
import org.bytedeco.dnnl.reorder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A convolution or a dense layer, as one oneDNN primitive with everything that follows it fused in.
 *
 * <p>Integer form (an LSQ layer): input codes (u8 or s8) times weight codes (s8), summed in INT32, then
 * {@code y = sum * scale[c] + bias[c]} in float with {@code scale[c] = s_x * s_w[c] * a[c]}, where {@code a} is
 * the factor of a batch norm folded in (1 without one) and {@code bias} holds the layer's bias and the batch
 * norm's shift. Float form (a stock layer): the float convolution, then {@code y * a[c] + bias[c]}. Then, in
 * both, the {@link PostOp}s (activations, a residual sum) and, if the output is held as codes, the next
 * layer's quantizer.
 */
final class LinearOp extends Op implements Fusable {
    final boolean convolution;
    final long outChannels;
    /**
     * Weights: INT8 codes (integer form) or FLOAT, C order, in oneDNN's logical dimensions: {@code [O, I, kH, kW]},
     * {@code [G, O/G, I/G, kH, kW]} (grouped) or {@code [O, I...]} (inner product).
     */
    final INDArray weights;
    /** The integer form's per-channel factor {@code s_x * s_w[c]}; null in float form. */
    final float[] scale;
    /** Per output channel, multiplied in after the sum (a folded batch norm); starts as ones. */
    final float[] factor;
    /** Per output channel; starts as the layer's bias or zeros. */
    final float[] bias;
    /** The input's codes in integer form; null in float form. */
    final Codes inputCodes;
    final Geometry geometry;
    private final List<PostOp> postOps = new ArrayList<>();

    /**
     * The spatial settings of a convolution: strides, dilations as oneDNN counts them (0 for none), padding.
     */
    record Geometry(long[] strides, long[] dilations, long[] padTop, long[] padBottom) {
        Geometry withPadding(long top, long bottom, long left, long right) {
            return new Geometry(strides, dilations, new long[] {padTop[0] + top, padTop[1] + left},
                    new long[] {padBottom[0] + bottom, padBottom[1] + right});
        }
    }

    LinearOp(String layer, Value input, Value output, INDArray weights, float[] scale, float[] bias, Codes inputCodes, Geometry geometry) {
        super(layer);
        this.convolution = geometry != null;
        this.outChannels = output.channels();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            this.weights = weights.dup('c'); // packed again for each new batch size: must outlive any workspace
        }
        this.scale = scale;
        this.factor = new float[(int) outChannels];
        Arrays.fill(factor, 1f);
        this.bias = bias != null ? bias.clone() : new float[(int) outChannels];
        this.inputCodes = inputCodes;
        this.geometry = geometry;
        inputs.add(input);
        this.output = output;
        if ((inputCodes != null) != (weights.dataType() == DataType.INT8)) {
            throw new IllegalArgumentException(layer + ": integer weights need integer inputs and float weights float inputs");
        }
    }

    @Override
    public List<PostOp> postOps() {
        return postOps;
    }

    boolean isInteger() {
        return inputCodes != null;
    }

    /** Folds a batch norm {@code y * a + shift} that reads this op's output (and nothing else does) into it. */
    void foldScaleShift(float[] a, float[] shift) {
        if (!postOps.isEmpty()) {
            throw new IllegalStateException(layer + ": a batch norm folds only before the post-ops");
        }
        for (int c = 0; c < outChannels; c++) {
            factor[c] *= a[c];
            bias[c] = bias[c] * a[c] + shift[c];
        }
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        Value in = inputs.get(0);
        memory src = plan.memory(in);
        memory dst = plan.memory(output);
        memory.data_type weightType = isInteger() ? memory.data_type.s8 : memory.data_type.f32;
        memory.desc weightsAny = Descriptors.any(owner, weights.shape(), weightType);
        PostOpChain chain = new PostOpChain(plan, convolution ? 4 : 2);
        if (!isInteger() && !allOnes(factor)) {
            chain.perChannel(dnnl.algorithm.binary_mul, factor);
        }
        if (!allZeros(bias)) {
            chain.perChannel(dnnl.algorithm.binary_add, bias);
        }
        chain.then(postOps, output.codes);
        primitive_attr attr = chain.attr();
        if (isInteger()) {
            float[] s = new float[(int) outChannels];
            for (int c = 0; c < s.length; c++) {
                s[c] = scale[c] * factor[c];
            }
            attr.set_output_scales(1 << 1, s);
        }
        primitive_desc pd;
        memory.desc packedWeights;
        try {
            if (convolution) {
                convolution_forward.primitive_desc cpd = owner.own(new convolution_forward.primitive_desc(owner.own(
                        new convolution_forward.desc(dnnl.prop_kind.forward_inference, dnnl.algorithm.convolution_direct,
                                src.get_desc(), weightsAny, dst.get_desc(), geometry.strides(), geometry.dilations(),
                                geometry.padTop(), geometry.padBottom())), attr, OneDnn.engine()));
                pd = cpd;
                packedWeights = owner.own(cpd.weights_desc());
            } else {
                inner_product_forward.primitive_desc ipd = owner.own(new inner_product_forward.primitive_desc(owner.own(
                        new inner_product_forward.desc(dnnl.prop_kind.forward_inference, src.get_desc(), weightsAny,
                                dst.get_desc())), attr, OneDnn.engine()));
                pd = ipd;
                packedWeights = owner.own(ipd.weights_desc());
            }
        } catch (RuntimeException e) {
            throw new IllegalStateException(layer + ": oneDNN has no " + describe() + " for input " + in + " and output "
                    + output + " (" + e.getMessage() + ")", e);
        }
        memory packed = owner.own(new memory(packedWeights, OneDnn.engine()));
        pack(owner, packed);
        primitive p = owner.own(convolution ? new convolution_forward((convolution_forward.primitive_desc) pd)
                : new inner_product_forward((inner_product_forward.primitive_desc) pd));
        IntMemoryMap args = owner.own(new IntMemoryMap());
        args.put(dnnl.DNNL_ARG_SRC, src);
        args.put(dnnl.DNNL_ARG_WEIGHTS, packed);
        args.put(dnnl.DNNL_ARG_DST, dst);
        chain.bind(args);
        return () -> p.execute(OneDnn.stream(), args);
    }

    /** Reorders the weights into the layout the primitive chose: once per plan. */
    private void pack(NativeOwner owner, memory packed) {
        memory.data_type type = isInteger() ? memory.data_type.s8 : memory.data_type.f32;
        try (NativeOwner scratch = new NativeOwner()) {
            memory user = scratch.own(new memory(Descriptors.strided(scratch, weights.shape(), type, weights.stride()),
                    OneDnn.engine(), weights.data().addressPointer()));
            scratch.own(new reorder(user, packed)).execute(OneDnn.stream(), user, packed);
            OneDnn.stream()._wait();
        }
    }

    private static boolean allOnes(float[] v) {
        for (float x : v) {
            if (x != 1f) {
                return false;
            }
        }
        return true;
    }

    private static boolean allZeros(float[] v) {
        for (float x : v) {
            if (x != 0f) {
                return false;
            }
        }
        return true;
    }

    @Override
    String describe() {
        String kind = convolution ? (weights.rank() == 5 ? "grouped convolution" : "convolution") : "inner product";
        String types = isInteger() ? (inputCodes.signed() ? "s8" : "u8") + " x s8" : "f32";
        StringBuilder b = new StringBuilder(types + " " + kind);
        postOps.forEach(p -> b.append(p instanceof PostOp.Sum ? " + residual" : " + eltwise"));
        if (output.codes != null) {
            b.append(" -> codes");
        }
        return b.toString();
    }
}
