package io.github.lsq4j.export;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import onnx.Onnx;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.protobuf.ByteString;

/**
 * Turns the QDQ export into the form ONNX Runtime's CPU provider runs fastest while computing what the
 * QDQ model computes (to float rounding). ONNX Runtime fuses QDQ into an integer convolution only when a
 * QuantizeLinear follows the convolution, which the QDQ form of an LSQ network never has (batch norm,
 * activations and residual adds follow in float), so it runs those convolutions in float on weights it
 * dequantizes on every call. Here, per quantized layer:
 *
 * <ul>
 *   <li>a batch norm that is a convolution's only consumer is folded in: its per-channel factor
 *       {@code a = gamma / sqrt(var + eps)} scales the weights, its shift joins the bias;</li>
 *   <li>a convolution becomes a float convolution on the input codes whose weights
 *       {@code codes * s_w * a * s_x} ONNX Runtime computes once, when it loads the model, from the 4-bit
 *       codes in the file: no dequantization on the per-call path, and the runtime's fastest float
 *       kernel;</li>
 *   <li>a dense layer becomes {@code MatMulInteger} (exact INT32 accumulation) and one float multiply-add
 *       per output, {@code acc * s_x * s_w + bias}.</li>
 * </ul>
 *
 * Why convolutions do not run as integer kernels (measured, BENCHMARKS.md): {@code QLinearConv} must
 * requantize its output, which is exact only where the output goes to the next layer's input quantizer
 * alone, and even there its INT32 bias (the folded batch-norm shift in the accumulator's unit) flipped
 * 0.03 to 1.7 % of the next layer's codes on the demo's 4-bit ResNet-8 (top-1 agreement 99.50 %);
 * ONNX Runtime 1.23's {@code ConvInteger} takes unsigned weights only and ran ResNet-8 4x slower than
 * float. Signed input codes are written as UINT8 with zero point 128 (the same codes, shifted), the
 * activation type ONNX Runtime's x86 integer kernels take.
 */
final class Folding {
    private static final String Q = "QuantizeLinear";
    private final Onnx.GraphProto.Builder graph;
    private final Map<String, Onnx.TensorProto> initializers = new HashMap<>();
    private final Map<String, Onnx.NodeProto> producers = new HashMap<>();
    private final Map<String, List<Onnx.NodeProto>> consumers = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    private final Set<Onnx.NodeProto> removed = new HashSet<>();
    /** New nodes, each list put in place of the node it replaces. */
    private final Map<Onnx.NodeProto, List<Onnx.NodeProto>> replacements = new LinkedHashMap<>();
    /** Where the new initializers go, and the names they and the new nodes take. */
    private final OnnxGraph additions;

    private Folding(Onnx.GraphProto.Builder graph) {
        this.graph = graph;
        this.additions = new OnnxGraph(graph);
    }

    /**
     * @param qdq a model written by {@link OnnxExporter} in the QDQ form
     * @return the same network in the folded form
     */
    static Onnx.ModelProto fold(Onnx.ModelProto qdq) {
        Onnx.ModelProto.Builder model = qdq.toBuilder();
        new Folding(model.getGraphBuilder()).run();
        return model.build();
    }

    private void run() {
        shiftSignedCodesToUnsigned();
        index();
        for (Onnx.NodeProto node : new ArrayList<>(graph.getNodeList())) {
            if (node.getOpType().equals("Conv") || node.getOpType().equals("MatMul")) {
                FoldedLayer layer = FoldedLayer.match(this, node);
                if (layer != null) {
                    foldLayer(layer);
                }
            }
        }
        rebuild();
    }

    // ---------------------------------------------------------------- graph bookkeeping

