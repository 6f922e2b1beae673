package io.github.lsq4j.layers;

import java.util.Arrays;
import org.deeplearning4j.exception.DL4JInvalidConfigException;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.InputTypeUtil;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;

/**
 * A 2D convolution with LSQ-quantized weights and inputs, a drop-in replacement for DL4J's
 * {@code ConvolutionLayer} on NCHW data: {@code out = activation(conv2d(quantize(x), quantize(W)) + b)}.
 *
 * <p>Weights are stored in SameDiff's layout {@code [kH, kW, nIn, nOut]} (SameDiff's conv2d trains only
 * with that layout); the stock layer stores {@code [nOut, nIn, kH, kW]}, so permute with
 * {@code permute(2, 3, 1, 0)} when copying stock weights in. Per-channel weight steps lie along axis 3.
 * Convolution modes {@link ConvolutionMode#Truncate} (explicit padding) and {@link ConvolutionMode#Same}
 * (padding chosen so that the output is {@code ceil(in / stride)}, as the stock layer does) are
 * supported. Defaults mirror the stock layer: kernel 5x5, stride 1, padding 0, dilation 1, Truncate.
 */
public class LsqConv2D extends AbstractLsqLayer {
    /** The axis of the weights {@code [kH, kW, nIn, nOut]} that holds the output channels. */
    public static final int WEIGHT_CHANNEL_AXIS = 3;
    private int[] kernelSize = {5, 5};
    private int[] stride = {1, 1};
    private int[] padding = {0, 0};
    private int[] dilation = {1, 1};
    /** Null until set on the builder or taken from the global configuration; Truncate outside one. */
    private ConvolutionMode convolutionMode;

    /** For JSON. */
    public LsqConv2D() {
    }

    protected LsqConv2D(GeometryBuilder<?> b) {
        super(b);
        this.kernelSize = b.kernelSize.clone();
        this.stride = b.stride.clone();
        this.padding = b.padding.clone();
        this.dilation = b.dilation.clone();
        this.convolutionMode = b.convolutionMode;
    }

    @Override
    protected long[] weightShape() {
        return new long[] {kernelSize[0], kernelSize[1], nIn, nOut};
    }

    @Override
    public int weightChannelAxis() {
        return WEIGHT_CHANNEL_AXIS;
    }

    @Override
    protected double fanIn() {
        return (double) nIn * kernelSize[0] * kernelSize[1];
    }

    /** As the stock ConvolutionParamInitializer, so that weight inits draw from the same distribution. */
    @Override
    protected double fanOut() {
        return (double) nOut * kernelSize[0] * kernelSize[1] / ((double) stride[0] * stride[1]);
    }

    @Override
    protected SDVariable linear(SameDiff sd, SDVariable x, SDVariable w, SDVariable bias) {
        SDVariable kernel = Arrays.equals(kernelShape(), weightShape()) ? w : sd.reshape(w, kernelShape());
        return convolution(sd, x, isDilated() ? dilateKernel(sd, kernel) : kernel, bias);
    }

    /**
     * The convolution of the graph, on the kernel in {@link #kernelShape()} (spread if dilated).
     *
     * @param sd     the graph
     * @param x      the (quantized) input
     * @param kernel the (quantized) kernel
     * @param bias   the bias {@code [nOut]}, or null
     * @return the pre-activation output
     */
    protected SDVariable convolution(SameDiff sd, SDVariable x, SDVariable kernel, SDVariable bias) {
        return sd.cnn().conv2d(x, kernel, bias, conv2DConfig());
    }

    /** @return the name of the ND4J op of {@link #convolution}, which {@link ConvLinear} runs eagerly */
    String convolutionOp() {
        return "conv2d";
    }

    /**
     * @return the shape of the kernel the convolution op takes: the weights' {@code [kH, kW, nIn, nOut]};
     *         a subclass whose weights are stored in another shape of the same elements reshapes them
     */
    long[] kernelShape() {
        return weightShape();
    }

    @Override
    EagerLinear eagerLinear() {
        return new ConvLinear(this);
    }

    boolean isDilated() {
        return dilation[0] != 1 || dilation[1] != 1;
    }

