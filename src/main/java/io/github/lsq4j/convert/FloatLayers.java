package io.github.lsq4j.convert;

import io.github.lsq4j.layers.AbstractLsqLayer;
import io.github.lsq4j.layers.LsqConv2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

/** What the mapping rows share: reading a stock layer's common settings and copying its parameters. */
final class FloatLayers {
    private FloatLayers() {
    }

    /**
     * Fills the builder with the float layer's name, sizes, activation, bias flag and initialization,
     * updaters and regularization.
     */
    static <B extends AbstractLsqLayer.Builder<B>> B copyCommon(FeedForwardLayer floatLayer, B builder,
                                                                 boolean hasBias) {
        builder.name(floatLayer.getLayerName());
        builder.nIn(floatLayer.getNIn()).nOut(floatLayer.getNOut());
        if (floatLayer.getActivationFn() != null) {
            builder.activation(floatLayer.getActivationFn());
        }
        builder.hasBias(hasBias);
        if (!Double.isNaN(floatLayer.getBiasInit())) {
            builder.biasInit(floatLayer.getBiasInit());
        }
        copyTraining(floatLayer, builder::updater, builder::biasUpdater, builder::regularization,
                builder::regularizationBias);
        return builder;
    }

    /**
     * Fills a convolution builder with the float convolution's kernel, stride, padding, dilation and mode.
     *
     * @throws IllegalArgumentException naming the layer if its data format is not NCHW
     */
    static <B extends LsqConv2D.GeometryBuilder<B>> B copyGeometry(ConvolutionLayer conv, B builder) {
        if (conv.getCnn2dDataFormat() != null && conv.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException(conv.getClass().getSimpleName() + " '" + conv.getLayerName()
                    + "': data format " + conv.getCnn2dDataFormat() + " is not supported (LSQ convolutions are NCHW)");
        }
        ConvolutionMode mode = conv.getConvolutionMode();
        if (mode == ConvolutionMode.Strict) {
            mode = ConvolutionMode.Truncate; // Strict only adds a check on the input size
        }
        return builder.kernelSize(conv.getKernelSize()).stride(conv.getStride()).padding(conv.getPadding())
                .dilation(conv.getDilation()).convolutionMode(mode);
    }

    /**
     * Copies the float layer's updaters and regularization, where set, through a builder's setters (the
     * stock and the SameDiff layer builders have the same setters, but no common type that declares them).
     */
    static void copyTraining(BaseLayer floatLayer, Consumer<IUpdater> updater, Consumer<IUpdater> biasUpdater,
                             Consumer<List<Regularization>> regularization,
                             Consumer<List<Regularization>> regularizationBias) {
        if (floatLayer.getIUpdater() != null) {
            updater.accept(floatLayer.getIUpdater().clone());
        }
        if (floatLayer.getBiasUpdater() != null) {
            biasUpdater.accept(floatLayer.getBiasUpdater().clone());
        }
        if (floatLayer.getRegularization() != null) {
            regularization.accept(new ArrayList<>(floatLayer.getRegularization()));
        }
        if (floatLayer.getRegularizationBias() != null) {
            regularizationBias.accept(new ArrayList<>(floatLayer.getRegularizationBias()));
        }
    }

    /** Copies the bias, if both layers have one (stock biases are {@code [1, nOut]}, LSQ ones {@code [nOut]}). */
    static void copyBias(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
        INDArray bias = floatParams.get(DefaultParamInitializer.BIAS_KEY);
        if (bias != null && lsqParams.containsKey(AbstractLsqLayer.BIAS_KEY)) {
            INDArray target = lsqParams.get(AbstractLsqLayer.BIAS_KEY);
            target.assign(bias.reshape(target.shape()));
        }
    }
}
