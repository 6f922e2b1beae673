package io.github.lsq4j.export;

import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.layers.objdetect.Yolo2OutputLayer;
import org.deeplearning4j.nn.params.DeconvolutionParamInitializer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.params.SeparableConvolutionParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The export of DL4J's float layers that resize, crop, rearrange, normalize or convolve NCHW feature maps
 * channel by channel, as the zoo's vision networks use them (UNet, TinyYOLO/YOLO2, AlexNet, FaceNet,
 * Xception). Each computes what
 * the DL4J layer computes; a data format other than NCHW is refused naming the layer.
 */
final class SpatialExporters {
    private SpatialExporters() {
    }

    /** Nearest-neighbour upsampling by whole factors: each pixel repeated, as DL4J does. */
    static String upsampling(Layer layer, String input, OnnxGraph g) {
        Upsampling2D conf = (Upsampling2D) layer.conf().getLayer();
        requireNchw(layer, conf.getFormat());
        int[] size = conf.getSize();
        String name = LayerExporters.name(layer);
        String scales = g.floats(name + "_scales", org.nd4j.linalg.factory.Nd4j.createFromArray(1f, 1f,
                (float) size[0], (float) size[size.length > 1 ? 1 : 0]));
        return g.node("Resize", name, List.of(input, "", scales), OnnxGraph.attr("mode", "nearest"),
                OnnxGraph.attr("coordinate_transformation_mode", "asymmetric"), OnnxGraph.attr("nearest_mode", "floor"));
    }

    /** Cropping of {top, bottom, left, right} rows and columns: a Slice, with ends counted from the end. */
    static String cropping(Layer layer, String input, OnnxGraph g) {
        Cropping2D conf = (Cropping2D) layer.conf().getLayer();
        requireNchw(layer, conf.getDataFormat());
        int[] c = conf.getCropping();
        String name = LayerExporters.name(layer);
        return g.node("Slice", name, List.of(input, g.int64s(name + "_starts", c[0], c[2]),
                g.int64s(name + "_ends", end(c[1]), end(c[3])), g.int64s(name + "_axes", 2, 3)));
    }

    private static long end(int cropped) {
        return cropped == 0 ? Long.MAX_VALUE : -cropped;
    }

    /** Blocks of {@code b x b} pixels into channels, in the order ONNX's SpaceToDepth and DL4J share. */
    static String spaceToDepth(Layer layer, String input, OnnxGraph g) {
        SpaceToDepthLayer conf = (SpaceToDepthLayer) layer.conf().getLayer();
        requireNchw(layer, conf.getDataFormat());
        return g.node("SpaceToDepth", LayerExporters.name(layer), List.of(input),
                OnnxGraph.attr("blocksize", (long) conf.getBlockSize()));
    }

    /**
     * DL4J's {@code x * (k + alpha * sum of x^2 over the 2*floor(n/2)+1 nearest channels)^-beta}: ONNX's LRN
     * divides alpha by the window's size, so it gets {@code alpha * size}.
     */
    static String localResponseNormalization(Layer layer, String input, OnnxGraph g) {
        LocalResponseNormalization conf = (LocalResponseNormalization) layer.conf().getLayer();
        requireNchw(layer, conf.getDataFormat());
        long size = 2L * ((int) conf.getN() / 2) + 1;
        return g.node("LRN", LayerExporters.name(layer), List.of(input), OnnxGraph.attr("size", size),
                OnnxGraph.attr("alpha", (float) (conf.getAlpha() * size)), OnnxGraph.attr("beta", (float) conf.getBeta()),
                OnnxGraph.attr("bias", (float) conf.getK()));
    }

    /** Transposed convolution: DL4J's {@code [nIn, nOut, kH, kW]} weights are ONNX's ConvTranspose layout. */
    static String deconvolution(Layer layer, String input, OnnxGraph g) {
        Deconvolution2D conf = (Deconvolution2D) layer.conf().getLayer();
        requireNchw(layer, conf.getCnn2dDataFormat());
        String name = LayerExporters.name(layer);
        List<String> inputs = LayerExporters.withBias(layer, g, conf.hasBias(), DeconvolutionParamInitializer.BIAS_KEY,
                input, g.floats(name + "_w", layer.getParam(DeconvolutionParamInitializer.WEIGHT_KEY)));
        String deconv = g.node("ConvTranspose", name, inputs, LayerExporters.convAttributes(conf.getKernelSize(),
                conf.getStride(), conf.getPadding(), conf.getDilation(), conf.getConvolutionMode(),
                LayerExporters.describe(layer)));
        return OnnxActivations.apply(g, conf.getActivationFn(), deconv, name + "_act", LayerExporters.describe(layer));
    }