    /** The convolution of the graph and of {@link ConvLinear}: NCHW, {@code [kH, kW, nIn, nOut]}, no dilation. */
    Conv2DConfig conv2DConfig() {
        return Conv2DConfig.builder()
                .kH(effectiveKernel(0)).kW(effectiveKernel(1))
                .sH(stride[0]).sW(stride[1])
                .pH(padding[0]).pW(padding[1])
                .dH(1).dW(1)
                .paddingMode(mode() == ConvolutionMode.Same ? PaddingMode.SAME : PaddingMode.VALID)
                .dataFormat(Conv2DConfig.NCHW)
                .weightsFormat(WeightsFormat.YXIO)
                .build();
    }

    private int effectiveKernel(int d) {
        return (kernelSize[d] - 1) * dilation[d] + 1;
    }

    /**
     * The dilated kernel as an ordinary one, zeros between the taps: {@code [eH, eW, a, b]} from
     * {@code [kH, kW, a, b]} ({@link #kernelShape()}) by two 0/1 matrix products (exact, and differentiable). Why: in
     * ND4J M2.1's oneDNN build, conv2d with dilation fails in float ("could not create a descriptor for
     * a dilated convolution forward propagation primitive"); a dilation-1 convolution with the spread
     * kernel computes the same values on every backend.
     */
    private SDVariable dilateKernel(SameDiff sd, SDVariable w) {
        DataType type = sd.getVariable(WEIGHT_KEY).dataType();
        int kH = kernelSize[0];
        int kW = kernelSize[1];
        int eH = effectiveKernel(0);
        int eW = effectiveKernel(1);
        long[] shape = kernelShape();
        long io = shape[2] * shape[3];
        INDArray spreadH = Nd4j.zeros(type, eH, kH);
        for (int i = 0; i < kH; i++) {
            spreadH.putScalar(new long[] {(long) i * dilation[0], i}, 1.0);
        }
        INDArray spreadW = Nd4j.zeros(type, eW, kW);
        for (int i = 0; i < kW; i++) {
            spreadW.putScalar(new long[] {(long) i * dilation[1], i}, 1.0);
        }
        SDVariable t = sd.constant(spreadH).mmul(sd.reshape(w, kH, kW * io));   // [eH, kW*io]
        t = sd.permute(sd.reshape(t, eH, kW, io), 1, 0, 2);                    // [kW, eH, io]
        t = sd.constant(spreadW).mmul(sd.reshape(t, kW, eH * io));             // [eW, eH*io]
        return sd.permute(sd.reshape(t, eW, eH, shape[2], shape[3]), 1, 0, 2, 3); // [eH, eW, a, b]
    }

    @Override
    protected void validateGeometry() {
        checkPair("kernelSize", kernelSize, 1);
        checkPair("stride", stride, 1);
        checkPair("padding", padding, 0);
        checkPair("dilation", dilation, 1);
        if (convolutionMode != null && convolutionMode != ConvolutionMode.Truncate
                && convolutionMode != ConvolutionMode.Same) {
            throw new IllegalArgumentException(describe() + ": convolutionMode " + convolutionMode
                    + " is not supported; use Truncate or Same");
        }
    }

    private void checkPair(String what, int[] v, int min) {
        if (v == null || v.length != 2) {
            throw new IllegalArgumentException(describe() + ": " + what + " must have 2 values (height, width), got "
                    + Arrays.toString(v));
        }
        if (v[0] < min || v[1] < min) {
            throw new IllegalArgumentException(describe() + ": " + what + " values must be >= " + min + ", got "
                    + Arrays.toString(v));
        }
    }

    /**
     * The output size along one axis, or an error naming the layer if the kernel does not fit.
     *
     * @param axis "height" or "width"
     * @param in   the input size
     * @param d    0 for height, 1 for width
     */
    long outputSize(String axis, long in, int d) {
        if (mode() == ConvolutionMode.Same) {
            return (in + stride[d] - 1) / stride[d];
        }
        long effectiveKernel = effectiveKernel(d);
        long padded = in + 2L * padding[d];
        if (effectiveKernel > padded) {
            throw new DL4JInvalidInputException(describe() + ": kernel " + axis + " " + kernelSize[d]
                    + (dilation[d] != 1 ? " (" + effectiveKernel + " with dilation " + dilation[d] + ")" : "")
                    + " is larger than the input " + axis + " " + in
                    + (padding[d] != 0 ? " plus padding 2*" + padding[d] : "")
                    + " under ConvolutionMode.Truncate");
        }
        return (padded - effectiveKernel) / stride[d] + 1;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        InputType.InputTypeConvolutional c = convolutionalInput(inputType);
        return InputType.convolutional(outputSize("height", c.getHeight(), 0), outputSize("width", c.getWidth(), 1),
                nOut, CNN2DFormat.NCHW);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        long incoming = convolutionalInput(inputType).getChannels();
        if (nIn <= 0 || override) {
            setNIn(incoming);
        } else if (nIn != incoming) {
            throw new DL4JInvalidConfigException(describe() + ": nIn is " + nIn + " but the incoming data has "
                    + incoming + " channels (" + inputType + ")");
        }
    }

