package io.github.lsq4j.layers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * A depthwise 2D convolution with LSQ-quantized weights and inputs, a drop-in replacement for DL4J's
 * {@code DepthwiseConvolution2D} on NCHW data: each input channel {@code c} is convolved with its own
 * {@code depthMultiplier} kernels, giving the output channels {@code c * depthMultiplier + m}
 * ({@code nOut = nIn * depthMultiplier}, as the stock layer).
 *
 * <p>Weights are stored as {@code [kH, kW, 1, nOut]}, one kernel per output channel on axis 3 as in
 * {@link LsqConv2D}, so that per-channel weight steps are one step per output channel (for a
 * depth multiplier above 1 too) and the export is ONNX's grouped convolution kernel
 * {@code [nOut, 1, kH, kW]}. They hold the same elements in the same order as the stock layer's
 * {@code [kH, kW, nIn, depthMultiplier]}: copy stock weights in with
 * {@code reshape(kH, kW, 1, nIn * depthMultiplier)}; the layer computes with that view of them.
 *
 * <p>Depthwise kernels have few weights each (9 for 3x3) and their ranges differ widely between
 * channels, which is why post-training quantization of depthwise networks per tensor fails and per
 * channel does not (Krishnamoorthi 2018, MobileNet v2 at 8 bits: 0.1 % against 69.8 % top-1); the
 * converter therefore gives depthwise layers per-channel weight steps by default
 * ({@code QuantizationPolicy.Builder#perChannelDepthwise}).
 */
public class LsqDepthwiseConv2D extends LsqConv2D {
    private int depthMultiplier = 1;

    /** For JSON. */
    public LsqDepthwiseConv2D() {
    }

    private LsqDepthwiseConv2D(Builder b) {
        super(b);
        this.depthMultiplier = b.depthMultiplier;
        this.nOut = nIn * depthMultiplier;
    }

    @Override
    protected long[] weightShape() {
        int[] k = getKernelSize();
        return new long[] {k[0], k[1], 1, nIn * depthMultiplier};
    }

    /** The kernel as ND4J's {@code depthwise_conv2d} takes it: {@code [kH, kW, nIn, depthMultiplier]}. */
    @Override
    long[] kernelShape() {
        int[] k = getKernelSize();
        return new long[] {k[0], k[1], nIn, depthMultiplier};
    }

    /** As the stock DepthwiseConvolutionParamInitializer, so that weight inits draw from the same distribution. */
    @Override
    protected double fanIn() {
        int[] k = getKernelSize();
        return (double) nIn * k[0] * k[1];
    }

    /** As the stock DepthwiseConvolutionParamInitializer. */
    @Override
    protected double fanOut() {
        int[] k = getKernelSize();
        int[] s = getStride();
        return (double) depthMultiplier * k[0] * k[1] / ((double) s[0] * s[1]);
    }

    @Override
    protected SDVariable convolution(SameDiff sd, SDVariable x, SDVariable kernel, SDVariable bias) {
        return sd.cnn().depthWiseConv2d(x, kernel, bias, conv2DConfig());
    }

    @Override
    String convolutionOp() {
        return "depthwise_conv2d";
    }

    /** Also sets {@code nOut = nIn * depthMultiplier}. */
    @Override
    public void setNIn(long nIn) {
        super.setNIn(nIn);
        this.nOut = nIn * depthMultiplier;
    }

    /** nOut may be 0 in a built configuration: it follows nIn, which may come from the input type. */
    @Override
    protected void validateSizes() {
        if (depthMultiplier < 1) {
            throw new IllegalArgumentException(describe() + ": depthMultiplier must be >= 1, got " + depthMultiplier);
        }
        if (nIn < 0) {
            throw new IllegalArgumentException(describe() + ": nIn must be > 0 (or 0 to take it from the input type), got "
                    + nIn);
        }
    }

    @Override
    public String toString() {
        return super.toString().replaceFirst("^LsqConv2D\\(", "LsqDepthwiseConv2D(depthMultiplier=" + depthMultiplier
                + ", ");
    }

    @Override
    public boolean equals(Object o) {
        return super.equals(o) && depthMultiplier == ((LsqDepthwiseConv2D) o).depthMultiplier;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + depthMultiplier;
    }

    @Override
    public LsqDepthwiseConv2D clone() {
        return (LsqDepthwiseConv2D) super.clone();
    }

    /** @return the number of output channels per input channel */
    public int getDepthMultiplier() {
        return depthMultiplier;
    }

    /** @param depthMultiplier the number of output channels per input channel (JSON) */
    public void setDepthMultiplier(int depthMultiplier) {
        this.depthMultiplier = depthMultiplier;
        this.nOut = nIn * depthMultiplier;
        setLayerParams(null);
    }

    /** Builds an {@link LsqDepthwiseConv2D}; {@link #build()} validates every setting. */
    public static class Builder extends GeometryBuilder<Builder> {
        private int depthMultiplier = 1;

        /** A builder with the defaults: depth multiplier 1, 5x5 kernel, stride 1, no padding, Truncate, 4-bit signed. */
        public Builder() {
        }

        /**
         * @param depthMultiplier output channels per input channel (default 1); nOut is nIn times it (an
         *                        nOut set on the builder must agree)
         * @return this
         */
        public Builder depthMultiplier(int depthMultiplier) {
            this.depthMultiplier = depthMultiplier;
            return this;
        }

        @Override
        public LsqDepthwiseConv2D buildLayer() {
            return build();
        }

        /**
         * @return the layer configuration
         * @throws IllegalArgumentException naming the layer and the value if a setting is invalid
         */
        @Override
        @SuppressWarnings("unchecked")
        public LsqDepthwiseConv2D build() {
            checkSettings("LsqDepthwiseConv2D");
            if (nOut > 0 && nIn > 0 && nOut != nIn * depthMultiplier) {
                throw new IllegalArgumentException("LsqDepthwiseConv2D" + (layerName == null ? "" : " '" + layerName
                        + "'") + ": nOut is nIn * depthMultiplier = " + nIn * depthMultiplier + ", got nOut " + nOut);
            }
            LsqDepthwiseConv2D layer = new LsqDepthwiseConv2D(this);
            layer.validate();
            return layer;
        }
    }
}