    /**
     * Depthwise then pointwise convolution. DL4J's depthwise weights {@code [m, nIn, kH, kW]} become
     * ONNX's grouped kernel {@code [nIn * m, 1, kH, kW]} (output channel {@code c * m + j}, as DL4J orders
     * them); the pointwise weights {@code [nOut, nIn * m, 1, 1]} are ONNX's layout already.
     */
    static String separable(Layer layer, String input, OnnxGraph g) {
        SeparableConvolution2D conf = (SeparableConvolution2D) layer.conf().getLayer();
        requireNchw(layer, conf.getCnn2dDataFormat());
        String name = LayerExporters.name(layer);
        INDArray w = layer.getParam(SeparableConvolutionParamInitializer.DEPTH_WISE_WEIGHT_KEY);
        String depthwise = g.node("Conv", name + "_depthwise", List.of(input, g.floats(name + "_dw",
                        grouped(w.permute(1, 0, 2, 3)))), groupedAttributes(layer, conf, conf.getNIn()));
        List<String> inputs = LayerExporters.withBias(layer, g, conf.hasBias(), SeparableConvolutionParamInitializer.BIAS_KEY,
                depthwise, g.floats(name + "_pw", layer.getParam(SeparableConvolutionParamInitializer.POINT_WISE_WEIGHT_KEY)));
        String pointwise = g.node("Conv", name, inputs, OnnxGraph.attr("kernel_shape", 1, 1));
        return OnnxActivations.apply(g, conf.getActivationFn(), pointwise, name + "_act", LayerExporters.describe(layer));
    }

    /** DL4J's depthwise weights {@code [kH, kW, nIn, m]} as ONNX's grouped kernel {@code [nIn * m, 1, kH, kW]}. */
    static String depthwise(Layer layer, String input, OnnxGraph g) {
        DepthwiseConvolution2D conf = (DepthwiseConvolution2D) layer.conf().getLayer();
        requireNchw(layer, conf.getCnn2dDataFormat());
        String name = LayerExporters.name(layer);
        INDArray w = layer.getParam(DepthwiseConvolutionParamInitializer.WEIGHT_KEY);
        List<String> inputs = LayerExporters.withBias(layer, g, conf.hasBias(), DepthwiseConvolutionParamInitializer.BIAS_KEY,
                input, g.floats(name + "_w", grouped(w.permute(2, 3, 0, 1))));
        String conv = g.node("Conv", name, inputs, groupedAttributes(layer, conf, conf.getNIn()));
        return OnnxActivations.apply(g, conf.getActivationFn(), conv, name + "_act", LayerExporters.describe(layer));
    }

    /**
     * YOLOv2's output layer at inference ({@code YoloUtils.activate}): per box {@code b} of the priors, the
     * channels {@code [x, y, w, h, confidence, classes...]} become sigmoid of x and y, {@code prior * exp}
     * of w and h, sigmoid of the confidence and the softmax of the classes, in place.
     */
    static String yolo2(Layer layer, String input, OnnxGraph g) {
        Yolo2OutputLayer conf = (Yolo2OutputLayer) layer.conf().getLayer();
        requireNchw(layer, conf.getFormat());
        String name = LayerExporters.name(layer);
        INDArray priors = conf.getBoundingBoxes();
        long boxes = priors.size(0);
        String shape = g.node("Shape", name + "_shape", List.of(input));
        String perBoxShape = g.node("Concat", name + "_box_shape", List.of(
                g.node("Slice", name + "_n", List.of(shape, g.int64s(name + "_n_start", 0), g.int64s(name + "_n_end", 1))),
                g.int64s(name + "_box_dims", boxes, -1),
                g.node("Slice", name + "_hw", List.of(shape, g.int64s(name + "_hw_start", 2), g.int64s(name + "_hw_end", 4)))),
                OnnxGraph.attr("axis", 0L));
        String perBox = g.node("Reshape", name + "_boxes", List.of(input, perBoxShape)); // [N, B, 5 + C, H, W]
        String axis = g.int64s(name + "_axis", 2);
        java.util.function.BiFunction<Long, Long, String> channels = (from, to) -> g.node("Slice",
                name + "_ch" + from, List.of(perBox, g.int64s(name + "_from" + from, from), g.int64s(name + "_to" + from, to),
                        axis));
        String xy = g.node("Sigmoid", name + "_xy", List.of(channels.apply(0L, 2L)));
        String wh = g.node("Mul", name + "_wh", List.of(g.node("Exp", name + "_exp", List.of(channels.apply(2L, 4L))),
                g.floats(name + "_priors", priors.reshape(1, boxes, 2, 1, 1))));
        String confidence = g.node("Sigmoid", name + "_conf", List.of(channels.apply(4L, 5L)));
        String classes = g.node("Softmax", name + "_classes", List.of(channels.apply(5L, Long.MAX_VALUE)),
                OnnxGraph.attr("axis", 2L));
        String joined = g.node("Concat", name + "_joined", List.of(xy, wh, confidence, classes), OnnxGraph.attr("axis", 2L));
        return g.node("Reshape", name, List.of(joined, shape));
    }

    /** {@code [nIn, m, kH, kW]} as {@code [nIn * m, 1, kH, kW]}. */
    private static INDArray grouped(INDArray perInputChannel) {
        long[] s = perInputChannel.shape();
        return perInputChannel.dup('c').reshape('c', s[0] * s[1], 1, s[2], s[3]);
    }

    private static onnx.Onnx.AttributeProto[] groupedAttributes(Layer layer, ConvolutionLayer conf, long groups) {
        List<onnx.Onnx.AttributeProto> attrs = new java.util.ArrayList<>(List.of(LayerExporters.convAttributes(
                conf.getKernelSize(), conf.getStride(), conf.getPadding(), conf.getDilation(), conf.getConvolutionMode(),
                LayerExporters.describe(layer))));
        attrs.add(OnnxGraph.attr("group", groups));
        return attrs.toArray(onnx.Onnx.AttributeProto[]::new);
    }

    private static void requireNchw(Layer layer, CNN2DFormat format) {
        if (format != null && format != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException(LayerExporters.describe(layer) + ": only NCHW data is exported, got "
                    + format);
        }
    }
}
