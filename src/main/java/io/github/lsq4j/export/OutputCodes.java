package io.github.lsq4j.export;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import onnx.Onnx;

/**
 * Where a layer's output goes only into the next layer's input quantizer: a chain of Relu and Clip
 * nodes, each the only reader of its input, ending in a QuantizeLinear. Then the layer can write that
 * quantizer's codes itself: Relu and Clip before a QuantizeLinear clamp its codes, since rounding is
 * monotone ({@code Q(clip(z, lo, hi)) = clamp(Q(z), Q(lo), Q(hi))}).
 */
final class OutputCodes {
    private final Onnx.NodeProto quantizer;
    private final float step;
    private final int type;
    private final int low;
    private final int high;
    private final List<Onnx.NodeProto> replaced;

    private OutputCodes(Onnx.NodeProto quantizer, float step, int type, int low, int high,
                        List<Onnx.NodeProto> replaced) {
        this.quantizer = quantizer;
        this.step = step;
        this.type = type;
        this.low = low;
        this.high = high;
        this.replaced = replaced;
    }

    /**
     * @param g      the graph being lowered
     * @param tensor a layer's output
     * @return the codes the tensor becomes, or null if something else reads it on the way
     */
    static OutputCodes match(IntegerLowering g, String tensor) {
        double lo = Double.NEGATIVE_INFINITY;
        double hi = Double.POSITIVE_INFINITY;
        List<Onnx.NodeProto> chain = new ArrayList<>();
        String t = tensor;
        while (true) {
            Onnx.NodeProto n = g.soleConsumer(t);
            if (n == null) {
                return null;
            }
            chain.add(n);
            switch (n.getOpType()) {
                case "Relu" -> lo = Math.max(lo, 0);
                case "Clip" -> {
                    Double min = bound(g, n, 1);
                    Double max = bound(g, n, 2);
                    if (min == null || max == null) {
                        return null;
                    }
                    lo = Math.max(lo, min);
                    hi = Math.min(hi, max);
                }
                case "QuantizeLinear" -> {
                    return quantizer(g, n, lo, hi, chain);
                }
                default -> {
                    return null;
                }
            }
            t = n.getOutput(0);
        }
    }

    private static OutputCodes quantizer(IntegerLowering g, Onnx.NodeProto q, double lo, double hi,
                                         List<Onnx.NodeProto> chain) {
        Onnx.TensorProto scale = g.initializer(q.getInput(1));
        Onnx.TensorProto zero = q.getInputCount() > 2 ? g.initializer(q.getInput(2)) : null;
        if (scale == null || zero == null || zero.getDataType() != OnnxGraph.UINT8 || scale.getDimsCount() != 0) {
            return null;
        }
        float s = scale.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat();
        int zp = zero.getRawData().byteAt(0) & 0xFF;
        int low = Double.isInfinite(lo) ? 0 : (int) Math.max(0, Math.rint(lo / s) + zp);
        int high = Double.isInfinite(hi) ? 255 : (int) Math.min(255, Math.rint(hi / s) + zp);
        return new OutputCodes(q, s, OnnxGraph.UINT8, low, high, chain);
    }

    /** A Clip's bound given as a float scalar initializer; infinite if omitted; null if not a constant. */
    private static Double bound(IntegerLowering g, Onnx.NodeProto clip, int input) {
        if (clip.getInputCount() <= input || clip.getInput(input).isEmpty()) {
            return input == 1 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        Onnx.TensorProto t = g.initializer(clip.getInput(input));
        if (t == null || t.getDataType() != OnnxGraph.FLOAT) {
            return null;
        }
        return (double) t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat();
    }

    /** @return the tensor of the codes: the QuantizeLinear's output, which the next layer reads */
    String codesTensor() {
        return quantizer.getOutput(0);
    }

    /** @return the name of the next quantizer's step */
    String scale() {
        return quantizer.getInput(1);
    }

    /** @return the next quantizer's step */
    float scaleValue() {
        return step;
    }

    String zeroPoint() {
        return quantizer.getInput(2);
    }

    int type() {
        return type;
    }

    /** @return whether the codes need a clamp narrower than their 8-bit type's range */
    boolean clamped() {
        return low > 0 || high < 255;
    }

    int low() {
        return low;
    }

    int high() {
        return high;
    }

    /** @return the Relu, Clip and QuantizeLinear nodes the layer's codes replace */
    List<Onnx.NodeProto> replacedNodes() {
        return replaced;
    }
}
