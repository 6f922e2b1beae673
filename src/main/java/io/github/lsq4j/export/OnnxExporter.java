package io.github.lsq4j.export;

import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.train.ModelFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.L2NormalizeVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.ShiftVertex;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a trained network, LSQ layers and DL4J's stock layers around them, as an ONNX model in the
 * QDQ form that deployment runtimes (ONNX Runtime, TensorRT, OpenVINO) read: every LSQ layer's weights
 * as their integer codes (INT4, packed two per byte, up to 4 bits; INT8 above) followed by a
 * DequantizeLinear whose scale is the learned step (per tensor, or per output channel with
 * {@code axis}), and every quantized layer input as the paper quantizes it: Clip to
 * {@code [-Qn*s, Qp*s]} where the range is narrower than 8 bits, QuantizeLinear and DequantizeLinear
 * with the learned step {@code s}. Everything else (bias, batch norm, pooling, residual adds,
 * activations, softmax, float layers) is written as standard ONNX operators in float. Opset
 * {@value #OPSET} (the first with INT4 tensors).
 *
 * <p>The codes and steps written are exactly {@link LsqLayers#integerParams}: nothing is recomputed.
 * Rounding: the weight codes are lsq4j's (half away from zero, as in training); the inputs are rounded
 * by the runtime's QuantizeLinear, which rounds half to even, the ONNX rule. The two differ only on
 * exact ties, which the README quantifies.
 *
 * <p>The graph has one input per network input, named as in the network ({@code input} for a
 * MultiLayerNetwork), of shape {@code [batch, ...]}, and one output per network output, named as in
 * the network ({@code output} for a MultiLayerNetwork). A quantized layer {@code L} stores its weight
 * codes as {@code L_w}, their step(s) as {@code L_w_step}, its input step as {@code L_x_step} and its
 * bias codes as {@code L_b} with {@code L_b_step}: short names, since in a 4-bit model of a small
 * network the names weigh a few percent of the file.
 *
 * <p>Each quantized layer's bias is written as ONNX Runtime runs it with integer kernels: INT32 codes in
 * the accumulator's unit {@code s_x * s_w} (see {@link BiasCodes}), which moves outputs by at most half
 * that unit against lsq4j's float bias. Where a code does not fit in INT32 (a nearly dead input, whose
 * step is nearly zero), the layer's bias stays float, {@code L_b}, added after the layer by an Add (for
 * a convolution, of shape {@code [1, C, 1, 1]}), and the export says so at INFO.
 */
public final class OnnxExporter {
    /** The ONNX operator set the export uses. */
    public static final int OPSET = 21;
    /** The ONNX IR version of opset 21. */
    static final int IR_VERSION = 10;
    /** The name of a MultiLayerNetwork's input in the ONNX graph. */
    public static final String MLN_INPUT = "input";
    /** The name of a MultiLayerNetwork's output in the ONNX graph. */
    public static final String MLN_OUTPUT = "output";

    private static final Logger log = LoggerFactory.getLogger(OnnxExporter.class);

    private OnnxExporter() {
    }

    /**
     * Exports a network with one input, writing the file atomically (a complete file, or the previous
     * one left as it was).
     *
     * @param net        a trained MultiLayerNetwork or ComputationGraph
     * @param file       the ONNX file
     * @param inputShape the shape of one example, without the batch axis (e.g. {@code 1, 28, 28})
     * @throws IOException              if writing fails
     * @throws IllegalArgumentException naming the layer and its kind if a layer has no export
     * @throws IllegalStateException    if an LSQ layer's input step was never initialized
     */
    public static void export(Model net, Path file, long... inputShape) throws IOException {
        export(net, file, OnnxFormat.QDQ, inputShape);
    }

