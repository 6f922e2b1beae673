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
 * {@link LsqConv2D}'s linear operation: ND4J's {@code conv2d} and {@code conv2d_bp} (or, for
 * {@link LsqDepthwiseConv2D}, {@code depthwise_conv2d} and its {@code _bp}), NCHW data, the kernel in
 * {@link LsqConv2D#kernelShape()} (a view of the weights). A dilated kernel is spread into an ordinary one with zeros between
 * its taps (see {@link LsqConv2D}: M2.1's oneDNN build refuses dilated float convolutions); its
 * gradient is the spread kernel's gradient at the taps.
 */
final class ConvLinear implements EagerLinear {
    private final LsqConv2D conf;
    private final Conv2DConfig config;
    private final String op;
    private final long[] kernelShape;
    private final long[] spreadShape;
    /**
     * {@code conv2d}'s integer arguments, which its {@code _bp} and the depthwise ops take too (the
     * depthwise ops read the kernel format {@code [kH, kW, nIn, m]} from the same last argument, 0).
     */
    private final int[] integerArguments;

    ConvLinear(LsqConv2D conf) {
        this.conf = conf;
        this.config = conf.conv2DConfig();
        this.op = conf.convolutionOp();
        this.kernelShape = conf.kernelShape();
        this.spreadShape = conf.isDilated()
                ? new long[] {config.getKH(), config.getKW(), kernelShape[2], kernelShape[3]} : null;
        this.integerArguments = Arrays.stream(new Conv2D(new INDArray[0], new INDArray[0], config).iArgs())
                .mapToInt(Math::toIntExact).toArray();
    }

    @Override
    public long[] outputShape(INDArray x) {
        return new long[] {x.size(0), conf.getNOut(), conf.outputSize("height", x.size(2), 0),
            conf.outputSize("width", x.size(3), 1)};
    }

    @Override
    public void forward(INDArray x, INDArray w, INDArray bias, INDArray out) {
        INDArray kernel = kernel(w);
        DynamicCustomOp.DynamicCustomOpsBuilder forward = DynamicCustomOp.builder(op);
        if (bias == null) {
            forward.addInputs(x, kernel);
        } else {
            forward.addInputs(x, kernel, bias);
        }
        Nd4j.exec(forward.addOutputs(out).addIntegerArguments(integerArguments).build());
    }

    @Override
    public void backward(INDArray x, INDArray w, INDArray bias, INDArray dz, INDArray dx, INDArray dw, INDArray db) {
        INDArray kernel = kernel(w);
        INDArray dKernel = spreadShape == null ? asKernel(dw) : kernel.ulike();
        DynamicCustomOp.DynamicCustomOpsBuilder backward = DynamicCustomOp.builder(op + "_bp");
        if (bias == null) {
            backward.addInputs(x, kernel, dz).addOutputs(dx, dKernel);
        } else {
            backward.addInputs(x, kernel, bias, dz).addOutputs(dx, dKernel, db);
        }
        Nd4j.exec(backward.addIntegerArguments(integerArguments).build());
        if (spreadShape != null) {
            asKernel(dw).assign(dKernel.get(taps()));
        }
    }

    /** The kernel the convolution runs with: {@code w} in the op's shape, spread by the dilation if any. */
    private INDArray kernel(INDArray w) {
        INDArray kernel = asKernel(w);
        if (spreadShape == null) {
            return kernel;
        }
        INDArray spread = Nd4j.zeros(w.dataType(), spreadShape);
        spread.get(taps()).assign(kernel);
        return spread;
    }

    /** {@code w} (or its gradient) as a view in the op's kernel shape: the same elements, written through. */
    private INDArray asKernel(INDArray w) {
        return Arrays.equals(w.shape(), kernelShape) ? w : w.reshape('c', true, kernelShape);
    }

    /** Where the spread kernel's taps are: every {@code dilation}-th row and column. */
    private INDArrayIndex[] taps() {
        int[] dilation = conf.getDilation();
        return new INDArrayIndex[] {NDArrayIndex.interval(0, dilation[0], spreadShape[0]),
            NDArrayIndex.interval(0, dilation[1], spreadShape[1]), NDArrayIndex.all(), NDArrayIndex.all()};
    }
}
