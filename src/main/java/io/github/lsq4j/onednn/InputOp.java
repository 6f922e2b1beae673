package io.github.lsq4j.onednn;

import io.github.lsq4j.layers.IntegerKernel;
import io.github.lsq4j.op.EagerQuantizer;
import java.nio.ByteBuffer;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A network input: DL4J's {@code [N, C, H, W]} or {@code [N, C]} float array, written into its value
 * channels-last, as float (a oneDNN reorder) or, when every reader quantizes it alike, as codes: lsq4j's own
 * quantizer ({@link EagerQuantizer#codes}, its rounding, the codes of the float path bit for bit) writes them
 * channels-first, a oneDNN reorder of bytes moves them channels-last.
 */
final class InputOp extends Op {
    final int index;

    InputOp(String name, int index, Value output) {
        super(name);
        this.index = index;
        this.output = output;
    }

    @Override
    Step prepare(Plan plan) {
        NativeOwner owner = plan.owner;
        memory dst = plan.memory(output);
        memory.desc channelsFirst = owner.own(new memory.desc(output.batchDims(plan.batch), Descriptors.type(output),
                output.isSpatial() ? memory.format_tag.nchw : memory.format_tag.nc));
        if (output.codes == null) {
            memory src = owner.own(new memory(channelsFirst, OneDnn.engine(), dst.get_data_handle()));
            reorder r = owner.own(new reorder(src, dst));
            return () -> {
                src.set_data_handle(plan.input(index).data().addressPointer());
                r.execute(OneDnn.stream(), src, dst);
            };
        }
        memory codes = output.isSpatial() ? owner.own(new memory(channelsFirst, OneDnn.engine())) : dst;
        ByteBuffer bytes = new BytePointer(codes.get_data_handle()).capacity(channelsFirst.get_size()).asByteBuffer();
        reorder toChannelsLast = output.isSpatial() ? owner.own(new reorder(codes, dst)) : null;
        return () -> {
            INDArray x = plan.input(index);
            long nonFinite = EagerQuantizer.codes(x, output.codes.step(), output.codes.range(), bytes);
            if (nonFinite > 0) {
                throw new IntegerKernel.NonFiniteInputException(nonFinite, x.length());
            }
            if (toChannelsLast != null) {
                toChannelsLast.execute(OneDnn.stream(), codes, dst);
            }
        };
    }

    @Override
    String describe() {
        return "input" + (output.codes != null ? " -> codes" : "");
    }
}
