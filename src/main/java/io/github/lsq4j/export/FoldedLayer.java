package io.github.lsq4j.export;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import onnx.Onnx;

/**
 * One quantized layer of a QDQ export as {@link Folding} finds it: a Conv or MatMul whose input
 * is {@code DequantizeLinear(QuantizeLinear(x))} and whose weights are {@code DequantizeLinear} of INT4 or
 * INT8 codes, with its bias (the Conv's bias input, or an Add of a constant after the layer: a dense
 * layer's bias, or a float one whose codes do not fit in INT32, see {@link BiasCodes#of}) and the batch
 * norm that follows it, if that is its only consumer. Reads the
 * numbers the folding needs out of the initializers.
 */
final class FoldedLayer {
    private final Onnx.NodeProto node;
    private final Onnx.NodeProto inputQuantizer;
    private final String name;
    private final int[] weightCodes;
    private final long[] weightDims;
    private final boolean weightsAreInt4;
    private final float[] weightSteps;
    private final float inputStep;
    private final float[] bias;
    private final double[] factors;
    private final double[] shifts;
    private final String output;
    private final List<Onnx.NodeProto> replaced = new ArrayList<>();

    private FoldedLayer(Onnx.NodeProto node, Onnx.NodeProto inputQuantizer, int[] weightCodes, long[] weightDims,
                         boolean weightsAreInt4, float[] weightSteps, float inputStep, float[] bias, double[] factors,
                         double[] shifts, String output) {
        this.node = node;
        this.inputQuantizer = inputQuantizer;
        this.name = node.getOutput(0);
        this.weightCodes = weightCodes;
        this.weightDims = weightDims;
        this.weightsAreInt4 = weightsAreInt4;
        this.weightSteps = weightSteps;
        this.inputStep = inputStep;
        this.bias = bias;
        this.factors = factors;
        this.shifts = shifts;
        this.output = output;
    }

    /**
     * @param g    the graph being folded
     * @param node a Conv or MatMul node
     * @return the layer, or null if the node is not a quantized layer of the QDQ form (a float layer)
     */
    static FoldedLayer match(Folding g, Onnx.NodeProto node) {
        boolean conv = node.getOpType().equals("Conv");
        Onnx.NodeProto inputDq = g.producer(node.getInput(0), "DequantizeLinear");
        Onnx.NodeProto inputQ = inputDq == null ? null : g.producer(inputDq.getInput(0), "QuantizeLinear");
        Onnx.NodeProto weightDq = g.producer(node.getInput(1), "DequantizeLinear");
        if (inputQ == null || weightDq == null || g.soleConsumer(node.getInput(0)) != node) {
            return null;
        }
        Onnx.TensorProto codes = g.initializer(weightDq.getInput(0));
        if (codes == null || (codes.getDataType() != OnnxGraph.INT4 && codes.getDataType() != OnnxGraph.INT8)) {
            return null;
        }
        long[] dims = codes.getDimsList().stream().mapToLong(Long::longValue).toArray();
        int channels = (int) (conv ? dims[0] : dims[1]);
        float[] steps = perChannel(floats(g.initializer(weightDq.getInput(1))), channels);
        float inputStep = floats(g.initializer(inputQ.getInput(1)))[0];

        List<Onnx.NodeProto> replaced = new ArrayList<>(List.of(inputDq, weightDq));
        String output = node.getOutput(0);
        float[] bias = new float[channels];
        if (conv && node.getInputCount() > 2) {
            float[] b = constantVector(g, node.getInput(2), replaced);
            if (b == null) {
                return null;
            }
            bias = perChannel(b, channels);
        } else {
            // added after the layer: a dense layer's bias, or a convolution's whose codes do not fit in INT32
            Onnx.NodeProto add = g.soleConsumer(output);
            float[] b = add != null && add.getOpType().equals("Add") && add.getInput(0).equals(output)
                    && (!conv || isPerChannelOfMaps(g.initializer(add.getInput(1)), channels))
                    ? constantVector(g, add.getInput(1), replaced) : null;
            if (b != null) {
                bias = perChannel(b, channels);
                replaced.add(add);
                output = add.getOutput(0);
            }
        }
        double[] factors = new double[channels];
        double[] shifts = new double[channels];
        java.util.Arrays.fill(factors, 1);
        Onnx.NodeProto bn = g.soleConsumer(output);
        if (conv && bn != null && bn.getOpType().equals("BatchNormalization")) {
            float[][] p = new float[4][];
            for (int i = 0; i < 4; i++) {
                Onnx.TensorProto t = g.initializer(bn.getInput(i + 1));
                p[i] = t == null ? null : perChannel(floats(t), channels);
            }
            if (p[0] != null && p[1] != null && p[2] != null && p[3] != null) {
                double eps = bn.getAttributeList().stream().filter(a -> a.getName().equals("epsilon"))
                        .mapToDouble(Onnx.AttributeProto::getF).findFirst().orElse(1e-5);
                for (int c = 0; c < channels; c++) {
                    factors[c] = p[0][c] / Math.sqrt(p[3][c] + (float) eps);
                    shifts[c] = p[1][c] - factors[c] * p[2][c];
                }
                replaced.add(bn);
                output = bn.getOutput(0);
            }
        }
        FoldedLayer layer = new FoldedLayer(node, inputQ, decodeCodes(codes), dims,
                codes.getDataType() == OnnxGraph.INT4, steps, inputStep, bias, factors, shifts, output);
        layer.replaced.addAll(replaced);
        return layer;
    }

