package io.github.lsq4j.convert;

import io.github.lsq4j.layers.AbstractLsqLayer;
import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqDense;
import io.github.lsq4j.layers.LsqLayerBuilder;
import io.github.lsq4j.layers.LsqOutputLayer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The default conversion table, float layer type to LSQ layer: {@link ConvolutionLayer} to
 * {@link LsqConv2D}, {@link DenseLayer} to {@link LsqDense}, and {@link OutputLayer} to
 * {@link LsqOutputLayer} (the paper quantizes the last layer too). Types match exactly: subclasses such
 * as depthwise, separable or transposed convolutions are not in the table.
 */
public final class LayerMappings {

    private static final LayerMapping CONVOLUTION = new LayerMapping() {
        @Override
        public LsqLayerBuilder<?> fromFloat(Layer layer) {
            ConvolutionLayer conv = (ConvolutionLayer) layer;
            String name = "ConvolutionLayer '" + conv.getLayerName() + "'";
            if (conv.getCnn2dDataFormat() != null && conv.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                throw new IllegalArgumentException(name + ": data format " + conv.getCnn2dDataFormat()
                        + " is not supported (LsqConv2D is NCHW)");
            }
            ConvolutionMode mode = conv.getConvolutionMode();
            if (mode == ConvolutionMode.Strict) {
                mode = ConvolutionMode.Truncate; // Strict only adds a check on the input size
            }
            return FloatLayers.copyCommon(conv, new LsqConv2D.Builder(), conv.hasBias())
                    .kernelSize(conv.getKernelSize()).stride(conv.getStride()).padding(conv.getPadding())
                    .dilation(conv.getDilation()).convolutionMode(mode);
        }

        /** Stock {@code [nOut, nIn, kH, kW]} to SameDiff's {@code [kH, kW, nIn, nOut]}. */
        @Override
        public void copyParams(Map<String, INDArray> floatParams, Map<String, INDArray> lsqParams) {
            lsqParams.get(AbstractLsqLayer.WEIGHT_KEY)
                    .assign(floatParams.get(DefaultParamInitializer.WEIGHT_KEY).permute(2, 3, 1, 0));
            FloatLayers.copyBias(floatParams, lsqParams);
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
        table.put(DenseLayer.class, DENSE);
        table.put(OutputLayer.class, OUTPUT);
        return table;
    }

    /** @return the default table, unmodifiable */
    public static Map<Class<? extends Layer>, LayerMapping> defaultTable() {
        return Collections.unmodifiableMap(defaults());
    }
}
