package io.github.lsq4j.samples.export;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.lsq4j.samples.HelpOption;
import io.github.lsq4j.samples.SampleCli;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import onnx.Onnx;
import org.nd4j.shade.protobuf.ByteString;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What each way of running a quantized convolution with integers costs in ONNX Runtime, beside its float
 * convolution: a chain of 3x3 convolutions (stride 1, padding 1, ReLU) of one ResNet stage's shape, in
 * each form, timed alone, 2 threads, every graph optimization on. A benchmark of the runtime's kernels,
 * not of lsq4j: it shows which integer kernel an exact export could use (samples/BENCHMARKS.md, issue 22).
 *
 * <p>The forms, on random 4-bit codes (weights in [-8, 7], inputs in [0, 15]):
 * <ul>
 *   <li>{@link Form#FLOAT}: {@code Conv} and {@code Relu} on float data, as the float network runs;</li>
 *   <li>{@link Form#QLINEAR_CONV}: {@code QLinearConv}, codes in and codes out. Its requantization adds an
 *       INT32 bias, so a folded batch-norm shift that is not a whole number of accumulator units cannot
 *       be carried exactly;</li>
 *   <li>{@link Form#CONV_INTEGER}: {@code ConvInteger} (exact INT32 sums; 1.23 takes unsigned weights, so
 *       codes + 8 with zero point 8), then the float rescale, shift, ReLU and the next input quantizer;</li>
 *   <li>{@link Form#IM2COL_MATMUL}: channels-last codes spread into 3x3 patches by {@code Pad}, nine
 *       {@code Slice} and a {@code Concat}, then {@code MatMulIntegerToFloat} (exact INT32 sums, the
 *       rescale and shift in one kernel), ReLU and the next input quantizer.</li>
 * </ul>
 */
@Command(name = "ConvKernelBenchmark", sortOptions = false, usageHelpWidth = 100, description = {
    "Times ONNX Runtime's float convolution against its integer convolution kernels on ResNet stage shapes."})
public final class ConvKernelBenchmark implements SampleCli.Checked {
    /** The forms of a quantized convolution timed. */
    enum Form { FLOAT, QLINEAR_CONV, CONV_INTEGER, IM2COL_MATMUL }

    private static final int FLOAT = 1;
    private static final int UINT8 = 2;
    private static final int INT8 = 3;
    private static final int INT32 = 6;
    private static final int INT64 = 7;
    private static final int OPSET = 21;
    private static final long IR_VERSION = 10;
    /** The float model's weights and the quantized forms' weight and input steps: any value does for timing. */
    private static final float STEP = 0.05f;

    @Mixin
    HelpOption help;

    @Option(names = "--stages", split = ",", paramLabel = "CxH", defaultValue = "16x28,32x14,64x7",
            description = "Channels x height (= width) of each stage (default: ${DEFAULT-VALUE}: ResNet-8 and "
                    + "ResNet-20 on 28x28 images).")
    List<String> stages;

    @Option(names = "--batch", split = ",", paramLabel = "N", defaultValue = "1,128",
            description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--layers", paramLabel = "L", defaultValue = "4",
            description = "Convolutions in each chain (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "3",
            description = "Timed seconds per form, after as many (at most one) of warm-up (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Override
    public void check() {
        for (String stage : stages) {
            if (!stage.matches("[1-9][0-9]{0,3}x[1-9][0-9]{0,3}")) {
                throw new IllegalArgumentException("--stages: expected channels x size such as 16x28, got " + stage);
            }
        }
        if (batches.stream().anyMatch(b -> b < 1) || layers < 1 || !(seconds > 0)) {
            throw new IllegalArgumentException("--batch, --layers and --seconds must be positive, got " + batches + ", "
                    + layers + ", " + seconds);
        }
    }

    /**
     * @param args see {@code --help}
     * @throws Exception if ONNX Runtime refuses a model or fails to run it
     */
    public static void main(String[] args) throws Exception {
        ConvKernelBenchmark o = SampleCli.parse(new ConvKernelBenchmark(), args);
        System.out.println("| stage | batch | float img/s | QLinearConv | ConvInteger | im2col + MatMulIntegerToFloat |");
        System.out.println("|---|---|---|---|---|---|");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (String stage : o.stages) {
            String[] cxh = stage.split("x");
            int channels = Integer.parseInt(cxh[0]);
            int size = Integer.parseInt(cxh[1]);
            for (int batch : o.batches) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d x %dx%d | %d |", channels,
                        size, size, batch));
                for (Form form : Form.values()) {
                    row.append(String.format(Locale.ROOT, " %.0f |",
                            o.imagesPerSecond(env, form, channels, size, batch)));
                }
                System.out.println(row);
            }
        }
    }

    /** Runs one form's chain for {@code --seconds} after its warm-up. */
    double imagesPerSecond(OrtEnvironment env, Form form, int channels, int size, int batch) throws Exception {
        Random random = new Random(1);
        byte[] model = new ChainModel(form, channels, size, layers, random).toBytes();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(model, options);
                 OnnxTensor input = input(env, form, channels, size, batch, random)) {
                Map<String, OnnxTensor> feed = Map.of("x", input);
                return InferenceBenchmark.imagesPerSecond(() -> session.run(feed).close(), batch, seconds);
            }
        }
    }

    /** Random input: float values, or 4-bit codes in the form's layout. */
    private static OnnxTensor input(OrtEnvironment env, Form form, int channels, int size, int batch, Random random)
            throws OrtException {
        int n = batch * channels * size * size;
        if (form == Form.FLOAT) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = random.nextFloat();
            }
            return OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {batch, channels, size, size});
        }
        byte[] codes = new byte[n];
        for (int i = 0; i < n; i++) {
            codes[i] = (byte) random.nextInt(16);
        }
        long[] shape = form == Form.IM2COL_MATMUL ? new long[] {batch, size, size, channels}
                : new long[] {batch, channels, size, size};
        return OnnxTensor.createTensor(env, ByteBuffer.wrap(codes), shape, OnnxJavaType.UINT8);
    }

    /** The ONNX model of one chain: input {@code x}, {@code layers} convolutions of one form. */
    private static final class ChainModel {
        private final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("chain");
        private final int channels;
        private final int size;
        private final Random random;

        ChainModel(Form form, int channels, int size, int layers, Random random) {
            this.channels = channels;
            this.size = size;
            this.random = random;
            boolean channelsLast = form == Form.IM2COL_MATMUL;
            long[] shape = channelsLast ? new long[] {-1, size, size, channels} : new long[] {-1, channels, size, size};
            int type = form == Form.FLOAT ? FLOAT : UINT8;
            graph.addInput(value("x", type, shape));
            if (form != Form.FLOAT) {
                floats("step", new float[] {STEP});
                bytes("zero", UINT8, new byte[1]);
            }
            String x = "x";
            for (int l = 0; l < layers; l++) {
                x = switch (form) {
                    case FLOAT -> floatConv(x, l);
                    case QLINEAR_CONV -> qlinearConv(x, l);
                    case CONV_INTEGER -> convInteger(x, l);
                    case IM2COL_MATMUL -> im2colMatMul(x, l);
                };
            }
            graph.addOutput(value(x, type, shape));
        }

        private String floatConv(String x, int l) {
            float[] w = new float[channels * channels * 9];
            for (int i = 0; i < w.length; i++) {
                w[i] = code() * STEP;
            }
            floats("w" + l, w, channels, channels, 3, 3);
            floats("b" + l, new float[channels], channels);
            return node("Relu", "y" + l, List.of(node("Conv", "c" + l, List.of(x, "w" + l, "b" + l), pads())));
        }

        private String qlinearConv(String x, int l) {
            bytes("w" + l, INT8, codes(channels * channels * 9, 0), channels, channels, 3, 3);
            floats("ws" + l, channelSteps(), channels);
            bytes("wz" + l, INT8, new byte[channels], channels);
            Onnx.TensorProto.Builder bias = tensor("b" + l, INT32, channels);
            for (int c = 0; c < channels; c++) {
                bias.addInt32Data(random.nextInt(64) - 32);
            }
            graph.addInitializer(bias);
            return node("QLinearConv", "y" + l, List.of(x, "step", "zero", "w" + l, "ws" + l, "wz" + l, "step", "zero",
                    "b" + l), pads());
        }

        private String convInteger(String x, int l) {
            bytes("w" + l, UINT8, codes(channels * channels * 9, 8), channels, channels, 3, 3);
            bytes("wz" + l, UINT8, new byte[] {8});
            String acc = node("ConvInteger", "acc" + l, List.of(x, "w" + l, "zero", "wz" + l), pads());
            String sums = node("Cast", "sum" + l, List.of(acc), attribute("to", FLOAT));
            floats("scale" + l, channelSteps(), 1, channels, 1, 1);
            floats("shift" + l, channelSteps(), 1, channels, 1, 1);
            String z = node("Add", "z" + l, List.of(node("Mul", "m" + l, List.of(sums, "scale" + l)), "shift" + l));
            return node("QuantizeLinear", "y" + l, List.of(node("Relu", "r" + l, List.of(z)), "step", "zero"));
        }

        private String im2colMatMul(String x, int l) {
            if (l == 0) {
                longs("pads", 0, 1, 1, 0, 0, 1, 1, 0);
                longs("axes", 1, 2);
                longs("rows", -1, 9L * channels);
                longs("image", -1, size, size, channels);
                for (int dy = 0; dy < 3; dy++) {
                    for (int dx = 0; dx < 3; dx++) {
                        longs("from" + dy + dx, dy, dx);
                        longs("to" + dy + dx, dy + size, dx + size);
                    }
                }
            }
            String padded = node("Pad", "p" + l, List.of(x, "pads"));
            List<String> taps = new ArrayList<>();
            for (int dy = 0; dy < 3; dy++) {
                for (int dx = 0; dx < 3; dx++) {
                    taps.add(node("Slice", "t" + l + dy + dx, List.of(padded, "from" + dy + dx, "to" + dy + dx, "axes")));
                }
            }
            String patches = node("Reshape", "col" + l, List.of(node("Concat", "cat" + l, taps, attribute("axis", 3)),
                    "rows"));
            bytes("w" + l, INT8, codes(9 * channels * channels, 0), 9L * channels, channels);
            floats("ws" + l, channelSteps(), channels);
            floats("shift" + l, channelSteps(), channels);
            Onnx.NodeProto.Builder matMul = Onnx.NodeProto.newBuilder().setOpType("MatMulIntegerToFloat")
                    .setDomain("com.microsoft").addAllInput(List.of(patches, "w" + l, "step", "ws" + l, "", "",
                            "shift" + l)).addOutput("z" + l);
            graph.addNode(matMul);
            String codes = node("QuantizeLinear", "q" + l, List.of(node("Relu", "r" + l, List.of("z" + l)), "step",
                    "zero"));
            return node("Reshape", "y" + l, List.of(codes, "image"));
        }

        byte[] toBytes() {
            return Onnx.ModelProto.newBuilder().setIrVersion(IR_VERSION)
                    .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                    .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1))
                    .setGraph(graph).build().toByteArray();
        }

        /** A random 4-bit weight code, plus {@code offset}. */
        private int code() {
            return random.nextInt(16) - 8;
        }

        private byte[] codes(int n, int offset) {
            byte[] codes = new byte[n];
            for (int i = 0; i < n; i++) {
                codes[i] = (byte) (code() + offset);
            }
            return codes;
        }

        private float[] channelSteps() {
            float[] steps = new float[channels];
            for (int c = 0; c < channels; c++) {
                steps[c] = STEP * (0.5f + random.nextFloat());
            }
            return steps;
        }

        private String node(String op, String output, List<String> inputs, Onnx.AttributeProto... attributes) {
            Onnx.NodeProto.Builder node = Onnx.NodeProto.newBuilder().setOpType(op).addAllInput(inputs).addOutput(output);
            for (Onnx.AttributeProto a : attributes) {
                node.addAttribute(a);
            }
            graph.addNode(node);
            return output;
        }

        private static Onnx.AttributeProto pads() {
            return Onnx.AttributeProto.newBuilder().setName("pads").setType(Onnx.AttributeProto.AttributeType.INTS)
                    .addInts(1).addInts(1).addInts(1).addInts(1).build();
        }

        private static Onnx.AttributeProto attribute(String name, long value) {
            return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT)
                    .setI(value).build();
        }

        private static Onnx.TensorProto.Builder tensor(String name, int type, long... dims) {
            Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(type);
            for (long d : dims) {
                t.addDims(d);
            }
            return t;
        }

        private void floats(String name, float[] values, long... dims) {
            Onnx.TensorProto.Builder t = tensor(name, FLOAT, dims);
            for (float v : values) {
                t.addFloatData(v);
            }
            graph.addInitializer(t);
        }

        private void bytes(String name, int type, byte[] values, long... dims) {
            graph.addInitializer(tensor(name, type, dims).setRawData(ByteString.copyFrom(values)));
        }

        private void longs(String name, long... values) {
            Onnx.TensorProto.Builder t = tensor(name, INT64, values.length);
            for (long v : values) {
                t.addInt64Data(v);
            }
            graph.addInitializer(t);
        }

        private static Onnx.ValueInfoProto value(String name, int type, long... dims) {
            Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
            for (long d : dims) {
                shape.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                        : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                    .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
        }
    }
}
