package io.github.lsq4j.onednn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A network as a list of ops over values, in execution order, and the fusions that make it fast: batch norms
 * folded into the layer before them, residual sums and activations run as post-ops of the layer that computes
 * their input, and tensors kept as integer codes wherever every reader quantizes them alike (else float, with a
 * quantizer op where a quantized layer reads them). What is fused computes what the unfused ops compute, up to
 * float rounding; only the rounding to codes differs, half to even instead of lsq4j's half away from zero.
 */
final class Program {
    final List<Op> ops = new ArrayList<>();
    final List<InputOp> inputs = new ArrayList<>();
    final List<OutputOp> outputs = new ArrayList<>();

    /** Appends an op after those added so far; its inputs must be values computed before it. */
    <T extends Op> T add(T op) {
        ops.add(op);
        op.inputs.forEach(v -> v.consumers.add(op));
        if (op.output != null) {
            op.output.producer = op;
        }
        if (op instanceof InputOp in) {
            inputs.add(in);
        } else if (op instanceof OutputOp out) {
            outputs.add(out);
            out.inputs.get(0).networkOutput = true;
        }
        return op;
    }

    /** Runs the fusions, in the order that lets each see the results of those before it. */
    void optimize() {
        foldBatchNorms();
        fuseIntoProducers(ElementwiseOp.Kind.SUM);
        fuseIntoProducers(ElementwiseOp.Kind.FUNCTION);
        keepCodes();
        insertQuantizers();
    }

    /** A batch norm whose input only it reads, computed by a layer with nothing fused yet, joins that layer. */
    private void foldBatchNorms() {
        for (Op op : new ArrayList<>(ops)) {
            if (op instanceof ElementwiseOp bn && bn.kind == ElementwiseOp.Kind.SCALE_SHIFT && bn.shift != null
                    && bn.inputs.get(0).producer instanceof LinearOp layer && layer.postOps().isEmpty()
                    && bn.inputs.get(0).soleConsumer() == bn) {
                layer.foldScaleShift(bn.constant, bn.shift);
                bypass(bn, layer);
            }
        }
    }

    /**
     * A residual sum or an activation whose input only it reads joins the op that computes that input: for a
     * sum, the input computed last (the other is ready by then), which must be a layer or a sum.
     */
    private void fuseIntoProducers(ElementwiseOp.Kind kind) {
        for (Op op : new ArrayList<>(ops)) {
            if (!(op instanceof ElementwiseOp e) || e.kind != kind) {
                continue;
            }
            Value fused = e.inputs.get(0);
            if (kind == ElementwiseOp.Kind.SUM) {
                Value other = e.inputs.get(1);
                if (ops.indexOf(other.producer) > ops.indexOf(fused.producer)) {
                    fused = other;
                }
            }
            if (!(fused.producer instanceof Fusable producer) || fused.soleConsumer() != e
                    || (kind == ElementwiseOp.Kind.SUM && !(fused.producer instanceof LinearOp))) {
                continue;
            }
            Op target = fused.producer;
            if (kind == ElementwiseOp.Kind.SUM) {
                Value residual = e.inputs.get(0) == fused ? e.inputs.get(1) : e.inputs.get(0);
                producer.postOps().add(new PostOp.Sum(residual));
                target.inputs.add(residual);
                residual.consumers.replaceAll(c -> c == e ? target : c);
            }
            producer.postOps().addAll(e.postOps());
            bypass(e, target);
        }
    }

    /** Removes {@code op}, whose first input {@code producer} computes, and lets {@code producer} write its output. */
    private void bypass(Op op, Op producer) {
        ops.remove(op);
        producer.output = op.output;
        op.output.producer = producer;
        for (Value v : op.inputs) {
            v.consumers.remove(op);
        }
    }

    /**
     * A value whose readers all quantize it alike is written as their codes by the op that computes it. Max
     * pooling passes codes through: a value read only by a max pooling whose output is codes becomes those codes.
     */
    private void keepCodes() {
        for (int i = ops.size() - 1; i >= 0; i--) {
            Value v = ops.get(i).output;
            if (v == null || v.networkOutput || v.consumers.isEmpty() || !v.producer.canWriteCodes()) {
                continue;
            }
            Codes common = null;
            for (Op reader : v.consumers) {
                Codes read = codesRead(reader, v);
                if (read == null || (common != null && !common.equals(read))) {
                    common = null;
                    break;
                }
                common = read;
            }
            v.codes = common;
        }
        // a max pooling on a float input writes float: a quantizer op follows it instead
        for (Op op : ops) {
            if (op instanceof PoolOp pool && pool.output.codes != null && pool.inputs.get(0).codes == null) {
                pool.output.codes = null;
            }
        }
    }

    /** @return the codes {@code reader} reads {@code v} as, or null if it reads float */
    private static Codes codesRead(Op reader, Value v) {
        if (reader instanceof LinearOp layer && layer.inputs.get(0) == v) {
            return layer.inputCodes;
        }
        if (reader instanceof PoolOp pool && pool.isMax()) {
            return pool.output.codes;
        }
        return null;
    }

    /** A quantized layer whose input is float gets a quantizer op in front, shared by the layers that quantize alike. */
    private void insertQuantizers() {
        Map<Value, Map<Codes, Value>> quantized = new HashMap<>();
        for (Op op : new ArrayList<>(ops)) {
            if (!(op instanceof LinearOp layer) || !layer.isInteger()) {
                continue;
            }
            Value v = layer.inputs.get(0);
            if (Objects.equals(v.codes, layer.inputCodes)) {
                continue;
            }
            Value codes = quantized.computeIfAbsent(v, k -> new HashMap<>()).computeIfAbsent(layer.inputCodes, c -> {
                Value q = new Value(v.name + "_codes", v.dims);
                q.codes = c;
                ElementwiseOp quantizer = ElementwiseOp.quantizer(layer.layer, v, q);
                ops.add(ops.indexOf(op), quantizer);
                v.consumers.add(quantizer);
                q.producer = quantizer;
                return q;
            });
            v.consumers.remove(layer);
            layer.inputs.set(0, codes);
            codes.consumers.add(layer);
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (Op op : ops) {
            b.append(op.layer).append(": ").append(op.describe());
            if (op.output != null) {
                b.append(" -> ").append(op.output);
            }
            b.append('\n');
        }
        return b.toString();
    }
}
