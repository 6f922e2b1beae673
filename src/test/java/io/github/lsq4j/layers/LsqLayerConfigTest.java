package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.Quantizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/** Configuration: parameters and their shapes, builder validation, toString, JSON, per-parameter rules. */
class LsqLayerConfigTest {

    @BeforeEach
    void floatPrecision() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    private static Map<String, INDArray> params(Layer layer, InputType in) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list().layer(layer)
                .layer(TestNets.output(2)).setInputType(in).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net.getLayer(0).paramTable();
    }

    private static void assertShapes(Map<String, INDArray> p, Object... keysAndShapes) {
        assertEquals(keysAndShapes.length / 2, p.size(), "parameters: " + p.keySet());
        for (int i = 0; i < keysAndShapes.length; i += 2) {
            String key = (String) keysAndShapes[i];
            assertTrue(p.containsKey(key), "missing parameter " + key + " in " + p.keySet());
            assertArrayEquals((long[]) keysAndShapes[i + 1], p.get(key).shape(), "shape of " + key);
        }
    }

    @Test
    void parameterShapes() {
        InputType ff = InputType.feedForward(5);
        assertShapes(params(new LsqDense.Builder().nOut(3).build(), ff),
                "W", new long[] {5, 3}, "b", new long[] {3}, "sw", new long[] {1, 1}, "sx", new long[] {1, 1});
        assertShapes(params(new LsqDense.Builder().nOut(3).perChannelWeights(true).hasBias(false).build(), ff),
                "W", new long[] {5, 3}, "sw", new long[] {1, 3}, "sx", new long[] {1, 1});
        assertShapes(params(new LsqDense.Builder().nOut(3).quantizeInputs(false).build(), ff),
                "W", new long[] {5, 3}, "b", new long[] {3}, "sw", new long[] {1, 1});
        assertShapes(params(new LsqDense.Builder().nOut(3).quantize(false).build(), ff),
                "W", new long[] {5, 3}, "b", new long[] {3});

        InputType img = InputType.convolutional(6, 6, 2);
        assertShapes(params(new LsqConv2D.Builder().nOut(4).kernelSize(3, 2).build(), img),
                "W", new long[] {3, 2, 2, 4}, "b", new long[] {4}, "sw", new long[] {1, 1}, "sx", new long[] {1, 1});
        assertShapes(params(new LsqConv2D.Builder().nOut(4).kernelSize(3).perChannelWeights(true).quantizeWeights(true)
                        .quantizeInputs(false).build(), img),
                "W", new long[] {3, 3, 2, 4}, "b", new long[] {4}, "sw", new long[] {1, 4});
        // depthwise: one [kH, kW] kernel per output channel, nOut = nIn * depthMultiplier
        assertShapes(params(new LsqDepthwiseConv2D.Builder().depthMultiplier(3).kernelSize(3, 2).perChannelWeights(true)
                        .build(), img),
                "W", new long[] {3, 2, 1, 6}, "b", new long[] {6}, "sw", new long[] {1, 6}, "sx", new long[] {1, 1});
        assertShapes(params(new LsqDepthwiseConv2D.Builder().kernelSize(3).hasBias(false).quantize(false).build(), img),
                "W", new long[] {3, 3, 1, 2});
    }

    @Test
    void stepsStartUninitializedAndWeightsAreInitialized() {
        Map<String, INDArray> p = params(new LsqConv2D.Builder().nOut(4).kernelSize(3).build(),
                InputType.convolutional(6, 6, 2));
        assertEquals(0.0, p.get("sw").getDouble(0), "weight step: 0 = derive from the weights on first use");
        assertEquals(0.0, p.get("sx").getDouble(0), "input step: 0 = derive from the first training batch");
        assertTrue(p.get("W").amaxNumber().doubleValue() > 0, "weights initialized");
        assertEquals(0.0, p.get("b").amaxNumber().doubleValue(), "bias starts at 0 like the stock layers'");
    }

    private static void assertBuildFails(Supplier<?> build, String... fragments) {
        Exception e = assertThrows(IllegalArgumentException.class, build::get);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void buildValidatesAndNamesLayerAndValue() {
        assertBuildFails(() -> new LsqDense.Builder().name("fc1").nOut(3).weightBits(9).build(),
                "LsqDense 'fc1'", "weightBits", "9");
        assertBuildFails(() -> new LsqDense.Builder().name("fc1").nOut(3).inputBits(1).build(),
                "LsqDense 'fc1'", "inputBits", "1");
        assertBuildFails(() -> new LsqConv2D.Builder().name("c1").nOut(3).bits(0).build(), "LsqConv2D 'c1'", "weightBits", "0");
        assertBuildFails(() -> new LsqDense.Builder().name("fc2").nOut(0).build(), "LsqDense 'fc2'", "nOut", "0");
        assertBuildFails(() -> new LsqDense.Builder().nIn(-2).nOut(3).build(), "LsqDense", "nIn", "-2");
        assertBuildFails(() -> new LsqConv2D.Builder().name("c2").nOut(3).kernelSize(0, 3).build(),
                "LsqConv2D 'c2'", "kernelSize", "[0, 3]");
        assertBuildFails(() -> new LsqConv2D.Builder().name("c3").nOut(3).stride(-1).build(),
                "LsqConv2D 'c3'", "stride", "[-1, -1]");
        assertBuildFails(() -> new LsqConv2D.Builder().nOut(3).padding(-1, 0).build(), "padding", "[-1, 0]");
        assertBuildFails(() -> new LsqConv2D.Builder().nOut(3).dilation(0).build(), "dilation", "[0, 0]");
        assertBuildFails(() -> new LsqConv2D.Builder().name("c4").nOut(3).convolutionMode(ConvolutionMode.Strict).build(),
                "LsqConv2D 'c4'", "convolutionMode", "Strict");
        assertBuildFails(() -> new LsqConv2D.Builder().nOut(3).convolutionMode(ConvolutionMode.Causal).build(),
                "Causal");
        assertBuildFails(() -> new LsqDense.Builder().name("fc3").nOut(3).biasInit(Double.NaN).build(),
                "LsqDense 'fc3'", "biasInit", "NaN");
        assertBuildFails(() -> new LsqDense.Builder().nOut(3).dropOut(0.5).build(), "dropout");
        assertBuildFails(() -> new LsqDense.Builder().nOut(3).gradientScale(null).build(), "gradient scale");
        assertBuildFails(() -> new LsqConv2D.Builder().nOut(3).kernelSize(3, 3, 3).build(), "kernelSize");
        assertBuildFails(() -> new LsqDepthwiseConv2D.Builder().name("dw1").depthMultiplier(0).build(),
                "LsqDepthwiseConv2D 'dw1'", "depthMultiplier", "0");
        assertBuildFails(() -> new LsqDepthwiseConv2D.Builder().name("dw2").nIn(4).depthMultiplier(2).nOut(6).build(),
                "LsqDepthwiseConv2D 'dw2'", "nIn * depthMultiplier = 8", "nOut 6");
        assertBuildFails(() -> new LsqDepthwiseConv2D.Builder().name("dw3").stride(0).build(),
                "LsqDepthwiseConv2D 'dw3'", "stride", "[0, 0]");
        assertBuildFails(() -> new LsqDepthwiseConv2D.Builder().name("dw4").bits(9).build(),
                "LsqDepthwiseConv2D 'dw4'", "weightBits", "9");
        // Valid extremes build.
        new LsqDense.Builder().nOut(1).bits(2).build();
        new LsqDense.Builder().nOut(1).bits(8).build();
    }

    @Test
    void toStringShowsHyperparameters() {
        String s = new LsqConv2D.Builder().name("c1").nIn(2).nOut(8).kernelSize(3).stride(2).padding(1)
                .convolutionMode(ConvolutionMode.Same).weightBits(2).inputBits(3).inputSigned(false)
                .perChannelWeights(true).activation(Activation.RELU).gradientScale(GradientScale.fixed(0.5))
                .stepUpdater(new Sgd(0.01)).build().toString();
        for (String f : new String[] {"LsqConv2D", "name=c1", "nIn=2", "nOut=8", "kernelSize=[3, 3]", "stride=[2, 2]",
                "padding=[1, 1]", "convolutionMode=Same", "weights=2 bits signed per channel",
                "inputs=3 bits unsigned per tensor", "activation=relu", "FIXED", "0.5", "stepUpdater"}) {
            assertTrue(s.contains(f), s + " should contain " + f);
        }
        String dw = new LsqDepthwiseConv2D.Builder().name("dw").nIn(3).depthMultiplier(2).kernelSize(3).bits(3).build()
                .toString();
        for (String f : new String[] {"LsqDepthwiseConv2D(", "depthMultiplier=2", "name=dw", "nIn=3", "nOut=6",
                "kernelSize=[3, 3]", "weights=3 bits"}) {
            assertTrue(dw.contains(f), dw + " should contain " + f);
        }
        String d = new LsqDense.Builder().nIn(4).nOut(2).quantize(false).build().toString();
        assertTrue(d.contains("LsqDense") && d.contains("weights=not quantized") && d.contains("inputs=not quantized"), d);
    }

    private static LsqDense fullDense() {
        return new LsqDense.Builder().name("fc").nIn(7).nOut(5).activation(Activation.TANH).hasBias(false)
                .weightBits(3).inputBits(6).inputSigned(false).perChannelWeights(true)
                .gradientScale(GradientScale.fixed(0.25)).quantizeWeights(true).quantizeInputs(false)
                .stepUpdater(new Sgd(0.003)).updater(new Adam(0.02)).l2(1e-3).weightInit(WeightInit.RELU).build();
    }

    private static LsqConv2D fullConv() {
        return new LsqConv2D.Builder().name("conv").nIn(3).nOut(6).kernelSize(3, 2).stride(2, 1).padding(1, 0)
                .dilation(1, 2).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).hasBias(true)
                .weightBits(2).inputBits(5).inputSigned(true).perChannelWeights(false)
                .gradientScale(GradientScale.batchInclusive()).quantizeWeights(false).quantizeInputs(true)
                .stepUpdater(new NoOp()).weightInit(WeightInit.XAVIER_UNIFORM).build();
    }

    private static LsqDepthwiseConv2D fullDepthwise() {
        return new LsqDepthwiseConv2D.Builder().name("dw").depthMultiplier(2).kernelSize(3, 3).stride(1, 2)
                .padding(1, 1).convolutionMode(ConvolutionMode.Truncate).activation(Activation.TANH).hasBias(false)
                .weightBits(3).inputBits(4).inputSigned(false).perChannelWeights(true).stepUpdater(new Sgd(0.5)).build();
    }

    private static void assertSameLsqFields(AbstractLsqLayer a, AbstractLsqLayer b) {
        assertEquals(a.getLayerName(), b.getLayerName());
        assertEquals(a.getNIn(), b.getNIn());
        assertEquals(a.getNOut(), b.getNOut());
        assertEquals(a.getActivationFn(), b.getActivationFn());
        assertEquals(a.isHasBias(), b.isHasBias());
        assertEquals(a.getWeightQuantizer(), b.getWeightQuantizer());
        assertEquals(a.getInputQuantizer(), b.getInputQuantizer());
        for (Quantizer[] q : new Quantizer[][] {{a.getWeightQuantizer(), b.getWeightQuantizer()},
                {a.getInputQuantizer(), b.getInputQuantizer()}}) {
            if (q[0] != null) {
                assertEquals(q[0].bits(), q[1].bits());
                assertEquals(q[0].signed(), q[1].signed());
                assertEquals(q[0].channelAxis(), q[1].channelAxis());
                assertEquals(q[0].gradientScale().mode(), q[1].gradientScale().mode());
                assertEquals(Double.doubleToLongBits(q[0].gradientScale().fixedValue()),
                        Double.doubleToLongBits(q[1].gradientScale().fixedValue()));
                assertEquals(q[0].gradientScale(), q[1].gradientScale());
            }
        }
        assertEquals(a.getLsq(), b.getLsq());
        assertEquals(a.isQuantizeWeights(), b.isQuantizeWeights());
        assertEquals(a.isQuantizeInputs(), b.isQuantizeInputs());
        assertEquals(a.getStepUpdater(), b.getStepUpdater());
        assertEquals(a.getUpdater(), b.getUpdater());
        assertEquals(a.getRegularization(), b.getRegularization());
        assertEquals(a.getWeightInit(), b.getWeightInit());
        assertEquals(a.getLayerParams(), b.getLayerParams());
        if (a instanceof LsqConv2D ca) {
            LsqConv2D cb = (LsqConv2D) b;
            assertArrayEquals(ca.getKernelSize(), cb.getKernelSize());
            assertArrayEquals(ca.getStride(), cb.getStride());
            assertArrayEquals(ca.getPadding(), cb.getPadding());
            assertArrayEquals(ca.getDilation(), cb.getDilation());
            assertEquals(ca.getConvolutionMode(), cb.getConvolutionMode());
        }
        if (a instanceof LsqDepthwiseConv2D da) {
            assertEquals(da.getDepthMultiplier(), ((LsqDepthwiseConv2D) b).getDepthMultiplier());
        }
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(a.toString(), b.toString());
    }

    @Test
    void jsonRoundTripKeepsEveryFieldInMultiLayerConfiguration() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                .layer(fullConv())
                .layer(new LsqConv2D.Builder().nOut(4).kernelSize(2).build())
                .layer(fullDepthwise())
                .layer(fullDense())
                .layer(TestNets.output(2))
                .setInputType(InputType.convolutional(8, 8, 3)).build();
        // (setInputType overrides fullDense()'s nIn=7 with the real one: DL4J's overrideNinUponBuild.)
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(8, ((LsqDepthwiseConv2D) restored.getConf(2).getLayer()).getNOut(), "nOut = nIn * depthMultiplier");
        for (int i = 0; i < 4; i++) {
            assertSameLsqFields((AbstractLsqLayer) conf.getConf(i).getLayer(),
                    (AbstractLsqLayer) restored.getConf(i).getLayer());
        }
        assertEquals(conf, restored);
        assertEquals(conf.toJson(), restored.toJson());
    }

    @Test
    void jsonRoundTripKeepsEveryFieldInComputationGraphConfiguration() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().graphBuilder().addInputs("in")
                .addLayer("conv", fullConv(), "in")
                .addLayer("dw", fullDepthwise(), "conv")
                .addLayer("fc", fullDense(), "dw")
                .addLayer("out", TestNets.output(2), "fc").setOutputs("out")
                .setInputTypes(InputType.convolutional(8, 8, 3)).build();
        ComputationGraphConfiguration restored = ComputationGraphConfiguration.fromJson(conf.toJson());
        for (String name : new String[] {"conv", "dw", "fc"}) {
            assertSameLsqFields(layerOf(conf, name), layerOf(restored, name));
        }
        assertEquals(conf.toJson(), restored.toJson());
    }

    /** Options with step unit 1 are what version 1 expressed, and are written as version 1 for older readers. */
    @Test
    void builderLayersHaveFormatVersionOneAndJsonKeepsIt() {
        LsqDense d = fullDense();
        LsqConv2D c = fullConv();
        assertEquals(1, d.getLsq().formatVersion());
        assertEquals(1, c.getLsq().formatVersion());
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list().layer(c).layer(d)
                .layer(TestNets.output(2)).setInputType(InputType.convolutional(8, 8, 3)).build();
        String json = conf.toJson();
        assertTrue(json.contains("\"formatVersion\""), json);
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(json);
        for (int i = 0; i < 2; i++) {
            assertEquals(1, ((AbstractLsqLayer) restored.getConf(i).getLayer()).getLsq().formatVersion());
        }
    }

    private static MultiLayerConfiguration lsqConf() {
        return new NeuralNetConfiguration.Builder().list().layer(fullConv()).layer(fullDense())
                .layer(TestNets.output(2)).setInputType(InputType.convolutional(8, 8, 3)).build();
    }

    @Test
    void jsonOfANewerFormatVersionIsRefused() {
        String json = TestNets.editLsqLayerJson(lsqConf().toJson(),
                layer -> ((ObjectNode) layer.get("lsq")).put("formatVersion", 99));
        TestNets.assertJsonRefused(json, "formatVersion 99", "newer");
    }

    @Test
    void jsonWithAnInvalidQuantizerIsRefusedNamingTheValue() {
        String json = TestNets.editLsqLayerJson(lsqConf().toJson(), layer -> {
            ObjectNode lsq = (ObjectNode) layer.get("lsq");
            ((ObjectNode) lsq.get(lsq.get("weightQuantizer").isObject() ? "weightQuantizer" : "inputQuantizer"))
                    .put("bits", 12);
        });
        TestNets.assertJsonRefused(json, "bits", "got 12");
    }

    /** Java serialization, as Spark uses to ship configurations to its executors. */
    @Test
    void javaSerializationKeepsEveryLayer() throws Exception {
        for (org.deeplearning4j.nn.conf.layers.Layer layer : List.of(fullConv(), fullDense(), fullDepthwise(),
                new LsqOutputLayer.Builder().nIn(4).nOut(3).bits(3).perChannelWeights(true)
                        .gradientScale(GradientScale.fixed(0.5)).stepUpdater(new Sgd(0.1)).build())) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
                out.writeObject(layer);
            }
            try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                    new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
                Object copy = in.readObject();
                assertEquals(layer, copy);
                assertEquals(((LsqLayerConfig) layer).getLsq(), ((LsqLayerConfig) copy).getLsq());
            }
        }
    }

    @Test
    void jsonWithoutLsqOptionsIsRefusedWhenTheNetworkIsMade() {
        String json = TestNets.editLsqLayerJson(lsqConf().toJson(), layer -> layer.remove("lsq"));
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(json);
        Exception e = assertThrows(IllegalArgumentException.class, () -> new MultiLayerNetwork(conf).init());
        assertTrue(e.getMessage().contains("LsqConv2D") && e.getMessage().contains("no LSQ options"), e.getMessage());
    }

    @Test
    void jsonWithAnOldFormatPropertyIsRefusedNamingIt() {
        String json = TestNets.editLsqLayerJson(lsqConf().toJson(), layer -> layer.put("weightBits", 4));
        TestNets.assertJsonRefused(json, "'weightBits'", "format version");
    }

    private static AbstractLsqLayer layerOf(ComputationGraphConfiguration c, String name) {
        return (AbstractLsqLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) c.getVertices().get(name))
                .getLayerConf().getLayer();
    }

    /** fullDense() with its input quantizer on (6 bits unsigned, as fullDense() sets it up before switching it off). */
    private static LsqDense fullDenseWithInputs() {
        LsqDense d = fullDense();
        d.setLsq(d.getLsq().withInputQuantizer(INPUTS_OF_FULL_DENSE));
        return d;
    }

    private static final Quantizer INPUTS_OF_FULL_DENSE =
            Quantizer.unsigned(6).withGradientScale(GradientScale.fixed(0.25));

    @Test
    void equalsSeesEveryLsqField() {
        // fullDense() quantizes no inputs; the input quantizer's fields are also changed on a copy that does.
        for (Supplier<LsqDense> base : List.<Supplier<LsqDense>>of(LsqLayerConfigTest::fullDense,
                LsqLayerConfigTest::fullDenseWithInputs)) {
            LsqDense a = base.get();
            Quantizer w = a.getWeightQuantizer();
            Quantizer in = a.getInputQuantizer() != null ? a.getInputQuantizer() : INPUTS_OF_FULL_DENSE;
            assertEquals(Quantizer.signed(3).perChannel(LsqDense.WEIGHT_CHANNEL_AXIS)
                    .withGradientScale(GradientScale.fixed(0.25)), w);
            List<UnaryOperator<Quantizer>> quantizerChanges = List.of(q -> q.withBits(4), q -> q.withBits(2),
                    q -> q.withSigned(!q.signed()), q -> q.isPerChannel() ? q.perTensor() : q.perChannel(1),
                    q -> q.withGradientScale(GradientScale.fixed(0.3)), q -> q.withGradientScale(GradientScale.paper()),
                    q -> q.withGradientScale(GradientScale.batchInclusive()),
                    q -> q.withGradientScale(GradientScale.none()));
            List<Runnable> changes = new ArrayList<>();
            for (UnaryOperator<Quantizer> change : quantizerChanges) {
                changes.add(() -> a.setLsq(a.getLsq().withWeightQuantizer(change.apply(w))));
                changes.add(() -> a.setLsq(a.getLsq().withInputQuantizer(change.apply(in))));
            }
            changes.addAll(List.of(
                    () -> a.setLsq(a.getLsq().withInputQuantizer(a.getInputQuantizer() == null ? in : null)),
                    () -> a.setLsq(a.getLsq().withWeightQuantizer(null)), () -> a.setLsq(a.getLsq().withStepUpdater(null)),
                    () -> a.setHasBias(true), () -> a.setActivationFn(Activation.RELU.getActivationFunction()),
                    () -> a.setActivationFn(new ActivationLReLU(0.2)), () -> a.setBiasInit(0.5), () -> a.setNIn(8),
                    () -> a.setNOut(6)));
            for (Runnable change : changes) {
                LsqDense before = base.get();
                change.run();
                assertNotEquals(before, a);
                // reset for the next change
                LsqDense fresh = base.get();
                a.setLsq(fresh.getLsq());
                a.setHasBias(fresh.isHasBias());
                a.setActivationFn(fresh.getActivationFn());
                a.setBiasInit(fresh.getBiasInit());
                a.setNIn(fresh.getNIn());
                a.setNOut(fresh.getNOut());
                assertEquals(fresh, a);
            }
        }
        LsqConv2D c = fullConv();
        c.setKernelSize(new int[] {1, 1});
        assertNotEquals(fullConv(), c);
        c = fullConv();
        c.setConvolutionMode(ConvolutionMode.Truncate);
        assertNotEquals(fullConv(), c);
        LsqDepthwiseConv2D d = fullDepthwise();
        d.setDepthMultiplier(3);
        assertNotEquals(fullDepthwise(), d);
        assertNotEquals(fullDepthwise().hashCode(), d.hashCode());
    }

    @Test
    void cloneIsDeepAndEqual() {
        LsqConv2D c = fullConv();
        LsqConv2D copy = c.clone();
        assertEquals(c, copy);
        copy.setStride(new int[] {3, 3});
        assertArrayEquals(new int[] {2, 1}, c.getStride());
    }

    @Test
    void stepsGetNoRegularizationAndTheirOwnUpdater() {
        LsqDense d = new LsqDense.Builder().nIn(3).nOut(2).l2(0.1).l2Bias(0.2).updater(new Adam(0.1))
                .stepUpdater(new Sgd(0.5)).build();
        assertTrue(d.getRegularizationByParam("sw").isEmpty());
        assertTrue(d.getRegularizationByParam("sx").isEmpty());
        assertEquals(List.of(new L2Regularization(0.1)), d.getRegularizationByParam("W"));
        assertEquals(List.of(new L2Regularization(0.2)), d.getRegularizationByParam("b"));
        assertEquals(new Sgd(0.5), d.getUpdaterByParam("sw"));
        assertEquals(new Sgd(0.5), d.getUpdaterByParam("sx"));
        assertEquals(new Adam(0.1), d.getUpdaterByParam("W"));
        LsqDense noStepUpdater = new LsqDense.Builder().nIn(3).nOut(2).updater(new Adam(0.1)).biasUpdater(new Sgd(1))
                .build();
        assertEquals(new Adam(0.1), noStepUpdater.getUpdaterByParam("sx"), "steps default to the layer's updater");
        assertNull(noStepUpdater.getStepUpdater());
    }

    /** Two nets, with and without strong weight decay: after training the steps agree, the weights don't. */
    @Test
    void weightDecayDoesNotTouchStepsInTraining() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        MultiLayerNetwork plain = denseNet(0, null);
        MultiLayerNetwork decayed = denseNet(0.5, null);
        decayed.setParams(plain.params().dup());
        INDArray x = TestNets.input(DataType.DOUBLE, 1, 8, 6);
        INDArray y = TestNets.labels(DataType.DOUBLE, 8, 2);
        // One step: both nets compute gradients at identical parameters, so the steps can differ only
        // if weight decay acts on them.
        plain.fit(x, y);
        decayed.fit(x, y);
        for (String step : new String[] {"sw", "sx"}) {
            TestNets.assertClose(plain.getLayer(0).getParam(step), decayed.getLayer(0).getParam(step), 0, step);
        }
        assertTrue(TestNets.maxAbsDiff(plain.getLayer(0).getParam("W"), decayed.getLayer(0).getParam("W")) > 1e-3,
                "weight decay must act on W");
        assertNotEquals(0.0, plain.getLayer(0).getParam("sw").getDouble(0) - initialWeightStep(plain), 0.0);
    }

    @Test
    void stepUpdaterIsUsed() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        // Learning rate 0 for the steps only (DL4J's NoOp updater applies the raw gradient, like SGD lr 1).
        MultiLayerNetwork net = denseNet(0, new Sgd(0.0));
        INDArray x = TestNets.input(DataType.DOUBLE, 2, 8, 6);
        INDArray y = TestNets.labels(DataType.DOUBLE, 8, 2);
        INDArray w0 = net.getLayer(0).getParam("W").dup();
        double sw0 = initialWeightStep(net);
        net.fit(x, y);
        net.fit(x, y);
        AbstractLsqLayer c = ((LsqRuntimeLayer) net.getLayer(0)).lsqConf();
        double sx0 = LsqMath.initialSteps(x, c.getInputQuantizer().perTensor()).getDouble(0);
        assertEquals(sx0, net.getLayer(0).getParam("sx").getDouble(0), 0, "step learning rate 0: sx stays at its init");
        assertEquals(sw0, net.getLayer(0).getParam("sw").getDouble(0), 0, "step learning rate 0: sw stays at its init");
        assertFalse(w0.equals(net.getLayer(0).getParam("W")), "weights still train");
    }

    private static double initialWeightStep(MultiLayerNetwork net) {
        return LsqMath.initialSteps(net.getLayer(0).getParam("W"), Quantizer.signed(4)).getDouble(0);
    }

    private static MultiLayerNetwork denseNet(double weightDecay, org.nd4j.linalg.learning.config.IUpdater stepUpdater) {
        LsqDense.Builder b = new LsqDense.Builder().nIn(6).nOut(4).activation(Activation.TANH);
        if (weightDecay > 0) {
            b.weightDecay(weightDecay, false);
        }
        if (stepUpdater != null) {
            b.stepUpdater(stepUpdater);
        }
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).list().layer(b.build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX)
                        .lossFunction(org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }
}
