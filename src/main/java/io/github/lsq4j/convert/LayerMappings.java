package io.github.lsq4j.convert;

import io.github.lsq4j.layers.AbstractLsqLayer;
import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqDense;
import io.github.lsq4j.layers.LsqDepthwiseConv2D;
import io.github.lsq4j.layers.LsqLayerBuilder;
import io.github.lsq4j.layers.LsqOutputLayer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.params.SeparableConvolutionParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The default conversion table, float layer type to LSQ layer: {@link ConvolutionLayer} to
 * {@link LsqConv2D}, {@link DepthwiseConvolution2D} to {@link LsqDepthwiseConv2D},
 * {@link SeparableConvolution2D} to an {@link LsqDepthwiseConv2D} and a pointwise {@link LsqConv2D},
 * {@link DenseLayer} to {@link LsqDense}, and {@link OutputLayer} to {@link LsqOutputLayer} (the paper
 * quantizes the last layer too). Types match exactly: other subclasses of ConvolutionLayer, such as
 * transposed convolutions, are not in the table.
 */
public final class LayerMappings {

    private static final LayerMapping CONVOLUTION = new LayerMapping() {
        @Override
        public LsqLayerBuilder<?> fromFloat(Layer layer) {
            ConvolutionLayer conv = (ConvolutionLayer) layer;
            return FloatLayers.copyCommon(conv, FloatLayers.copyGeometry(conv, new LsqConv2D.Builder()), conv.hasBias());
        }

        /** Stock {@code [nOut, nIn, kH, kW]} to SameDiff's {@code [kH, kW, nIn, nOut]}. */
        @Override
        public void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
            lsqParams.get(AbstractLsqLayer.WEIGHT_KEY)
                    .assign(floatParams.get(DefaultParamInitializer.WEIGHT_KEY).permute(2, 3, 1, 0));
            FloatLayers.copyBias(floatParams, lsqParams);
        }
    };

    /** Stock {@code [kH, kW, nIn, m]} is {@link LsqDepthwiseConv2D}'s {@code [kH, kW, 1, nIn * m]}: the same elements. */
    private static final LayerMapping DEPTHWISE = new LayerMapping() {
        @Override
        public LsqLayerBuilder<?> fromFloat(Layer layer) {
            DepthwiseConvolution2D conv = (DepthwiseConvolution2D) layer;
            return FloatLayers.copyCommon(conv, FloatLayers.copyGeometry(conv, new LsqDepthwiseConv2D.Builder()),
                    conv.hasBias()).depthMultiplier(conv.getDepthMultiplier());
        }

        @Override
        public void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
            INDArray target = lsqParams.get(AbstractLsqLayer.WEIGHT_KEY);
            target.assign(floatParams.get(DepthwiseConvolutionParamInitializer.WEIGHT_KEY).reshape(target.shape()));
            FloatLayers.copyBias(floatParams, lsqParams);
        }
    };

    /**
     * A separable convolution is a depthwise convolution (its kernel, stride, padding and dilation) followed
     * by a pointwise 1x1 convolution (its bias and activation): it becomes an {@link LsqDepthwiseConv2D}
     * named {@code <name>_depthwise} and an {@link LsqConv2D} that keeps the name. Both are quantized, and
     * so is the depthwise output that the pointwise convolution reads, as every layer input is: an integer
     * runtime runs the two as two quantized convolutions (PyTorch and Brevitas build such networks from
     * two convolutions, each with its quantized input, in the same way).
     */
    private static final LayerMapping SEPARABLE = new LayerMapping() {
        @Override
        public LsqLayerBuilder<?> precedingFromFloat(Layer layer) {
            SeparableConvolution2D conv = (SeparableConvolution2D) layer;
            LsqDepthwiseConv2D.Builder builder = FloatLayers.copyGeometry(conv, new LsqDepthwiseConv2D.Builder())
                    .depthMultiplier(conv.getDepthMultiplier()).nIn(conv.getNIn()).hasBias(false)
                    .activation(Activation.IDENTITY);
            builder.name(conv.getLayerName() == null ? null : conv.getLayerName() + LsqConverter.PRECEDING_SUFFIX);
            FloatLayers.copyTraining(conv, builder::updater, builder::biasUpdater, builder::regularization,
                    builder::regularizationBias);
            return builder;
        }

        @Override
        public LsqLayerBuilder<?> fromFloat(Layer layer) {
            SeparableConvolution2D conv = (SeparableConvolution2D) layer;
            return FloatLayers.copyCommon(conv, new LsqConv2D.Builder(), conv.hasBias())
                    .nIn(conv.getNIn() * conv.getDepthMultiplier()).kernelSize(1).stride(1).padding(0).dilation(1)
                    .convolutionMode(ConvolutionMode.Truncate);
        }

        @Override
        public void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
            throw new UnsupportedOperationException("a separable convolution becomes two layers");
        }

        /**
         * Depthwise {@code [m, nIn, kH, kW]} to {@code [kH, kW, 1, nIn * m]} (output channel {@code c * m + j},
         * as DL4J's {@code sconv2d} computes); pointwise {@code [nOut, nIn * m, 1, 1]} to {@code [1, 1, nIn * m, nOut]}.
         */
        @Override
        public void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> depthwiseParams,
                               Map<String, INDArray> pointwiseParams) {
            INDArray depthwise = depthwiseParams.get(AbstractLsqLayer.WEIGHT_KEY);
            depthwise.assign(floatParams.get(SeparableConvolutionParamInitializer.DEPTH_WISE_WEIGHT_KEY)
                    .permute(2, 3, 1, 0).dup('c').reshape(depthwise.shape()));
            pointwiseParams.get(AbstractLsqLayer.WEIGHT_KEY).assign(
                    floatParams.get(SeparableConvolutionParamInitializer.POINT_WISE_WEIGHT_KEY).permute(2, 3, 1, 0));
            FloatLayers.copyBias(floatParams, pointwiseParams);
        }
    };

    private static final LayerMapping DENSE = new LayerMapping() {
        @Override
        public LsqLayerBuilder<?> fromFloat(Layer layer) {
            DenseLayer dense = (DenseLayer) layer;
            if (dense.hasLayerNorm()) {
                throw new IllegalArgumentException("DenseLayer '" + dense.getLayerName()
                        + "': layer normalization is not supported by LsqDense");
            }
            return FloatLayers.copyCommon(dense, new LsqDense.Builder(), dense.hasBias());
        }

        @Override
        public void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
            lsqParams.get(AbstractLsqLayer.WEIGHT_KEY).assign(floatParams.get(DefaultParamInitializer.WEIGHT_KEY));
            FloatLayers.copyBias(floatParams, lsqParams);
        }
    };

    /** The same parameters, in the same layout: weights {@code [nIn, nOut]} and bias {@code [1, nOut]}. */
    private static final LayerMapping OUTPUT = new LayerMapping() {
        @Override
        public LsqLayerBuilder<?> fromFloat(Layer layer) {
            OutputLayer output = (OutputLayer) layer;
            LsqOutputLayer.Builder builder = new LsqOutputLayer.Builder(output.getLossFn()).name(output.getLayerName())
                    .nIn(output.getNIn()).nOut(output.getNOut()).activation(output.getActivationFn())
                    .hasBias(output.hasBias()).weightInit(output.getWeightInitFn());
            // The LSQ layer is built outside a network configuration, so nothing else would fill it in.
            builder.biasInit(output.getBiasInit());
            FloatLayers.copyTraining(output, builder::updater, builder::biasUpdater, builder::regularization,
                    builder::regularizationBias);
            return builder;
        }

        @Override
        public void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
            floatParams.forEach((key, value) -> lsqParams.get(key).assign(value));
        }
    };

    private LayerMappings() {
    }

    /** @return a new modifiable copy of the default table, in lookup order */
    public static Map<Class<? extends Layer>, LayerMapping> defaults() {
        Map<Class<? extends Layer>, LayerMapping> table = new LinkedHashMap<>();
        table.put(ConvolutionLayer.class, CONVOLUTION);
        table.put(DepthwiseConvolution2D.class, DEPTHWISE);
        table.put(SeparableConvolution2D.class, SEPARABLE);
        table.put(DenseLayer.class, DENSE);
        table.put(OutputLayer.class, OUTPUT);
        return table;
    }

    /** @return the default table, unmodifiable */
    public static Map<Class<? extends Layer>, LayerMapping> defaultTable() {
        return Collections.unmodifiableMap(defaults());
    }
}
