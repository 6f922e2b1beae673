package io.github.lsq4j.export;

import io.github.lsq4j.layers.LsqConv2D;
import io.github.lsq4j.layers.LsqDepthwiseConv2D;
import io.github.lsq4j.layers.LsqDense;
import io.github.lsq4j.layers.LsqIntegerParams;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqOutputLayer;
import io.github.lsq4j.layers.QuantizedLayer;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.Quantizer;
import io.github.lsq4j.train.DecayedBatchNormalization;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The export table, layer configuration type (matched exactly) to ONNX operators: the LSQ layers as
 * QDQ (their integer weight codes as INT4 or INT8 initializers with the learned steps as
 * DequantizeLinear scales, their inputs clipped to the quantizer's range and quantized with the
 * learned step), and DL4J's stock layers that networks around them use, in float.
 */
final class LayerExporters {
    private static final Map<Class<? extends org.deeplearning4j.nn.conf.layers.Layer>, LayerExporter> TABLE = Map.ofEntries(
            Map.entry(LsqConv2D.class, LayerExporters::lsqConv),
            Map.entry(LsqDepthwiseConv2D.class, LayerExporters::lsqConv),
            Map.entry(LsqDense.class, LayerExporters::lsqDense),
            Map.entry(LsqOutputLayer.class, LayerExporters::lsqDense),
            Map.entry(ConvolutionLayer.class, LayerExporters::conv),
            Map.entry(DenseLayer.class, LayerExporters::dense),
            Map.entry(OutputLayer.class, LayerExporters::dense),
            Map.entry(BatchNormalization.class, LayerExporters::batchNorm),
            Map.entry(DecayedBatchNormalization.class, LayerExporters::batchNorm),
            Map.entry(SubsamplingLayer.class, LayerExporters::pooling),
            Map.entry(GlobalPoolingLayer.class, LayerExporters::globalPooling),
            Map.entry(ActivationLayer.class, LayerExporters::activationOnly),
            Map.entry(LossLayer.class, LayerExporters::activationOnly),
            Map.entry(DropoutLayer.class, (layer, input, g) -> input),
            Map.entry(ZeroPaddingLayer.class, LayerExporters::zeroPadding),
            Map.entry(org.deeplearning4j.nn.conf.layers.Upsampling2D.class, SpatialExporters::upsampling),
            Map.entry(org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D.class, SpatialExporters::cropping),
            Map.entry(org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer.class, SpatialExporters::spaceToDepth),
            Map.entry(org.deeplearning4j.nn.conf.layers.LocalResponseNormalization.class,
                    SpatialExporters::localResponseNormalization),
            Map.entry(org.deeplearning4j.nn.conf.layers.Deconvolution2D.class, SpatialExporters::deconvolution),
            Map.entry(org.deeplearning4j.nn.conf.layers.SeparableConvolution2D.class, SpatialExporters::separable),
            Map.entry(org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D.class, SpatialExporters::depthwise),
            // at inference, the centre loss's output layer is a dense layer, and a CNN loss layer its activation
            Map.entry(org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer.class, LayerExporters::dense),
            Map.entry(org.deeplearning4j.nn.conf.layers.CnnLossLayer.class, LayerExporters::activationOnly),
            Map.entry(org.deeplearning4j.nn.conf.layers.objdetect.Yolo2OutputLayer.class, SpatialExporters::yolo2));

    private LayerExporters() {
    }

