package io.github.lsq4j.layers;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link LsqConv2D}'s linear operation: ND4J's {@code conv2d} and {@code conv2d_bp}, NCHW data,
 * {@code [kH, kW, nIn, nOut]} kernel. A dilated kernel is spread into an ordinary one with zeros between
 * its taps (see {@link LsqConv2D}: M2.1's oneDNN build refuses dilated float convolutions); its
 * gradient is the spread kernel's gradient at the taps.
 */
final class ConvLinear implements EagerLinear {
    private final LsqConv2D conf;
    private final Conv2DConfig config;
    private final long[] spreadShape;
    /** {@code conv2d}'s integer arguments, which {@code conv2d_bp} takes too; set on the first backward pass. */
    private int[] integerArguments;

    ConvLinear(LsqConv2D conf) {
        this.conf = conf;
        this.config = conf.conv2DConfig();
        long[] weightShape = conf.weightShape();
        this.spreadShape = conf.isDilated()
                ? new long[] {config.getKH(), config.getKW(), weightShape[2], weightShape[3]} : null;
    }

    @Override
    public long[] outputShape(INDArray x) {
        return new long[] {x.size(0), conf.getNOut(), conf.outputSize("height", x.size(2), 0),
            conf.outputSize("width", x.size(3), 1)};
    }

    @Override
    public void forward(INDArray x, INDArray w, INDArray bias, INDArray out) {
        INDArray kernel = kernel(w);
        INDArray[] inputs = bias == null ? new INDArray[] {x, kernel} : new INDArray[] {x, kernel, bias};
        Nd4j.exec(new Conv2D(inputs, new INDArray[] {out}, config));
    }

    @Override
    public void backward(INDArray x, INDArray w, INDArray bias, INDArray dz, INDArray dx, INDArray dw, INDArray db) {
        INDArray kernel = kernel(w);
        INDArray dKernel = spreadShape == null ? dw : kernel.ulike();
        if (integerArguments == null) {
            integerArguments = Arrays.stream(new Conv2D(new INDArray[] {x, kernel}, new INDArray[] {dz}, config).iArgs())
                    .mapToInt(Math::toIntExact).toArray();
        }
        DynamicCustomOp.DynamicCustomOpsBuilder op = DynamicCustomOp.builder("conv2d_bp");
        if (bias == null) {
            op.addInputs(x, kernel, dz).addOutputs(dx, dKernel);
        } else {
            op.addInputs(x, kernel, bias, dz).addOutputs(dx, dKernel, db);
        }
        Nd4j.exec(op.addIntegerArguments(integerArguments).build());
        if (spreadShape != null) {
            dw.assign(dKernel.get(taps()));
        }
    }

    /** The kernel the convolution runs with: {@code w}, or {@code w} spread by the dilation. */
    private INDArray kernel(INDArray w) {
        if (spreadShape == null) {
            return w;
        }
        INDArray spread = Nd4j.zeros(w.dataType(), spreadShape);
        spread.get(taps()).assign(w);
        return spread;
    }

    /** Where the spread kernel's taps are: every {@code dilation}-th row and column. */
    private INDArrayIndex[] taps() {
        int[] dilation = conf.getDilation();
        return new INDArrayIndex[] {NDArrayIndex.interval(0, dilation[0], spreadShape[0]),
            NDArrayIndex.interval(0, dilation[1], spreadShape[1]), NDArrayIndex.all(), NDArrayIndex.all()};
    }
}
