package io.github.lsq4j.onednn;

import io.github.lsq4j.layers.IntegerKernel;
import java.nio.FloatBuffer;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_forward;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * A network input: DL4J's {@code [N, C, H, W]} or {@code [N, C]} float array, written into its value
 * channels-last by a oneDNN reorder. A quantized layer reading it reads the codes of a quantizer op after it, as
 * for any float tensor (oneDNN's vector kernel: a Java loop writing the codes took 20x as long, and the codes'
 * move to channels-last as bytes another 4x).
 *
 * <p>An input holding NaN or infinite values is refused, as the float path refuses it: a quantizer would clamp
 * them into range and hide them. The check is an average pooling of each example (a sum is NaN or infinite when
 * a term is; oneDNN's JIT pooling reads the example as {@code [k, E/k]} channels-last, vectorized over {@code k});
 * the exact count (ND4J's {@link MatchCondition}) runs only when a sum is not finite (a sum of huge finite values
 * can overflow: such an input counts no bad value and passes).
 */
final class InputOp extends Op {
    /** Channels-last pooling vectorizes over up to this many columns of an example. */
    private static final long CHECK_COLUMNS = 64;

    final int index;

    InputOp(String name, int index, Value output) {
        super(name);
        this.index = index;
        this.output = output;
    }

    /** The input is written as float: its readers' quantizers run as ops of their own. */
    @Override
    boolean canWriteCodes() {
        return false;
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        memory dst = plan.memory(output);
        memory src = owner.own(new memory(owner.own(new memory.desc(output.batchDims(plan.batch), Descriptors.type(output),
                output.isSpatial() ? memory.format_tag.nchw : memory.format_tag.nc)), OneDnn.engine(), dst.get_data_handle()));
        reorder toChannelsLast = owner.own(new reorder(src, dst));
        FiniteCheck check = new FiniteCheck(plan, dst);
        return () -> {
            INDArray x = plan.input(index);
            src.set_data_handle(x.data().addressPointer());
            toChannelsLast.execute(OneDnn.stream(), src, dst);
            check.run(x);
        };
    }

    /** The average pooling that finds NaN and infinity in the input, and the exact count when it does. */
    private static final class FiniteCheck {
        private final pooling_forward pooling;
        private final IntMemoryMap args;
        private final FloatBuffer sums;

        FiniteCheck(Plan plan, memory input) {
            NativeOwner owner = plan.owner;
            long perExample = input.get_desc().get_size() / Float.BYTES / plan.batch;
            long columns = CHECK_COLUMNS;
            while (perExample % columns != 0) {
                columns /= 2;
            }
            memory.desc rows = owner.own(new memory.desc(new long[] {plan.batch, columns, perExample / columns},
                    memory.data_type.f32, memory.format_tag.nwc));
            memory.desc pooledDesc = owner.own(new memory.desc(new long[] {plan.batch, columns, 1}, memory.data_type.f32,
                    memory.format_tag.nwc));
            memory pooled = owner.own(new memory(pooledDesc, OneDnn.engine()));
            pooling = owner.own(new pooling_forward(owner.own(new pooling_forward.primitive_desc(owner.own(
                    new pooling_forward.desc(dnnl.prop_kind.forward_inference, dnnl.algorithm.pooling_avg_include_padding,
                            rows, pooledDesc, new long[] {1}, new long[] {perExample / columns}, new long[] {0},
                            new long[] {0})), OneDnn.engine()))));
            args = owner.own(new IntMemoryMap());
            args.put(dnnl.DNNL_ARG_SRC, owner.own(new memory(rows, OneDnn.engine(), input.get_data_handle())));
            args.put(dnnl.DNNL_ARG_DST, pooled);
            sums = new FloatPointer(pooled.get_data_handle()).capacity(plan.batch * columns).asBuffer();
        }

        void run(INDArray x) {
            pooling.execute(OneDnn.stream(), args);
            for (int i = 0; i < sums.capacity(); i++) {
                if (!Float.isFinite(sums.get(i))) {
                    long nonFinite = Nd4j.getExecutioner().exec(new MatchCondition(x, Conditions.notFinite())).getLong(0);
                    if (nonFinite > 0) {
                        throw new IntegerKernel.NonFiniteInputException(nonFinite, x.length());
                    }
                    return;
                }
            }
        }
    }

    @Override
    String describe() {
        return "input";
    }
}