    /** @return whether {@code t} is a float initializer {@code [1, C, 1, 1]}: one value per channel of NCHW maps */
    private static boolean isPerChannelOfMaps(Onnx.TensorProto t, int channels) {
        return t != null && t.getDataType() == OnnxGraph.FLOAT
                && t.getDimsList().equals(List.of(1L, (long) channels, 1L, 1L));
    }

    /** A float initializer, or DequantizeLinear of INT32 codes (the exported bias), as float values. */
    private static float[] constantVector(Folding g, String tensor, List<Onnx.NodeProto> replaced) {
        Onnx.TensorProto t = g.initializer(tensor);
        if (t != null) {
            return t.getDataType() == OnnxGraph.FLOAT ? floats(t) : null;
        }
        Onnx.NodeProto dq = g.producer(tensor, "DequantizeLinear");
        Onnx.TensorProto codes = dq == null ? null : g.initializer(dq.getInput(0));
        Onnx.TensorProto scales = dq == null ? null : g.initializer(dq.getInput(1));
        if (codes == null || scales == null || codes.getDataType() != OnnxGraph.INT32) {
            return null;
        }
        ByteBuffer b = codes.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] s = floats(scales);
        float[] values = new float[b.remaining() / 4];
        for (int i = 0; i < values.length; i++) {
            values[i] = b.getInt() * s[s.length == 1 ? 0 : i]; // in float, as the runtime dequantizes it
        }
        if (!replaced.contains(dq)) {
            replaced.add(dq);
        }
        return values;
    }

    private static float[] floats(Onnx.TensorProto t) {
        ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = b.getFloat();
        }
        return v;
    }

    private static float[] perChannel(float[] v, int channels) {
        if (v.length == channels) {
            return v;
        }
        float[] out = new float[channels];
        java.util.Arrays.fill(out, v[0]);
        return out;
    }

    /** INT4 (two per byte, low nibble first) or INT8 codes, sign-extended. */
    private static int[] decodeCodes(Onnx.TensorProto t) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= d;
        }
        byte[] raw = t.getRawData().toByteArray();
        int[] codes = new int[Math.toIntExact(n)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = t.getDataType() == OnnxGraph.INT4 ? (byte) (raw[i / 2] << (4 - 4 * (i % 2))) >> 4 : raw[i];
        }
        return codes;
    }

    Onnx.NodeProto node() {
        return node;
    }

    String name() {
        return name;
    }

    boolean isConv() {
        return node.getOpType().equals("Conv");
    }

    int channels() {
        return factors.length;
    }

    /** @return the weight codes in ONNX's layout, C order */
    int[] weightCodes() {
        return weightCodes;
    }

    long[] weightDims() {
        return weightDims;
    }

    boolean weightsAreInt4() {
        return weightsAreInt4;
    }

    double weightStep(int channel) {
        return weightSteps[channel];
    }

    double inputStep() {
        return inputStep;
    }

    /** @return the folded batch norm's factor {@code gamma / sqrt(var + eps)} of a channel; 1 without one */
    double factor(int channel) {
        return factors[channel];
    }

    /** @return what the layer adds to {@code factor * acc * s_x * s_w} in a channel: bias and batch-norm shift */
    double offset(int channel) {
        return factors[channel] * bias[channel] + shifts[channel];
    }

    /** @return the input codes' tensor (the output of the input's QuantizeLinear) */
    String inputCodes() {
        return inputQuantizer.getOutput(0);
    }

    String inputScale() {
        return inputQuantizer.getInput(1);
    }

    String inputZeroPoint() {
        return inputQuantizer.getInput(2);
    }

    /** @return the tensor the layer (with bias and batch norm) computes */
    String output() {
        return output;
    }

    /** @return the nodes the folded layer replaces, besides {@link #node()} */
    List<Onnx.NodeProto> replacedNodes() {
        return replaced;
    }
}
