package io.github.lsq4j.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.AnyModel;
import io.github.lsq4j.TrainedLsq;
import io.github.lsq4j.convert.ConvertTestNets;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import ai.onnxruntime.OrtSession;
import io.github.lsq4j.layers.LsqIntegerParams;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import io.github.lsq4j.quant.LsqMath;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import onnx.Onnx;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Exported models run in ONNX Runtime (every graph optimization on) and compute what lsq4j computes;
 * the codes and steps in the file are exactly {@link LsqLayers#integerParams}; bad input is refused.
 */
class OnnxExporterTest {
    @TempDir
    Path dir;

    @BeforeEach
    void floatPrecisionAndFixedSeed() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(12345);
    }

    /** Converted, calibrated, then trained a few steps so that every step has moved from its start. */
    private static <M extends Model> M trained(M lsq, INDArray x, int classes) {
        return trained(lsq, x, classes, 3);
    }

    private static <M extends Model> M trained(M lsq, INDArray x, int classes, int steps) {
        return TrainedLsq.trained(lsq, x, classes, steps);
    }

    /**
     * Exports {@code net} (QDQ) for inputs shaped as {@code x}, and asserts that the file holds the network's
     * codes and steps and that ONNX Runtime computes what DL4J computes on {@code x}.
     */
    private void assertExportRunsAsInDl4j(Model net, String inputName, INDArray x, String what) throws Exception {
        Path file = dir.resolve("model.onnx");
        OnnxExporter.export(net, file, Arrays.copyOfRange(x.shape(), 1, x.rank()));
        assertCodesStepsAndBiasesAreTheNetworksExactly(net, file);
        assertRunsAsInDl4j(net, file, inputName, x, what);
    }

    /**
     * The exported model is lsq4j's integer model: the network with each quantized layer's bias in the
     * accumulator's unit ({@link BiasCodes}), as integer runtimes hold it. On that network, ONNX Runtime
     * at every optimization level computes what lsq4j computes, to float rounding.
     */
    private static void assertRunsAsInDl4j(Model net, Path file, String inputName, INDArray x, String what)
            throws Exception {
        OnnxAgreement.useExportedBiases(net);
        double maxDiff = OnnxAgreement.maxDifference(AnyModel.output(net, x), file, inputName, x);
        assertTrue(maxDiff < 1e-5, what + ", ONNX Runtime: max |difference| " + maxDiff);
    }

    @ParameterizedTest(name = "{0} bits, per channel {1}")
    @CsvSource({"8, false", "4, false", "4, true", "3, false", "2, true"})
    void multiLayerNetworkRunsInOnnxRuntimeAsInDl4j(int bits, boolean perChannel) throws Exception {
        INDArray x = Nd4j.rand(DataType.FLOAT, 64, 1, 28, 28);
        MultiLayerNetwork lsq = trained(LsqConverter.convert(ConvertTestNets.leNet(1, DataType.FLOAT),
                QuantizationPolicy.builder(bits).perChannelWeights(perChannel).firstAndLastAtTargetBits().build()), x, 10);
        assertExportRunsAsInDl4j(lsq, OnnxExporter.MLN_INPUT, x, bits + "-bit LeNet");
    }

    @Test
    void residualGraphWithBatchNormRunsInOnnxRuntimeAsInDl4j() throws Exception {
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 12, 12);
        ComputationGraph lsq = trained(LsqConverter.convert(ConvertTestNets.residual(3, DataType.FLOAT),
                QuantizationPolicy.paper(2)), x, 5);
        assertExportRunsAsInDl4j(lsq, "in", x, "2-bit residual graph");
    }

    /** Depthwise convolutions, one with a depth multiplier of 2, per-channel steps, batch norm after them. */
    @Test
    void depthwiseGraphRunsInOnnxRuntimeAsInDl4j() throws Exception {
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 12, 12);
        ComputationGraph lsq = trained(LsqConverter.convert(ConvertTestNets.depthwise(3, DataType.FLOAT),
                QuantizationPolicy.paper(3)), x, 5);
        assertExportRunsAsInDl4j(lsq, "in", x, "3-bit depthwise graph");
    }

    /** Separable convolutions, converted to depthwise and pointwise LSQ layers, in a MultiLayerNetwork. */
    @Test
    void separableNetworkRunsInOnnxRuntimeAsInDl4j() throws Exception {
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 2, 12, 12).subi(0.5);
        MultiLayerNetwork lsq = trained(LsqConverter.convert(ConvertTestNets.separable(5, DataType.FLOAT),
                QuantizationPolicy.paper(4)), x, 3);
        assertExportRunsAsInDl4j(lsq, OnnxExporter.MLN_INPUT, x, "4-bit separable network");
    }

    /** The zoo ResNet50 (small-input variant): zero padding, max pool, 53 convolutions and batch norms, adds. */
    @Test
    void zooResNet50RunsInOnnxRuntimeAsInDl4j() throws Exception {
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 32, 32);
        ComputationGraph lsq = trained(LsqConverter.convert(io.github.lsq4j.zoo.ZooModels.initResNet50(10, 3, 32, 32, 42,
                new org.nd4j.linalg.learning.config.Sgd(1e-4)), QuantizationPolicy.paper(4)), x, 10, 1);
        assertExportRunsAsInDl4j(lsq, lsq.getConfiguration().getNetworkInputs().get(0), x, "4-bit zoo ResNet50");
    }

    /**
     * The folded form computes what the QDQ form computes (which the tests above hold to lsq4j), at every
     * optimization level: float convolutions on weights folded from the codes, batch norm folded in
     * (negative factors too), dense layers as {@code MatMulInteger}, and no DequantizeLinear left on the
     * per-call path.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"4-bit LeNet", "8-bit LeNet", "2-bit residual graph", "3-bit depthwise graph", "4-bit zoo ResNet50"})
    void foldedFormComputesWhatTheQdqFormComputes(String what) throws Exception {
        Model net;
        INDArray x;
        long[] shape;
        if (what.contains("LeNet")) {
            x = Nd4j.rand(DataType.FLOAT, 64, 1, 28, 28);
            shape = new long[] {1, 28, 28};
            net = trained(LsqConverter.convert(ConvertTestNets.leNet(1, DataType.FLOAT),
                    QuantizationPolicy.builder(what.startsWith("8") ? 8 : 4).firstAndLastAtTargetBits().build()), x, 10);
        } else if (what.contains("depthwise")) {
            x = Nd4j.rand(DataType.FLOAT, 64, 1, 12, 12);
            shape = new long[] {1, 12, 12};
            net = trained(LsqConverter.convert(ConvertTestNets.depthwise(3, DataType.FLOAT), QuantizationPolicy.paper(3)),
                    x, 5);
            negateSomeBatchNormFactors((ComputationGraph) net);
        } else if (what.contains("residual")) {
            x = Nd4j.rand(DataType.FLOAT, 64, 1, 12, 12);
            shape = new long[] {1, 12, 12};
            net = trained(LsqConverter.convert(ConvertTestNets.residual(3, DataType.FLOAT), QuantizationPolicy.paper(2)),
                    x, 5);
        } else {
            x = Nd4j.rand(DataType.FLOAT, 4, 3, 32, 32);
            shape = new long[] {3, 32, 32};
            net = trained(LsqConverter.convert(io.github.lsq4j.zoo.ZooModels.initResNet50(10, 3, 32, 32, 42,
                    new org.nd4j.linalg.learning.config.Sgd(1e-4)), QuantizationPolicy.paper(4)), x, 10, 1);
            negateSomeBatchNormFactors((ComputationGraph) net);
        }
        long quantizedDense = LsqLayers.lsqLayers(net).stream().filter(l -> l.lsqConf().isQuantizeWeights()
                && l.lsqConf().isQuantizeInputs() && !(l.lsqConf() instanceof io.github.lsq4j.layers.LsqConv2D)).count();
        Path qdq = dir.resolve("qdq.onnx");
        Path integer = dir.resolve("integer.onnx");
        OnnxExporter.export(net, qdq, shape);
        OnnxExporter.export(net, integer, OnnxFormat.FOLDED, shape);
        String inputName = net instanceof MultiLayerNetwork ? OnnxExporter.MLN_INPUT
                : ((ComputationGraph) net).getConfiguration().getNetworkInputs().get(0);
        INDArray expected;
        try (OnnxRuntimeRunner ort = new OnnxRuntimeRunner(qdq)) {
            expected = ort.run(inputName, x);
        }
        for (OrtSession.SessionOptions.OptLevel level : OrtSession.SessionOptions.OptLevel.values()) {
            Path optimized = dir.resolve("optimized-" + level + ".onnx");
            try (OnnxRuntimeRunner ort = new OnnxRuntimeRunner(integer, level, optimized)) {
                INDArray actual = ort.run(inputName, x);
                double maxDiff = expected.sub(actual).amaxNumber().doubleValue();
                assertTrue(maxDiff < 1e-5, what + ", ONNX Runtime " + level + ": max |difference| " + maxDiff);
            }
            Map<String, Long> ops = opCounts(optimized);
            assertEquals(quantizedDense, ops.getOrDefault("MatMulInteger", 0L), what + " " + level + ": " + ops);
            if (level == OrtSession.SessionOptions.OptLevel.ALL_OPT) {
                assertFalse(ops.containsKey("DequantizeLinear"), what + ": per-call dequantization left: " + ops);
            }
        }
    }

    /** Two channels of every batch norm get a negative factor, which the folded form must carry. */
    private static void negateSomeBatchNormFactors(ComputationGraph net) {
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                INDArray gamma = l.getParam("gamma");
                gamma.putScalar(0, -gamma.getDouble(0));
                gamma.putScalar(1, -gamma.getDouble(1));
            }
        }
    }

    private static Map<String, Long> opCounts(Path model) throws IOException {
        try (InputStream in = Files.newInputStream(model)) {
            return Onnx.ModelProto.parseFrom(in).getGraph().getNodeList().stream()
                    .collect(java.util.stream.Collectors.groupingBy(Onnx.NodeProto::getOpType, java.util.TreeMap::new,
                            java.util.stream.Collectors.counting()));
        }
    }

    /**
     * A layer whose input is nearly dead learns an input step near zero, and a bias of ordinary size is then
     * billions of units of {@code s_x * s_w}, beyond INT32 (issue 31: a 4-bit zoo UNet after three training
     * steps was refused: its bias -19.08 was -1.04e10 units). Here a convolution and a dense layer of a
     * trained network get the smallest input step training leaves ({@link LsqMath#MIN_STEP}) and biases of
     * 4 to 7 (of either sign, none near zero), beyond INT32 codes: each exports its bias in float, added
     * after the layer in the QDQ form and folded into the layer (with the batch norm after the convolution,
     * if any) in the {@code FOLDED} form; the other layers keep their INT32 codes; and ONNX Runtime computes
     * what DL4J computes with both files, at every optimization level.
     */
    @ParameterizedTest(name = "{0}, per channel {1}")
    @CsvSource({"LeNet, false", "LeNet, true", "conv - batch norm - dense, false"})
    void layerWithNearlyDeadInputExportsItsBiasInFloatAndRunsAsInDl4j(String what, boolean perChannel) throws Exception {
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 28, 28);
        MultiLayerNetwork lsq = trained(LsqConverter.convert(what.equals("LeNet") ? ConvertTestNets.leNet(1, DataType.FLOAT)
                        : convBatchNormDense(), QuantizationPolicy.builder(4).perChannelWeights(perChannel)
                        .firstAndLastAtTargetBits().build()), x, 10);
        for (QuantizedLayer layer : LsqLayers.lsqLayers(lsq)) {
            String name = layer.conf().getLayer().getLayerName();
            if (name.equals("conv2") || name.equals("fc1")) {
                layer.getParam(LsqLayerConfig.INPUT_STEP_KEY).assign(LsqMath.MIN_STEP);
                INDArray b = layer.getParam(LsqLayerConfig.BIAS_KEY);
                for (int c = 0; c < b.length(); c++) {
                    b.putScalar(c, (c % 2 == 0 ? 1 : -1) * (4 + 0.5 * (c % 7)));
                }
                assertTrue(BiasCodes.of(layer.integerParams()).isEmpty(), name + ": its bias codes fit in INT32");
            }
        }
        Path qdq = dir.resolve("qdq.onnx");
        Path folded = dir.resolve("folded.onnx");
        OnnxExporter.export(lsq, qdq, 1, 28, 28);
        OnnxExporter.export(lsq, folded, OnnxFormat.FOLDED, 1, 28, 28);

        assertCodesStepsAndBiasesAreTheNetworksExactly(lsq, qdq);
        Onnx.GraphProto qdqGraph = graph(qdq);
        assertFloatBiasAddedAfter(qdqGraph, "conv2", "Conv", 1, 16, 1, 1);
        assertFloatBiasAddedAfter(qdqGraph, "fc1", "MatMul", 1, 32);
        Onnx.GraphProto foldedGraph = graph(folded);
        for (String layer : List.of("conv2", "fc1")) {
            assertTrue(foldedGraph.getInitializerList().stream().noneMatch(t -> t.getName().equals(layer + "_b")),
                    layer + ": the folded form adds the float bias after the folded layer instead of folding it in");
        }
        Map<String, Long> ops = opCounts(folded);
        assertEquals(2L, ops.get("MatMulInteger"), "fc1 and output fold to MatMulInteger: " + ops);
        assertFalse(ops.containsKey("BatchNormalization"), "batch norm not folded: " + ops);

        OnnxAgreement.useExportedBiases(lsq);
        INDArray expected = lsq.output(x);
        for (Path file : List.of(qdq, folded)) {
            double maxDiff = OnnxAgreement.maxDifference(expected, file, OnnxExporter.MLN_INPUT, x);
            assertTrue(maxDiff < 1e-5, what + ", " + file.getFileName() + ", ONNX Runtime: max |difference| " + maxDiff);
        }
    }

    /** LeNet's layers with a batch norm between the second convolution (with bias) and its ReLU. */
    private static MultiLayerNetwork convBatchNormDense() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.FLOAT).updater(new org.nd4j.linalg.learning.config.Nesterovs(0.01, 0.9))
                .weightInit(org.deeplearning4j.nn.weights.WeightInit.RELU).list()
                .layer(new ConvolutionLayer.Builder(5, 5).name("conv1").nOut(8).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool1").kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv2").nOut(16).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().name("bn2").build())
                .layer(new ActivationLayer.Builder().name("relu2").activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc1").nOut(32).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(28, 28, 1)).build());
        net.init();
        return net;
    }

    /**
     * The layer's float bias {@code L_b}, of the given shape, is what an Add adds to the output of the layer's
     * Conv or MatMul, which has no bias input of its own.
     */
    private static void assertFloatBiasAddedAfter(Onnx.GraphProto graph, String layer, String opType, long... shape) {
        Onnx.TensorProto b = graph.getInitializerList().stream().filter(t -> t.getName().equals(layer + "_b"))
                .findFirst().orElseThrow(() -> new AssertionError(layer + ": no bias " + layer + "_b"));
        assertEquals(OnnxGraph.FLOAT, b.getDataType(), layer + ": bias type");
        assertArrayEquals(shape, b.getDimsList().stream().mapToLong(Long::longValue).toArray(), layer + ": bias shape");
        Onnx.NodeProto add = graph.getNodeList().stream().filter(n -> n.getOpType().equals("Add")
                && n.getInput(1).equals(b.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(layer + ": no Add of its bias"));
        Onnx.NodeProto op = graph.getNodeList().stream().filter(n -> n.getOutputList().contains(add.getInput(0)))
                .findFirst().orElseThrow();
        assertEquals(opType, op.getOpType(), layer + ": what the bias is added to");
        assertEquals(2, op.getInputCount(), layer + ": the " + opType + " has a bias input too");
    }

    private static Onnx.GraphProto graph(Path model) throws IOException {
        try (InputStream in = Files.newInputStream(model)) {
            return Onnx.ModelProto.parseFrom(in).getGraph();
        }
    }

    @Test
    void floatNetworkRunsInOnnxRuntimeAsInDl4j() throws Exception {
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 1, 28, 28);
        MultiLayerNetwork net = ConvertTestNets.leNet(2, DataType.FLOAT);
        Path file = dir.resolve("float.onnx");
        OnnxExporter.export(net, file, 1, 28, 28);
        try (OnnxRuntimeRunner ort = new OnnxRuntimeRunner(file)) {
            INDArray expected = net.output(x);
            INDArray actual = ort.run(OnnxExporter.MLN_INPUT, x);
            assertTrue(expected.equalsWithEps(actual, 1e-5), "float network: max |difference| "
                    + expected.sub(actual).amaxNumber());
        }
    }

    /**
     * Every LSQ layer's weight codes (unpacked from INT4 or INT8), steps and bias, read back from the file:
     * the bias as INT32 codes ({@link BiasCodes}) where both quantizers are on and the codes fit, else float.
     */
    private static void assertCodesStepsAndBiasesAreTheNetworksExactly(Model net, Path file) throws IOException {
        Map<String, Onnx.TensorProto> initializers = new HashMap<>();
        try (InputStream in = Files.newInputStream(file)) {
            Onnx.ModelProto.parseFrom(in).getGraph().getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        }
        int checked = 0;
        for (QuantizedLayer layer : LsqLayers.lsqLayers(net)) {
            LsqIntegerParams p = layer.integerParams();
            String name = layer.conf().getLayer().getLayerName();
            Onnx.TensorProto codes = initializers.get(name + "_w");
            INDArray expected = p.weightCodes().rank() == 4 ? p.weightCodes().permute(3, 2, 0, 1) : p.weightCodes();
            assertArrayEquals(expected.shape(), codes.getDimsList().stream().mapToLong(Long::longValue).toArray(), name);
            int bits = p.weightQuantizer().bits();
            assertEquals(bits <= 4 ? OnnxGraph.INT4 : OnnxGraph.INT8, codes.getDataType(), name + ": type");
            assertArrayEquals(expected.dup('c').data().asInt(), unpack(codes), name + ": codes");
            Onnx.TensorProto scale = initializers.get(name + "_w_step");
            float[] steps = floats(scale);
            assertArrayEquals(p.weightSteps().castTo(DataType.FLOAT).data().asFloat(), steps, 0f, name + ": steps");
            if (p.inputQuantizer() != null) {
                assertEquals((float) p.inputStep(), floats(initializers.get(name + "_x_step"))[0], 0f,
                        name + ": input step");
            }
            if (p.bias() != null) {
                assertBiasIsTheLayers(name, p, initializers.get(name + "_b"));
            }
            checked++;
        }
        assertTrue(checked > 0, "no LSQ layer checked");
    }

    /** The bias {@code L_b}: INT32 codes where both quantizers are on and they fit, else the float bias itself. */
    private static void assertBiasIsTheLayers(String name, LsqIntegerParams p, Onnx.TensorProto b) {
        Optional<BiasCodes> codes = p.inputQuantizer() == null ? Optional.empty() : BiasCodes.of(p);
        if (codes.isPresent()) {
            assertEquals(OnnxGraph.INT32, b.getDataType(), name + ": bias type");
            int[] actual = new int[codes.get().codes().length];
            ByteBuffer.wrap(b.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(actual);
            assertArrayEquals(codes.get().codes(), actual, name + ": bias codes");
        } else {
            assertEquals(OnnxGraph.FLOAT, b.getDataType(), name + ": bias type");
            assertArrayEquals(p.bias().castTo(DataType.FLOAT).data().asFloat(), floats(b), 0f, name + ": bias");
        }
    }

    private static int[] unpack(Onnx.TensorProto t) {
        byte[] raw = t.getRawData().toByteArray();
        int n = Math.toIntExact(t.getDimsList().stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b));
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            if (t.getDataType() == OnnxGraph.INT4) {
                int nibble = (raw[i / 2] >> (4 * (i % 2))) & 0x0F;
                out[i] = nibble >= 8 ? nibble - 16 : nibble;
            } else {
                out[i] = raw[i];
            }
        }
        return out;
    }

    private static float[] floats(Onnx.TensorProto t) {
        ByteBuffer b = ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    @Test
    void unsupportedLayerIsNamedWithItsKind() {
        MultiLayerNetwork rnn = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new LSTM.Builder().name("lstm1").nOut(4).build())
                .layer(new RnnOutputLayer.Builder().nOut(2).build())
                .setInputType(InputType.recurrent(3)).build());
        rnn.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExporter.toOnnx(rnn, 3, 5));
        assertTrue(e.getMessage().contains("lstm1") && e.getMessage().contains("LSTM"), e.getMessage());
    }

    @Test
    void uninitializedInputStepSaysToCalibrateAndLeavesTheOldFileIntact() throws IOException {
        MultiLayerNetwork lsq = LsqConverter.convert(ConvertTestNets.leNet(1, DataType.FLOAT), QuantizationPolicy.paper(4));
        Path file = dir.resolve("model.onnx");
        Files.writeString(file, "previous model");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> OnnxExporter.export(lsq, file, 1, 28, 28));
        assertTrue(e.getMessage().contains("conv1") && e.getMessage().contains("calibrate"), e.getMessage());
        assertEquals("previous model", Files.readString(file), "a failed export leaves the old file");
    }
}