    /**
     * Exports a network with one input in the given form, writing the file atomically.
     *
     * @param net        a trained MultiLayerNetwork or ComputationGraph
     * @param file       the ONNX file
     * @param format     QDQ for accelerator toolchains, FOLDED for ONNX Runtime on CPU
     * @param inputShape the shape of one example, without the batch axis (e.g. {@code 1, 28, 28})
     * @throws IOException              if writing fails
     * @throws IllegalArgumentException naming the layer and its kind if a layer has no export
     * @throws IllegalStateException    if an LSQ layer's input step was never initialized
     */
    public static void export(Model net, Path file, OnnxFormat format, long... inputShape) throws IOException {
        Onnx.ModelProto model = toOnnx(net, format, inputShape);
        ModelFiles.writeAtomically(file, tmp -> {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                model.writeTo(out);
            }
        });
        log.info("exported {} to {} ({} bytes)", net.getClass().getSimpleName(), file, Files.size(file));
    }

    /**
     * The ONNX model of a network with one input.
     *
     * @param net        a trained MultiLayerNetwork or ComputationGraph
     * @param inputShape the shape of one example, without the batch axis
     * @return the model
     */
    public static Onnx.ModelProto toOnnx(Model net, long... inputShape) {
        return toOnnx(net, OnnxFormat.QDQ, inputShape);
    }

    /**
     * The ONNX model of a network with one input, in the given form.
     *
     * @param net        a trained MultiLayerNetwork or ComputationGraph
     * @param format     QDQ or FOLDED
     * @param inputShape the shape of one example, without the batch axis
     * @return the model
     */
    public static Onnx.ModelProto toOnnx(Model net, OnnxFormat format, long... inputShape) {
        Onnx.ModelProto qdq = qdq(net, inputShape);
        return format == OnnxFormat.FOLDED ? Folding.fold(qdq) : qdq;
    }

    private static Onnx.ModelProto qdq(Model net, long... inputShape) {
        if (net instanceof MultiLayerNetwork mln) {
            return model(multiLayerNetwork(mln, inputShape));
        }
        if (net instanceof ComputationGraph cg) {
            List<String> inputs = cg.getConfiguration().getNetworkInputs();
            if (inputs.size() != 1) {
                throw new IllegalArgumentException("the graph has " + inputs.size() + " inputs " + inputs
                        + "; give a shape per input with toOnnx(graph, shapes)");
            }
            return toOnnx(cg, Map.of(inputs.get(0), inputShape));
        }
        throw new IllegalArgumentException("expected a MultiLayerNetwork or ComputationGraph, got "
                + (net == null ? "null" : net.getClass().getName()));
    }

    /**
     * The ONNX model of a ComputationGraph.
     *
     * @param graph       a trained graph
     * @param inputShapes the shape of one example of each network input, without the batch axis
     * @return the model
     */
    public static Onnx.ModelProto toOnnx(ComputationGraph graph, Map<String, long[]> inputShapes) {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        OnnxGraph g = new OnnxGraph("lsq4j");
        conf.getNetworkOutputs().forEach(g::reserve);
        Map<String, String> outputs = new HashMap<>();
        for (String input : conf.getNetworkInputs()) {
            long[] shape = inputShapes.get(input);
            if (shape == null) {
                throw new IllegalArgumentException("no shape given for network input '" + input + "' (given: "
                        + inputShapes.keySet() + ")");
            }
            g.proto().addInput(OnnxGraph.batchedFloat(g.unique(input), shape));
            outputs.put(input, input);
        }
        for (int index : graph.topologicalSortOrder()) {
            String name = graph.getVertices()[index].getVertexName();
            if (outputs.containsKey(name)) {
                continue;
            }
            List<String> in = conf.getVertexInputs().get(name).stream().map(outputs::get).toList();
            outputs.put(name, vertex(g, name, conf.getVertices().get(name), graph.getLayer(name), in));
        }
        conf.getNetworkOutputs().forEach(output -> g.output(output, outputs.get(output)));
        return model(g);
    }

    private static OnnxGraph multiLayerNetwork(MultiLayerNetwork net, long[] inputShape) {
        OnnxGraph g = new OnnxGraph("lsq4j");
        g.reserve(MLN_OUTPUT);
        g.proto().addInput(OnnxGraph.batchedFloat(g.unique(MLN_INPUT), inputShape));
        String x = MLN_INPUT;
        for (int i = 0; i < net.getnLayers(); i++) {
            InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
            if (pre != null) {
                x = preProcessor(g, pre, x, "layer" + i);
            }
            Layer layer = LsqLayers.unwrap(net.getLayer(i));
            x = LayerExporters.forLayer(layer).export(layer, x, g);
        }
        g.output(MLN_OUTPUT, x);
        return g;
    }

    private static String vertex(OnnxGraph g, String name, GraphVertex vertex, Layer layer, List<String> inputs) {
        if (vertex instanceof LayerVertex lv) {
            String x = single(name, inputs);
            if (lv.getPreProcessor() != null) {
                x = preProcessor(g, lv.getPreProcessor(), x, name);
            }
            Layer inner = LsqLayers.unwrap(layer);
            return LayerExporters.forLayer(inner).export(inner, x, g);
        }
        if (vertex instanceof ElementWiseVertex ew) {
            String op = switch (ew.getOp()) {
                case Add -> "Sum";
                case Subtract -> "Sub";
                case Product -> "Mul";
                case Average -> "Mean";
                case Max -> "Max";
            };
            if (op.equals("Mul") && inputs.size() > 2) {
                String product = inputs.get(0);
                for (String in : inputs.subList(1, inputs.size())) {
                    product = g.node("Mul", name, List.of(product, in));
                }
                return product;
            }
            return g.node(op, name, inputs);
        }
        if (vertex instanceof ScaleVertex sv) {
            return g.node("Mul", name, List.of(single(name, inputs), g.scalar(name + "_factor", (float) sv.getScaleFactor())));
        }
        if (vertex instanceof ShiftVertex sv) {
            return g.node("Add", name, List.of(single(name, inputs), g.scalar(name + "_shift", (float) sv.getShiftFactor())));
        }
        if (vertex instanceof L2NormalizeVertex l2) {
            return l2Normalize(g, name, single(name, inputs), l2);
        }
        if (vertex instanceof MergeVertex) {
            return g.node("Concat", name, inputs, OnnxGraph.attr("axis", 1L));
        }
        if (vertex instanceof PreprocessorVertex pv) {
            return preProcessor(g, pv.getPreProcessor(), single(name, inputs), name);
        }
        throw new IllegalArgumentException("vertex '" + name + "': kind " + vertex.getClass().getSimpleName()
                + " has no ONNX export (exported: layers, ElementWiseVertex, MergeVertex, PreprocessorVertex, "
                + "ScaleVertex, ShiftVertex, L2NormalizeVertex)");
    }

    /**
     * DL4J's {@code x / max(||x||_2, eps)}, the norm over the given axes or, by default, over every axis but
     * the batch's (then taken on the flattened example and reshaped back, whatever the rank).
     */
    private static String l2Normalize(OnnxGraph g, String name, String x, L2NormalizeVertex vertex) {
        String eps = g.scalar(name + "_eps", (float) vertex.getEps());
        int[] dims = vertex.getDimension();
        if (dims != null && dims.length > 0) {
            String norm = g.node("ReduceL2", name + "_norm", List.of(x, g.int64s(name + "_axes",
                    java.util.Arrays.stream(dims).asLongStream().toArray())), OnnxGraph.attr("keepdims", 1L));
            return g.node("Div", name, List.of(x, g.node("Max", name + "_guarded", List.of(norm, eps))));
        }
        String flat = g.node("Flatten", name + "_flat", List.of(x), OnnxGraph.attr("axis", 1L));
        String norm = g.node("ReduceL2", name + "_norm", List.of(flat, g.int64s(name + "_axes", 1)),
                OnnxGraph.attr("keepdims", 1L));
        String normalized = g.node("Div", name + "_div", List.of(flat, g.node("Max", name + "_guarded",
                List.of(norm, eps))));
        return g.node("Reshape", name, List.of(normalized, g.node("Shape", name + "_shape", List.of(x))));
    }

    private static String preProcessor(OnnxGraph g, InputPreProcessor pre, String input, String name) {
        if (pre instanceof CnnToFeedForwardPreProcessor) {
            // NCHW flattened in C order, as DL4J does.
            return g.node("Flatten", name + "_flatten", List.of(input), OnnxGraph.attr("axis", 1L));
        }
        if (pre instanceof FeedForwardToCnnPreProcessor f) {
            String shape = g.int64s(name + "_shape", -1, f.getNumChannels(), f.getInputHeight(), f.getInputWidth());
            return g.node("Reshape", name + "_reshape", List.of(input, shape));
        }
        throw new IllegalArgumentException("before '" + name + "': preprocessor " + pre.getClass().getSimpleName()
                + " has no ONNX export");
    }

    private static String single(String name, List<String> inputs) {
        if (inputs.size() != 1) {
            throw new IllegalArgumentException("vertex '" + name + "' has " + inputs.size() + " inputs " + inputs
                    + "; a layer takes one");
        }
        return inputs.get(0);
    }

    private static Onnx.ModelProto model(OnnxGraph g) {
        return Onnx.ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("lsq4j")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.proto()).build();
    }
}
