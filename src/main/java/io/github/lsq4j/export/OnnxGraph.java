package io.github.lsq4j.export;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import onnx.Onnx;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;

/**
 * An ONNX graph being written: nodes, initializers and unique names, with the tensor encodings the
 * export needs (float, INT8/UINT8, and INT4 packed two codes per byte, low nibble first, as ONNX
 * stores 4-bit tensors since opset 21).
 */
final class OnnxGraph {
    /** ONNX TensorProto data types (onnx.proto). */
    static final int FLOAT = 1;
    static final int UINT8 = 2;
    static final int INT8 = 3;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int UINT4 = 21;
    static final int INT4 = 22;

    private final Onnx.GraphProto.Builder graph;
    private final Set<String> names = new HashSet<>();
    private final Map<Integer, String> zeroPoints = new HashMap<>();

    OnnxGraph(String name) {
        graph = Onnx.GraphProto.newBuilder().setName(name);
    }

    /**
     * Adds to a graph that exists already: its inputs, initializers and node outputs keep their names.
     *
     * @param existing the graph
     */
    OnnxGraph(Onnx.GraphProto.Builder existing) {
        graph = existing;
        existing.getInputList().forEach(i -> names.add(i.getName()));
        existing.getInitializerList().forEach(t -> names.add(t.getName()));
        existing.getNodeList().forEach(n -> names.addAll(n.getOutputList()));
    }

    Onnx.GraphProto.Builder proto() {
        return graph;
    }

    /** Keeps {@code name} for {@link #output}: no node or initializer gets it. */
    void reserve(String name) {
        if (!names.add(name)) {
            throw new IllegalArgumentException("graph name '" + name + "' is used twice");
        }
    }

    /** Declares a graph output of exactly the reserved {@code name}, with the value of {@code value}. */
    void output(String name, String value) {
        graph.addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput(value).addOutput(name));
        graph.addOutput(Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT))));
    }

    /** A name not used yet in the graph, based on {@code base}. */
    String unique(String base) {
        String name = base;
        for (int i = 1; !names.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }

    /**
     * Adds a node.
     *
     * @param opType     the ONNX operator
     * @param name       a base for the node's and its output's name
     * @param inputs     the input names ("" for an omitted optional input)
     * @param attributes the attributes
     * @return the name of its (single) output
     */
    String node(String opType, String name, List<String> inputs, Onnx.AttributeProto... attributes) {
        String output = unique(name);
        // Nodes go unnamed (the name is optional): their output names identify them, and the bytes count
        // in a 4-bit model of a small network.
        Onnx.NodeProto.Builder node = Onnx.NodeProto.newBuilder().setOpType(opType).addAllInput(inputs).addOutput(output);
        for (Onnx.AttributeProto a : attributes) {
            node.addAttribute(a);
        }
        graph.addNode(node);
        return output;
    }

    /** Adds a float initializer with the values and shape of {@code array}. */
    String floats(String name, INDArray array) {
        INDArray c = array.castTo(DataType.FLOAT).dup('c');
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(4 * c.length())).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : c.data().asFloat()) {
            bytes.putFloat(f);
        }
        return initializer(name, FLOAT, c.shape(), bytes.array());
    }

    /** Adds a float scalar initializer. */
    String scalar(String name, float value) {
        return initializer(name, FLOAT, new long[0],
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
    }

    /** Adds an INT64 vector initializer (shapes, axes). */
    String int64s(String name, long... values) {
        ByteBuffer bytes = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            bytes.putLong(v);
        }
        return initializer(name, INT64, new long[] {values.length}, bytes.array());
    }

    /** The scalar zero point of an 8-bit type, one initializer per type for the whole graph. */
    String zeroPoint(int type) {
        return zeroPoints.computeIfAbsent(type, t -> initializer(t == INT8 ? "zero_int8" : "zero_uint8", t, new long[0],
                new byte[] {0}));
    }

    /**
     * Adds integer codes as an INT4 (codes in [-8, 7]) or INT8 tensor.
     *
     * @param name  the base name
     * @param codes the codes, C order, any integer type
     * @param type  {@link #INT4} or {@link #INT8}
     * @return the initializer's name
     */
    String codes(String name, INDArray codes, int type) {
        int[] values = codes.castTo(DataType.INT32).dup('c').data().asInt();
        byte[] bytes;
        if (type == INT4) {
            bytes = new byte[(values.length + 1) / 2];
            for (int i = 0; i < values.length; i++) {
                checkRange(values[i], -8, 7, name);
                bytes[i / 2] |= (byte) ((values[i] & 0x0F) << (4 * (i % 2)));
            }
        } else if (type == INT8) {
            bytes = new byte[values.length];
            for (int i = 0; i < values.length; i++) {
                checkRange(values[i], -128, 127, name);
                bytes[i] = (byte) values[i];
            }
        } else {
            throw new IllegalArgumentException("weight codes are written as INT4 or INT8, not type " + type);
        }
        return initializer(name, type, codes.shape(), bytes);
    }

    /** Adds an INT32 vector initializer (bias codes). */
    String int32s(String name, int[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            bytes.putInt(v);
        }
        return initializer(name, INT32, new long[] {values.length}, bytes.array());
    }

    private static void checkRange(int v, int min, int max, String name) {
        if (v < min || v > max) {
            throw new IllegalStateException(name + ": code " + v + " outside [" + min + ", " + max + "]");
        }
    }

    private String initializer(String base, int type, long[] shape, byte[] raw) {
        String name = unique(base);
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(type)
                .setRawData(ByteString.copyFrom(raw));
        for (long d : shape) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    /** A float tensor value with a symbolic batch axis and the given other dimensions. */
    static Onnx.ValueInfoProto batchedFloat(String name, long... dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder()
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
        for (long d : dims) {
            shape.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder()
                    : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(shape))).build();
    }

    static Onnx.AttributeProto attr(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(value).build();
    }

    static Onnx.AttributeProto attr(String name, float value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.FLOAT)
                .setF(value).build();
    }

    static Onnx.AttributeProto attr(String name, String value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    static Onnx.AttributeProto attr(String name, long... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }
}
