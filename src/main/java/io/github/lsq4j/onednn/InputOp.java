package io.github.lsq4j.onednn;

import java.nio.ByteBuffer;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.javacpp.BytePointer;
import io.github.lsq4j.layers.IntegerKernel;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A network input: DL4J's {@code [N, C, H, W]} or {@code [N, C]} float array, written into its value
 * channels-last, as float (a oneDNN reorder) or, when every reader quantizes it alike, as codes
 * ({@link InputCodes}, lsq4j's own rounding).
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
        memory dst = plan.memory(output);
        if (output.codes != null) {
            ByteBuffer codes = new BytePointer(dst.get_data_handle()).capacity(dst.get_desc().get_size()).asByteBuffer();
            return () -> {
                INDArray x = plan.input(index);
                long nonFinite = InputCodes.write(x, output.codes, codes);
                if (nonFinite > 0) {
                    throw new IntegerKernel.NonFiniteInputException(nonFinite, x.length());
                }
            };
        }
        NativeOwner owner = plan.owner;
        memory src = owner.own(new memory(owner.own(new memory.desc(output.batchDims(plan.batch), memory.data_type.f32,
                output.isSpatial() ? memory.format_tag.nchw : memory.format_tag.nc)), OneDnn.engine(),
                dst.get_data_handle()));
        reorder r = owner.own(new reorder(src, dst));
        return () -> {
            src.set_data_handle(plan.input(index).data().addressPointer());
            r.execute(OneDnn.stream(), src, dst);
        };
    }

    @Override
    String describe() {
        return "input" + (output.codes != null ? " -> codes" : "");
    }
}
