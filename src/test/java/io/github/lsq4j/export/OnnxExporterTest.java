package io.github.lsq4j.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.ConvertTestNets;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import ai.onnxruntime.OrtSession;
import io.github.lsq4j.layers.LsqIntegerParams;
import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.layers.QuantizedLayer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import onnx.Onnx;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

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
        INDArray y = Nd4j.zeros(DataType.FLOAT, x.size(0), classes);
        for (int i = 0; i < x.size(0); i++) {
            y.putScalar(i, i % classes, 1.0);
        }
        DataSetIterator data = new SingletonDataSetIterator(new DataSet(x, y));
        LsqLayers.calibrate(lsq, data);
        for (int i = 0; i < steps; i++) {
            if (lsq instanceof MultiLayerNetwork m) {
                m.fit(x, y);
            } else {
                ((ComputationGraph) lsq).fit(new INDArray[] {x}, new INDArray[] {y});
            }
        }
        return lsq;
    }

    /**
     * Exports {@code net} (QDQ) for inputs shaped as {@code x}, and asserts that the file holds the network's
     * codes and steps and that ONNX Runtime computes what DL4J computes on {@code x}.
     */
    private void assertExportRunsAsInDl4j(Model net, String inputName, INDArray x, String what) throws Exception {
        Path file = dir.resolve("model.onnx");
        OnnxExporter.export(net, file, Arrays.copyOfRange(x.shape(), 1, x.rank()));
        assertCodesAndStepsAreTheNetworksExactly(net, file);
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
        double maxDiff = OnnxAgreement.maxDifference(OnnxAgreement.dl4jOutput(net, x), file, inputName, x);
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

    /** Every LSQ layer's weight codes (unpacked from INT4 or INT8) and steps, read back from the file. */
    private static void assertCodesAndStepsAreTheNetworksExactly(Model net, Path file) throws IOException {
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
            checked++;
        }
        assertTrue(checked > 0, "no LSQ layer checked");
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