    /** INT8 zero points of QuantizeLinear nodes (signed input codes) become UINT8 128: the same codes, shifted. */
    private void shiftSignedCodesToUnsigned() {
        Set<String> inputZeroPoints = new HashSet<>();
        graph.getNodeList().stream().filter(n -> n.getOpType().equals(Q) && n.getInputCount() > 2)
                .forEach(n -> inputZeroPoints.add(n.getInput(2)));
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            Onnx.TensorProto t = graph.getInitializer(i);
            if (t.getDataType() == OnnxGraph.INT8 && t.getDimsCount() == 0 && inputZeroPoints.contains(t.getName())) {
                graph.setInitializer(i, t.toBuilder().setDataType(OnnxGraph.UINT8)
                        .setRawData(ByteString.copyFrom(new byte[] {(byte) (t.getRawData().byteAt(0) + 128)})));
            }
        }
    }

    private void index() {
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        graph.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
        for (Onnx.NodeProto n : graph.getNodeList()) {
            n.getOutputList().forEach(o -> producers.put(o, n));
            n.getInputList().forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n));
        }
    }

    Onnx.NodeProto producer(String tensor, String opType) {
        Onnx.NodeProto p = producers.get(tensor);
        return p != null && p.getOpType().equals(opType) ? p : null;
    }

    /** The only node reading {@code tensor}, if exactly one does and it is not a graph output. */
    Onnx.NodeProto soleConsumer(String tensor) {
        List<Onnx.NodeProto> c = consumers.getOrDefault(tensor, List.of());
        return c.size() == 1 && !graphOutputs.contains(tensor) ? c.get(0) : null;
    }

    Onnx.TensorProto initializer(String name) {
        return initializers.get(name);
    }

    private void rebuild() {
        List<Onnx.NodeProto> nodes = new ArrayList<>();
        for (Onnx.NodeProto n : graph.getNodeList()) {
            List<Onnx.NodeProto> replacement = replacements.get(n);
            if (replacement != null) {
                nodes.addAll(replacement);
            } else if (!removed.contains(n)) {
                nodes.add(n);
            }
        }
        graph.clearNode().addAllNode(nodes);
        Set<String> used = new HashSet<>();
        nodes.forEach(n -> used.addAll(n.getInputList()));
        List<Onnx.TensorProto> kept = graph.getInitializerList().stream().filter(t -> used.contains(t.getName())).toList();
        graph.clearInitializer().addAllInitializer(kept);
    }

    // ---------------------------------------------------------------- folding one layer

    private void foldLayer(FoldedLayer layer) {
        removed.addAll(layer.replacedNodes());
        List<Onnx.NodeProto> nodes = new ArrayList<>();
        if (layer.isConv()) {
            floatConv(layer, nodes);
        } else {
            matMulInteger(layer, nodes);
        }
        replacements.put(layer.node(), nodes);
    }

    /**
     * {@code MatMulInteger} (unsigned input codes, signed weight codes, exact INT32 accumulation), then
     * {@code acc * s_x * s_w + bias} per output unit in float.
     */
    private void matMulInteger(FoldedLayer layer, List<Onnx.NodeProto> nodes) {
        int channels = layer.channels();
        float[] scales = new float[channels];
        float[] offsets = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = (float) (layer.inputStep() * layer.weightStep(c) * layer.factor(c));
            offsets[c] = (float) layer.offset(c);
        }
        String acc = additions.unique(layer.name() + "_acc");
        String w = weights(layer.name() + "_wq", layer.weightCodes(), layer.weightDims(),
                layer.weightsAreInt4() ? OnnxGraph.INT4 : OnnxGraph.INT8, OnnxGraph.INT8, nodes);
        nodes.add(node("MatMulInteger", List.of(layer.inputCodes(), w, layer.inputZeroPoint(),
                additions.zeroPoint(OnnxGraph.INT8)), acc, List.of()));
        String accFloat = additions.unique(layer.name() + "_accf");
        nodes.add(node("Cast", List.of(acc), accFloat, List.of(OnnxGraph.attr("to", (long) OnnxGraph.FLOAT))));
        String scaled = additions.unique(layer.name() + "_scaled");
        nodes.add(node("Mul", List.of(accFloat, floats(layer.name() + "_scale", scales, channels)), scaled, List.of()));
        nodes.add(node("Add", List.of(scaled, floats(layer.name() + "_offset", offsets, channels)), layer.output(),
                List.of()));
    }

    /**
     * A float convolution on the input codes whose weights, {@code codes * s_w * a * s_x}, and bias ONNX
     * Runtime computes from the codes once when it loads the model: the input step is folded into the
     * weights too, so the per-call path is the input quantizer (Clip, QuantizeLinear, Cast) and the runtime's
     * fastest float convolution.
     */
    private void floatConv(FoldedLayer layer, List<Onnx.NodeProto> nodes) {
        int channels = layer.channels();
        float[] scales = new float[channels];
        float[] offsets = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = (float) (layer.weightStep(c) * layer.factor(c) * layer.inputStep());
            offsets[c] = (float) layer.offset(c);
        }
        String codes = weights(layer.name() + "_wc", layer.weightCodes(), layer.weightDims(),
                layer.weightsAreInt4() ? OnnxGraph.INT4 : OnnxGraph.INT8, OnnxGraph.FLOAT, nodes);
        long[] scaleShape = new long[layer.weightDims().length];
        java.util.Arrays.fill(scaleShape, 1);
        scaleShape[0] = channels;
        String w = additions.unique(layer.name() + "_wf");
        nodes.add(node("Mul", List.of(codes, floats(layer.name() + "_wf_step", scales, scaleShape)), w, List.of()));
        nodes.add(node("Conv", List.of(inputCodesAsFloat(layer, nodes), w, floats(layer.name() + "_bf", offsets,
                channels)), layer.output(), layer.node().getAttributeList()));
    }

    /**
     * The input codes as float values, {@code code - zero}, by Cast (and Sub for signed codes), not by a
     * DequantizeLinear: one in front of a float convolution would make ONNX Runtime quantize the folded
     * float weights again, per tensor to INT8 (its weight-and-bias quantization pass), which is not the
     * network.
     */
    private String inputCodesAsFloat(FoldedLayer layer, List<Onnx.NodeProto> nodes) {
        String codes = additions.unique(layer.name() + "_xf");
        nodes.add(node("Cast", List.of(layer.inputCodes()), codes, List.of(OnnxGraph.attr("to", (long) OnnxGraph.FLOAT))));
        int zero = initializer(layer.inputZeroPoint()).getRawData().byteAt(0) & 0xFF;
        if (zero == 0) {
            return codes;
        }
        String centered = additions.unique(layer.name() + "_xc");
        nodes.add(node("Sub", List.of(codes, additions.scalar(layer.name() + "_x_zero", zero)), centered, List.of()));
        return centered;
    }

    // ---------------------------------------------------------------- new nodes and initializers

    private Onnx.NodeProto node(String opType, List<String> inputs, String output, List<Onnx.AttributeProto> attributes) {
        return Onnx.NodeProto.newBuilder().setOpType(opType).addAllInput(inputs).addOutput(output)
                .addAllAttribute(attributes).build();
    }

    /**
     * Weight codes stored as {@code storedType} (INT4 packed two per byte, or INT8) and, if
     * that is a 4-bit type, cast to the 8-bit {@code kernelType} by a node ONNX Runtime folds at load.
     */
    private String weights(String base, int[] codes, long[] dims, int storedType, int kernelType,
                           List<Onnx.NodeProto> nodes) {
        String stored = additions.codes(base, Nd4j.createFromArray(codes).reshape(dims), storedType);
        if (storedType == kernelType) {
            return stored;
        }
        String cast = additions.unique(base + "_8bit");
        nodes.add(node("Cast", List.of(stored), cast, List.of(OnnxGraph.attr("to", (long) kernelType))));
        return cast;
    }

    private String floats(String base, float[] values, long... dims) {
        return additions.floats(base, Nd4j.createFromArray(values).reshape(dims));
    }
}