    private InputType.InputTypeConvolutional convolutionalInput(InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeConvolutional c)) {
            throw new DL4JInvalidConfigException(describe() + ": expected convolutional input, got " + inputType);
        }
        if (c.getFormat() != CNN2DFormat.NCHW) {
            throw new DL4JInvalidConfigException(describe() + ": only NCHW data is supported, got " + c.getFormat());
        }
        return c;
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return InputTypeUtil.getPreProcessorForInputTypeCnnLayers(inputType, getLayerName());
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 4) {
            throw new DL4JInvalidInputException(describe() + ": expected NCHW input [minibatch, nIn=" + nIn
                    + ", height, width], got shape " + Arrays.toString(input.shape()));
        }
        if (input.size(1) != nIn) {
            throw new DL4JInvalidInputException(describe() + ": input has " + input.size(1) + " channels (shape "
                    + Arrays.toString(input.shape()) + ") but nIn is " + nIn);
        }
        outputSize("height", input.size(2), 0);
        outputSize("width", input.size(3), 1);
    }

    @Override
    public String toString() {
        return "LsqConv2D(" + (layerName == null ? "" : "name=" + layerName + ", ") + "nIn=" + nIn + ", nOut=" + nOut
                + ", kernelSize=" + Arrays.toString(kernelSize) + ", stride=" + Arrays.toString(stride)
                + ", padding=" + Arrays.toString(padding) + ", dilation=" + Arrays.toString(dilation)
                + ", convolutionMode=" + convolutionMode + ", " + lsqSettings() + ")";
    }

    @Override
    public boolean equals(Object o) {
        if (!super.equals(o)) {
            return false;
        }
        LsqConv2D l = (LsqConv2D) o;
        return Arrays.equals(kernelSize, l.kernelSize) && Arrays.equals(stride, l.stride)
                && Arrays.equals(padding, l.padding) && Arrays.equals(dilation, l.dilation)
                && convolutionMode == l.convolutionMode;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * (31 * (31 * super.hashCode() + Arrays.hashCode(kernelSize)) + Arrays.hashCode(stride))
                + Arrays.hashCode(padding)) + Arrays.hashCode(dilation)) + java.util.Objects.hashCode(convolutionMode);
    }

    @Override
    public LsqConv2D clone() {
        LsqConv2D c = (LsqConv2D) super.clone();
        c.kernelSize = kernelSize.clone();
        c.stride = stride.clone();
        c.padding = padding.clone();
        c.dilation = dilation.clone();
        return c;
    }

    /** @return kernel size {height, width} (a copy) */
    public int[] getKernelSize() {
        return kernelSize.clone();
    }

    /** @param kernelSize kernel size {height, width} */
    public void setKernelSize(int[] kernelSize) {
        this.kernelSize = kernelSize.clone();
        setLayerParams(null);
    }

    /** @return stride {height, width} (a copy) */
    public int[] getStride() {
        return stride.clone();
    }

    /** @param stride stride {height, width} */
    public void setStride(int[] stride) {
        this.stride = stride.clone();
    }

    /** @return padding {height, width} (a copy); ignored in Same mode */
    public int[] getPadding() {
        return padding.clone();
    }

    /** @param padding padding {height, width} */
    public void setPadding(int[] padding) {
        this.padding = padding.clone();
    }

    /** @return dilation {height, width} (a copy) */
    public int[] getDilation() {
        return dilation.clone();
    }

    /** @param dilation dilation {height, width} */
    public void setDilation(int[] dilation) {
        this.dilation = dilation.clone();
    }

    /** @return the convolution mode, or null if it is to come from the global configuration (not applied yet) */
    public ConvolutionMode getConvolutionMode() {
        return convolutionMode;
    }

    /** The convolution mode the layer computes with: its own, or Truncate (DL4J's default) if none. */
    private ConvolutionMode mode() {
        return convolutionMode != null ? convolutionMode : ConvolutionMode.Truncate;
    }

    /**
     * Also takes the global convolution mode, if the layer sets none, as DL4J's ConvolutionLayer does
     * ({@code Strict} as {@code Truncate}: it only adds a check of the input size).
     *
     * @throws IllegalArgumentException naming the layer if the global mode is neither
     */
    @Override
    public void applyGlobalConfigToLayer(org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder globalConfig) {
        super.applyGlobalConfigToLayer(globalConfig);
        if (convolutionMode == null && globalConfig.getConvolutionMode() != null) {
            ConvolutionMode global = globalConfig.getConvolutionMode();
            convolutionMode = global == ConvolutionMode.Strict ? ConvolutionMode.Truncate : global;
            validateGeometry();
        }
    }

    /** @param convolutionMode the convolution mode, Truncate or Same */
    public void setConvolutionMode(ConvolutionMode convolutionMode) {
        this.convolutionMode = convolutionMode;
    }

    /**
     * The settings of a convolution's geometry, which {@link Builder} and {@link LsqDepthwiseConv2D.Builder}
     * share; {@code build()} validates them.
     *
     * @param <T> the concrete builder
     */
    @SuppressWarnings("unchecked")
    public abstract static class GeometryBuilder<T extends GeometryBuilder<T>> extends AbstractLsqLayer.Builder<T> {
        private int[] kernelSize = {5, 5};
        private int[] stride = {1, 1};
        private int[] padding = {0, 0};
        private int[] dilation = {1, 1};
        private ConvolutionMode convolutionMode;

        /** A builder with the defaults: 5x5 kernel, stride 1, no padding, Truncate, 4-bit signed. */
        protected GeometryBuilder() {
            super(WEIGHT_CHANNEL_AXIS);
        }

        /**
         * @param kernelSize kernel {height, width}, or one value for both
         * @return this
         */
        public T kernelSize(int... kernelSize) {
            this.kernelSize = pair(kernelSize);
            return (T) this;
        }

        /**
         * @param stride stride {height, width}, or one value for both
         * @return this
         */
        public T stride(int... stride) {
            this.stride = pair(stride);
            return (T) this;
        }

        /**
         * @param padding zero padding {height, width}, or one value for both (Truncate mode only)
         * @return this
         */
        public T padding(int... padding) {
            this.padding = pair(padding);
            return (T) this;
        }

        /**
         * @param dilation dilation {height, width}, or one value for both
         * @return this
         */
        public T dilation(int... dilation) {
            this.dilation = pair(dilation);
            return (T) this;
        }

        /**
         * @param convolutionMode {@link ConvolutionMode#Truncate} or {@link ConvolutionMode#Same} (default:
         *                        the network's global mode, as for DL4J's ConvolutionLayer; Truncate outside
         *                        a network configuration)
         * @return this
         */
        public T convolutionMode(ConvolutionMode convolutionMode) {
            this.convolutionMode = convolutionMode;
            return (T) this;
        }

        private static int[] pair(int[] v) {
            if (v != null && v.length == 1) {
                return new int[] {v[0], v[0]};
            }
            return v == null ? null : v.clone();
        }

        /**
         * Reports the first invalid LSQ setting or a missing geometry setting, naming the layer.
         *
         * @param layerKind the layer's class name, for the message
         * @throws IllegalArgumentException if a setting was invalid
         */
        @Override
        protected void checkSettings(String layerKind) {
            super.checkSettings(layerKind);
            if (kernelSize == null || stride == null || padding == null || dilation == null) {
                throw new IllegalArgumentException(layerKind + (layerName == null ? "" : " '" + layerName + "'")
                        + ": kernelSize, stride, padding and dilation must not be null");
            }
        }
    }

    /** Builds an {@link LsqConv2D}; {@link #build()} validates every setting. */
    public static class Builder extends GeometryBuilder<Builder> {
        /** A builder with the defaults: 5x5 kernel, stride 1, no padding, Truncate, 4-bit signed. */
        public Builder() {
        }

        /**
         * @return the layer configuration
         * @throws IllegalArgumentException naming the layer and the value if a setting is invalid
         */
        @Override
        public LsqConv2D buildLayer() {
            return build();
        }

        @Override
        @SuppressWarnings("unchecked")
        public LsqConv2D build() {
            checkSettings("LsqConv2D");
            LsqConv2D layer = new LsqConv2D(this);
            layer.validate();
            return layer;
        }
    }
}