    /**
     * @param layer a runtime layer (not wrapped)
     * @return its exporter
     * @throws IllegalArgumentException naming the layer and its kind if there is none
     */
    static LayerExporter forLayer(Layer layer) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        LayerExporter exporter = TABLE.get(conf.getClass());
        if (exporter == null) {
            throw new IllegalArgumentException(describe(layer) + ": layer kind " + conf.getClass().getSimpleName()
                    + " has no ONNX export (exported kinds: "
                    + TABLE.keySet().stream().map(Class::getSimpleName).sorted().toList() + ")");
        }
        return exporter;
    }

    static String describe(Layer layer) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        return conf.getClass().getSimpleName() + " '" + (conf.getLayerName() != null ? conf.getLayerName()
                : String.valueOf(layer.getIndex())) + "'";
    }

    static String name(Layer layer) {
        String n = layer.conf().getLayer().getLayerName();
        return n != null ? n : "layer" + layer.getIndex();
    }

    // ---------------------------------------------------------------- LSQ layers

    private static String lsqConv(Layer layer, String input, OnnxGraph g) {
        LsqConv2D conf = (LsqConv2D) layer.conf().getLayer();
        String name = name(layer);
        String x = quantizedInput(layer, input, g);
        // SameDiff's [kH, kW, nIn, nOut] to ONNX's [nOut, nIn, kH, kW]; output channels on axis 0.
        String w = weights(layer, g, name, codes -> codes.permute(3, 2, 0, 1), 0);
        List<String> inputs = new ArrayList<>(List.of(x, w));
        Optional<String> accumulatedBias = conf.isHasBias() ? accumulatedBias(layer, g, name) : Optional.empty();
        accumulatedBias.ifPresent(inputs::add);
        List<onnx.Onnx.AttributeProto> attributes = new ArrayList<>(List.of(convAttributes(conf.getKernelSize(),
                conf.getStride(), conf.getPadding(), conf.getDilation(), conf.getConvolutionMode(), describe(layer))));
        if (conf instanceof LsqDepthwiseConv2D) {
            // its [kH, kW, 1, nOut] weights are ONNX's grouped kernel [nOut, 1, kH, kW]: one group per input channel
            attributes.add(OnnxGraph.attr("group", conf.getNIn()));
        }
        String conv = g.node("Conv", name, inputs, attributes.toArray(onnx.Onnx.AttributeProto[]::new));
        if (conf.isHasBias() && accumulatedBias.isEmpty()) {
            conv = g.node("Add", name + "_b_add", List.of(conv, floatBias(layer, g, name, 1,
                    layer.getParam(LsqLayerConfig.BIAS_KEY).length(), 1, 1)));
        }
        return OnnxActivations.apply(g, conf.effectiveActivation(), conv, name + "_act",
                describe(layer));
    }

    /** {@link LsqDense} and {@link LsqOutputLayer}: weights {@code [nIn, nOut]}, output units on axis 1. */
    private static String lsqDense(Layer layer, String input, OnnxGraph g) {
        String name = name(layer);
        String x = quantizedInput(layer, input, g);
        String w = weights(layer, g, name, codes -> codes, 1);
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        org.nd4j.linalg.activations.IActivation activation = conf instanceof LsqDense d
                ? d.effectiveActivation() : ((BaseLayer) conf).getActivationFn();
        String bias = layer.getParam(LsqLayerConfig.BIAS_KEY) == null ? null : accumulatedBias(layer, g, name)
                .orElseGet(() -> floatBias(layer, g, name, 1, layer.getParam(LsqLayerConfig.BIAS_KEY).length()));
        return affine(g, name, x, w, bias, activation, describe(layer));
    }

    /**
     * The layer input as the paper quantizes it: clipped to {@code [-Qn*s, Qp*s]} where the range is
     * narrower than the 8-bit type, QuantizeLinear with the learned step, DequantizeLinear.
     */
    private static String quantizedInput(Layer layer, String input, OnnxGraph g) {
        QuantizedLayer lsq = (QuantizedLayer) layer;
        Quantizer q = lsq.lsqConf().getInputQuantizer();
        if (q == null) {
            return input;
        }
        double step = lsq.stepValues(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0);
        if (step == 0) {
            throw new IllegalStateException(describe(layer) + ": the input step is not initialized; train the network "
                    + "or call LsqLayers.calibrate before exporting");
        }
        String name = name(layer) + "_x";
        QuantRange r = q.range();
        String x = input;
        if (q.bits() < 8) {
            x = OnnxActivations.clip(g, input, name + "_clip", (float) (-r.qn() * step), (float) (r.qp() * step));
        }
        int type = q.signed() ? OnnxGraph.INT8 : OnnxGraph.UINT8;
        String scale = g.scalar(name + "_step", (float) step);
        String zero = g.zeroPoint(type);
        String quantized = g.node("QuantizeLinear", name + "_q", List.of(x, scale, zero));
        return g.node("DequantizeLinear", name + "_dq", List.of(quantized, scale, zero));
    }

    /**
     * The weights as DequantizeLinear of their integer codes (INT4 up to 4 bits, else INT8) with the
     * learned step(s) as scale, or as float if the layer does not quantize its weights.
     *
     * @param toOnnxLayout the codes (or weights) in ONNX's layout
     * @param onnxAxis     the axis of the output channels in ONNX's layout, for per-channel steps
     */
    private static String weights(Layer layer, OnnxGraph g, String name,
                                  java.util.function.UnaryOperator<INDArray> toOnnxLayout, int onnxAxis) {
        QuantizedLayer lsq = (QuantizedLayer) layer;
        Quantizer q = lsq.lsqConf().getWeightQuantizer();
        if (q == null) {
            return g.floats(name + "_w", toOnnxLayout.apply(layer.getParam(LsqLayerConfig.WEIGHT_KEY)));
        }
        LsqIntegerParams p = lsq.integerParams();
        String codes = g.codes(name + "_w", toOnnxLayout.apply(p.weightCodes()),
                q.bits() <= 4 ? OnnxGraph.INT4 : OnnxGraph.INT8);
        if (!q.isPerChannel()) {
            String scale = g.scalar(name + "_w_step", p.weightSteps().getFloat(0));
            return g.node("DequantizeLinear", name + "_w_dq", List.of(codes, scale));
        }
        String scale = g.floats(name + "_w_step", p.weightSteps().reshape(p.weightSteps().length()));
        return g.node("DequantizeLinear", name + "_w_dq", List.of(codes, scale), OnnxGraph.attr("axis", (long) onnxAxis));
    }

    /**
     * An LSQ layer's bias as integer inference holds it: INT32 codes {@code round(b / (s_x * s_w))}
     * (half to even) with the accumulator's unit {@code s_x * s_w} as DequantizeLinear scale (per output
     * channel if the weight steps are). Runtimes quantize a float bias this way themselves to run the
     * layer with integer kernels (ONNX Runtime's QDQ bias quantization), so writing it so makes the
     * file mean exactly what the runtime computes; it moves each output by at most half that unit. With
     * a quantizer off, the bias stays float.
     *
     * @return the bias the layer adds to its accumulator (the Conv's bias input, or what the dense layer's
     *         Add adds), or empty where the codes do not fit in INT32 ({@link BiasCodes#of}: a nearly dead
     *         input). The caller then adds the {@link #floatBias} after the layer, shaped as the layer's
     *         output ({@code [1, C, 1, 1]}, {@code [1, N]}): ONNX Runtime quantizes the 1-D float bias of a
     *         Conv or Gemm on dequantized inputs to INT32 itself (its BiasQuantization pass, unchecked, so
     *         the codes would overflow), and fuses an Add of a 1-D bias after a MatMul into such a Gemm; a
     *         bias of the output's rank it leaves float. The {@code FOLDED} form folds it as any other bias.
     */
    private static Optional<String> accumulatedBias(Layer layer, OnnxGraph g, String name) {
        QuantizedLayer lsq = (QuantizedLayer) layer;
        Quantizer w = lsq.lsqConf().getWeightQuantizer();
        if (w == null || lsq.lsqConf().getInputQuantizer() == null) {
            return Optional.of(floatBias(layer, g, name, layer.getParam(LsqLayerConfig.BIAS_KEY).length()));
        }
        return BiasCodes.of(lsq.integerParams()).map(b -> {
            String codes = g.int32s(name + "_b", b.codes());
            if (!w.isPerChannel()) {
                return g.node("DequantizeLinear", name + "_b_dq", List.of(codes, g.scalar(name + "_b_step", b.scales()[0])));
            }
            return g.node("DequantizeLinear", name + "_b_dq", List.of(codes,
                    g.floats(name + "_b_step", Nd4j.createFromArray(b.scales()))), OnnxGraph.attr("axis", 0L));
        });
    }

    /** @return an LSQ layer's bias as a float initializer {@code L_b} of the given shape */
    private static String floatBias(Layer layer, OnnxGraph g, String name, long... shape) {
        return g.floats(name + "_b", layer.getParam(LsqLayerConfig.BIAS_KEY).reshape(shape));
    }

    // ---------------------------------------------------------------- stock layers

    private static String conv(Layer layer, String input, OnnxGraph g) {
        ConvolutionLayer conf = (ConvolutionLayer) layer.conf().getLayer();
        if (conf.getCnn2dDataFormat() != null && conf.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException(describe(layer) + ": only NCHW convolutions are exported");
        }
        String name = name(layer);
        List<String> inputs = withBias(layer, g, conf.hasBias(), DefaultParamInitializer.BIAS_KEY, input,
                g.floats(name + "_w", layer.getParam(DefaultParamInitializer.WEIGHT_KEY)));
        String conv = g.node("Conv", name, inputs, convAttributes(conf.getKernelSize(), conf.getStride(),
                conf.getPadding(), conf.getDilation(), conf.getConvolutionMode(), describe(layer)));
        return OnnxActivations.apply(g, conf.getActivationFn(), conv, name + "_act", describe(layer));
    }

    /**
     * A convolution's inputs: data, weights, and the float bias {@code [nOut]} if the layer has one.
     *
     * @param biasKey the bias parameter's key
     */
    static List<String> withBias(Layer layer, OnnxGraph g, boolean hasBias, String biasKey, String input,
                                 String weights) {
        List<String> inputs = new ArrayList<>(List.of(input, weights));
        if (hasBias) {
            INDArray b = layer.getParam(biasKey);
            inputs.add(g.floats(name(layer) + "_b", b.reshape(b.length())));
        }
        return inputs;
    }

    /** DenseLayer and OutputLayer: weights {@code [nIn, nOut]}, bias {@code [1, nOut]}. */
    static String dense(Layer layer, String input, OnnxGraph g) {
        BaseLayer conf = (BaseLayer) layer.conf().getLayer();
        if (conf instanceof DenseLayer d && d.hasLayerNorm()) {
            throw new IllegalArgumentException(describe(layer) + ": layer normalization has no ONNX export here");
        }
        String name = name(layer);
        String w = g.floats(name + "_w", layer.getParam(DefaultParamInitializer.WEIGHT_KEY));
        INDArray b = layer.getParam(DefaultParamInitializer.BIAS_KEY);
        String bias = b == null ? null : g.floats(name + "_b", b.reshape(b.length()));
        return affine(g, name, input, w, bias, conf.getActivationFn(), describe(layer));
    }

    /** {@code activation(x . w + b)}; {@code bias} is the name of the bias in the graph, or null. */
    private static String affine(OnnxGraph g, String name, String x, String w, String bias,
                                 org.nd4j.linalg.activations.IActivation activation, String layer) {
        String z = g.node("MatMul", name + "_mm", List.of(x, w));
        if (bias != null) {
            z = g.node("Add", name, List.of(z, bias));
        }
        return OnnxActivations.apply(g, activation, z, name + "_act", layer);
    }

    private static String batchNorm(Layer layer, String input, OnnxGraph g) {
        BatchNormalization conf = (BatchNormalization) layer.conf().getLayer();
        String name = name(layer);
        INDArray mean = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        long n = mean.length();
        INDArray variance = conf.isUseLogStd()
                ? Transforms.pow(Transforms.pow(Nd4j.valueArrayOf(layer.getParam(
                        BatchNormalizationParamInitializer.GLOBAL_LOG_STD).shape(), 10.0, mean.dataType()),
                        layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)), 2)
                : layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
        INDArray gamma = conf.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[] {n}, conf.getGamma(), mean.dataType())
                : layer.getParam(BatchNormalizationParamInitializer.GAMMA);
        INDArray beta = conf.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[] {n}, conf.getBeta(), mean.dataType())
                : layer.getParam(BatchNormalizationParamInitializer.BETA);
        // No activation: DL4J's batch-norm layer ignores the one its configuration holds.
        return g.node("BatchNormalization", name, List.of(input, g.floats(name + "_gamma", gamma.reshape(n)),
                        g.floats(name + "_beta", beta.reshape(n)), g.floats(name + "_mean", mean.reshape(n)),
                        g.floats(name + "_var", variance.reshape(n))),
                OnnxGraph.attr("epsilon", (float) conf.getEps()));
    }

    private static String pooling(Layer layer, String input, OnnxGraph g) {
        SubsamplingLayer conf = (SubsamplingLayer) layer.conf().getLayer();
        String name = name(layer);
        List<onnx.Onnx.AttributeProto> attrs = new ArrayList<>(List.of(convAttributes(conf.getKernelSize(),
                conf.getStride(), conf.getPadding(), conf.getDilation(), conf.getConvolutionMode(), describe(layer))));
        PoolingType type = conf.getPoolingType();
        if (type == PoolingType.MAX) {
            return g.node("MaxPool", name, List.of(input), attrs.toArray(onnx.Onnx.AttributeProto[]::new));
        }
        attrs.removeIf(a -> a.getName().equals("dilations"));
        if (type == PoolingType.AVG) {
            attrs.add(OnnxGraph.attr("count_include_pad", conf.isAvgPoolIncludePadInDivisor() ? 1L : 0L));
            return g.node("AveragePool", name, List.of(input), attrs.toArray(onnx.Onnx.AttributeProto[]::new));
        }
        if (type == PoolingType.PNORM) {
            attrs.add(OnnxGraph.attr("p", (long) conf.getPnorm()));
            return g.node("LpPool", name, List.of(input), attrs.toArray(onnx.Onnx.AttributeProto[]::new));
        }
        throw new IllegalArgumentException(describe(layer) + ": pooling type " + type + " has no ONNX export");
    }

    private static String globalPooling(Layer layer, String input, OnnxGraph g) {
        GlobalPoolingLayer conf = (GlobalPoolingLayer) layer.conf().getLayer();
        String name = name(layer);
        int[] dims = conf.getPoolingDimensions();
        if (dims != null && !(dims.length == 2 && dims[0] == 2 && dims[1] == 3)) {
            throw new IllegalArgumentException(describe(layer) + ": only pooling over the spatial axes (2, 3) of "
                    + "NCHW data is exported, got " + java.util.Arrays.toString(dims));
        }
        String op = switch (conf.getPoolingType()) {
            case AVG -> "GlobalAveragePool";
            case MAX -> "GlobalMaxPool";
            default -> throw new IllegalArgumentException(describe(layer) + ": global pooling type "
                    + conf.getPoolingType() + " has no ONNX export");
        };
        String pooled = g.node(op, name, List.of(input));
        return conf.isCollapseDimensions() ? g.node("Flatten", name + "_flatten", List.of(pooled),
                OnnxGraph.attr("axis", 1L)) : pooled;
    }

    /** ActivationLayer and LossLayer: only their activation. */
    static String activationOnly(Layer layer, String input, OnnxGraph g) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        org.nd4j.linalg.activations.IActivation fn = conf instanceof ActivationLayer a ? a.getActivationFn()
                : ((BaseLayer) conf).getActivationFn();
        return OnnxActivations.apply(g, fn, input, name(layer), describe(layer));
    }

    private static String zeroPadding(Layer layer, String input, OnnxGraph g) {
        ZeroPaddingLayer conf = (ZeroPaddingLayer) layer.conf().getLayer();
        int[] p = conf.getPadding(); // top, bottom, left, right
        String pads = g.int64s(name(layer) + "_pads", 0, 0, p[0], p[2], 0, 0, p[1], p[3]);
        return g.node("Pad", name(layer), List.of(input, pads));
    }

    /** Kernel, strides, dilations and padding of a convolution or pooling, as ONNX attributes. */
    static onnx.Onnx.AttributeProto[] convAttributes(int[] kernel, int[] stride, int[] padding, int[] dilation,
                                                            ConvolutionMode mode, String layer) {
        List<onnx.Onnx.AttributeProto> attrs = new ArrayList<>(List.of(
                OnnxGraph.attr("kernel_shape", kernel[0], kernel[1]),
                OnnxGraph.attr("strides", stride[0], stride[1]),
                OnnxGraph.attr("dilations", dilation == null ? 1 : dilation[0], dilation == null ? 1 : dilation[1])));
        switch (mode == null ? ConvolutionMode.Truncate : mode) {
            // DL4J's Same mode pads the floor of half the total at the top and left, as SAME_UPPER does.
            case Same -> attrs.add(OnnxGraph.attr("auto_pad", "SAME_UPPER"));
            case Truncate, Strict -> attrs.add(OnnxGraph.attr("pads", padding[0], padding[1], padding[0], padding[1]));
            default -> throw new IllegalArgumentException(layer + ": convolution mode " + mode + " has no ONNX export");
        }
        return attrs.toArray(onnx.Onnx.AttributeProto[]::new);
    }

}
