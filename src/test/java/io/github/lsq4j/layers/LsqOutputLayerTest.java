package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.op.LsqOp;
import io.github.lsq4j.op.QuietSameDiff;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@link LsqOutputLayer} as the other LSQ layers are proven: equal to the stock {@code OutputLayer} with
 * quantization off (outputs, score, gradients, DL4J's numerical gradient check), every gradient with
 * quantization on against a SameDiff graph of the same layer built from {@link LsqOp} (tested against the
 * golden numbers), the step rules, and JSON and model-file round trips.
 */
class LsqOutputLayerTest {
    private static final double TOL = 1e-9;

    @BeforeEach
    void doublePrecision() {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    private static MultiLayerNetwork net(Layer output, long seed) {
        return net(output, seed, new Sgd(0.1));
    }

    private static MultiLayerNetwork net(Layer output, long seed, org.nd4j.linalg.learning.config.IUpdater updater) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.DOUBLE)
                .updater(updater).weightInit(WeightInit.XAVIER).list()
                .layer(new LsqDense.Builder().nOut(6).activation(Activation.TANH).quantize(false).build())
                .layer(output).setInputType(InputType.feedForward(5)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void quantizationOffEqualsTheStockOutputLayer() {
        MultiLayerNetwork stock = net(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).build(), 7);
        MultiLayerNetwork lsq = net(new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).quantize(false).build(), 7);
        assertEquals(stock.getLayer(1).paramTable().keySet(), lsq.getLayer(1).paramTable().keySet());
        assertEquals(stock.params(), lsq.params(), "same parameters from the same seed");
        INDArray x = TestNets.input(DataType.DOUBLE, 3, 8, 5);
        INDArray y = TestNets.labels(DataType.DOUBLE, 8, 3);
        TestNets.assertClose(stock.output(x), lsq.output(x), 0, "output");
        stock.setInput(x);
        stock.setLabels(y);
        lsq.setInput(x);
        lsq.setLabels(y);
        stock.computeGradientAndScore();
        lsq.computeGradientAndScore();
        assertEquals(stock.score(), lsq.score(), 0, "score");
        TestNets.assertClose(stock.gradient().gradient(), lsq.gradient().gradient(), 0, "gradients");
        for (int i = 0; i < 3; i++) {
            stock.fit(x, y);
            lsq.fit(x, y);
        }
        TestNets.assertClose(stock.params(), lsq.params(), 1e-12, "parameters after 3 steps");
        MultiLayerNetwork checked = net(new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).quantize(false).build(), 7, new NoOp());
        assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(checked).input(x).labels(y)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)), "DL4J's gradient check");
    }

    @Test
    void perTensorGradientsMatchTheGraphReference() {
        checkAgainstGraph(new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                .activation(Activation.SOFTMAX).bits(3).inputSigned(true).build(), Nd4j.randn(DataType.DOUBLE, 9, 6).muli(1.5));
    }

    @Test
    void perChannelGradientsWithUnsignedInputsMatchTheGraphReference() {
        checkAgainstGraph(new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                .activation(Activation.SOFTMAX).bits(2).inputSigned(false).perChannelWeights(true).build(),
                Nd4j.rand(DataType.DOUBLE, 9, 6).muli(2));
    }

    /**
     * The layer's output and its gradients (input, weights, bias, both steps) on the loss summed over
     * the batch (DL4J divides by the batch size in the updater), against SameDiff with both quantizers
     * as {@link LsqOp}, softmax and cross entropy written out.
     */
    private static void checkAgainstGraph(LsqOutputLayer conf, INDArray x) {
        MultiLayerConfiguration mlc = new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).list().layer(conf).setInputType(InputType.feedForward(x.size(1))).build();
        MultiLayerNetwork net = new MultiLayerNetwork(mlc);
        net.init();
        net.initGradientsView();
        org.deeplearning4j.nn.api.Layer layer = net.getLayer(0);
        layer.getParam(LsqLayerConfig.INPUT_STEP_KEY).assign(0.37);
        INDArray sw = layer.getParam(LsqLayerConfig.WEIGHT_STEP_KEY);
        sw.assign(Nd4j.linspace(DataType.DOUBLE, 0.2, 0.3, sw.length()).reshape(sw.shape()));
        layer.getParam(LsqLayerConfig.BIAS_KEY).assign(Nd4j.randn(DataType.DOUBLE, 1, conf.getNOut()));
        INDArray labels = TestNets.labels(DataType.DOUBLE, (int) x.size(0), (int) conf.getNOut());

        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(x, ws);
        ((org.deeplearning4j.nn.api.layers.IOutputLayer) layer).setLabels(labels);
        INDArray out = layer.activate(true, ws);
        Pair<Gradient, INDArray> got = layer.backpropGradient(null, ws);

        Map<String, INDArray> params = layer.paramTable();
        SameDiff sd = SameDiff.create();
        Map<String, SDVariable> p = new LinkedHashMap<>();
        params.forEach((k, v) -> p.put(k, sd.var(k, v.dup())));
        SDVariable xq = LsqOp.quantize(sd, "qx", sd.var("x", x.dup()), p.get(LsqLayerConfig.INPUT_STEP_KEY),
                conf.getInputQuantizer(), true).value();
        SDVariable wq = LsqOp.quantize(sd, "qw", p.get(LsqLayerConfig.WEIGHT_KEY), p.get(LsqLayerConfig.WEIGHT_STEP_KEY),
                conf.getWeightQuantizer(), false).value();
        SDVariable probabilities = sd.nn.softmax("out", xq.mmul(wq).add(p.get(LsqLayerConfig.BIAS_KEY)), 1);
        sd.math.log(probabilities).mul(sd.constant(labels)).sum().neg().rename("loss").markAsLoss();
        String[] wrt = Stream.concat(Stream.of("x"), params.keySet().stream()).toArray(String[]::new);
        Map<String, INDArray> expected = QuietSameDiff.call(() -> sd.calculateGradients(null, wrt));

        assertClose(sd.outputSingle(Map.of(), "out"), out, "output");
        assertClose(expected.get("x"), got.getSecond(), "dL/dx");
        for (String k : params.keySet()) {
            assertClose(expected.get(k), got.getFirst().getGradientFor(k), "dL/d" + k);
        }
        for (String step : List.of(LsqLayerConfig.WEIGHT_STEP_KEY, LsqLayerConfig.INPUT_STEP_KEY)) {
            assertTrue(got.getFirst().getGradientFor(step).amaxNumber().doubleValue() > 1e-6,
                    step + " gradient must not be trivially zero");
        }
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        assertEquals(expected.length(), actual.length(), what + ": length");
        double diff = expected.reshape(expected.length()).sub(actual.reshape(actual.length())).amaxNumber()
                .doubleValue();
        double scale = Math.max(1, expected.amaxNumber().doubleValue());
        assertTrue(diff <= TOL * scale, what + ": max |difference| " + diff);
    }

    /**
     * The route the converter took before this layer existed, an {@link LsqDense} followed by a
     * {@code LossLayer}, and this layer train identically: same parameters after three SGD steps with
     * weight decay, both quantizers on (in double precision; in float only the rounding of sums differs).
     */
    @Test
    void trainsAsTheDenseLayerPlusLossLayerItReplaces() {
        MultiLayerNetwork viaDense = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(11)
                .dataType(DataType.DOUBLE).updater(new Sgd(0.05)).list()
                .layer(new LsqDense.Builder().nIn(5).nOut(3).activation(Activation.IDENTITY).bits(3).l2(1e-3).build())
                .layer(new org.deeplearning4j.nn.conf.layers.LossLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).build())
                .build());
        viaDense.init();
        MultiLayerNetwork viaOutput = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(11)
                .dataType(DataType.DOUBLE).updater(new Sgd(0.05)).list()
                .layer(new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3)
                        .activation(Activation.SOFTMAX).bits(3).l2(1e-3).build())
                .build());
        viaOutput.init();
        org.deeplearning4j.nn.api.Layer dense = viaDense.getLayer(0);
        org.deeplearning4j.nn.api.Layer output = viaOutput.getLayer(0);
        output.getParam(LsqLayerConfig.WEIGHT_KEY).assign(dense.getParam(LsqLayerConfig.WEIGHT_KEY));
        output.getParam(LsqLayerConfig.BIAS_KEY).assign(Nd4j.linspace(DataType.DOUBLE, -0.2, 0.2, 3).reshape(1, 3));
        dense.getParam(LsqLayerConfig.BIAS_KEY).assign(output.getParam(LsqLayerConfig.BIAS_KEY).reshape(3));
        INDArray x = TestNets.input(DataType.DOUBLE, 8, 12, 5);
        INDArray y = TestNets.labels(DataType.DOUBLE, 12, 3);
        for (int i = 0; i < 3; i++) {
            viaDense.fit(x, y);
            viaOutput.fit(x, y);
        }
        for (String key : List.of(LsqLayerConfig.WEIGHT_KEY, LsqLayerConfig.BIAS_KEY, LsqLayerConfig.WEIGHT_STEP_KEY,
                LsqLayerConfig.INPUT_STEP_KEY)) {
            INDArray a = dense.getParam(key);
            INDArray b = output.getParam(key);
            TestNets.assertClose(a.reshape(a.length()), b.reshape(b.length()), 1e-12, key + " after 3 steps");
        }
        TestNets.assertClose(viaDense.output(x), viaOutput.output(x), 1e-12, "outputs after 3 steps");
    }

    @Test
    void trainingMovesTheStepsWhichGetNoWeightDecay() {
        LsqOutputLayer conf = new LsqOutputLayer.Builder().nOut(3).bits(4).l2(0.1).stepUpdater(new Adam(0.01))
                .build();
        assertTrue(conf.getRegularizationByParam(LsqLayerConfig.WEIGHT_STEP_KEY).isEmpty());
        assertTrue(conf.getRegularizationByParam(LsqLayerConfig.INPUT_STEP_KEY).isEmpty());
        assertEquals(List.of(new L2Regularization(0.1)), conf.getRegularizationByParam(LsqLayerConfig.WEIGHT_KEY));
        assertEquals(new Adam(0.01), conf.getUpdaterByParam(LsqLayerConfig.WEIGHT_STEP_KEY));

        MultiLayerNetwork net = net(conf, 3);
        INDArray x = TestNets.input(DataType.DOUBLE, 4, 16, 5);
        INDArray y = TestNets.labels(DataType.DOUBLE, 16, 3);
        org.deeplearning4j.nn.api.Layer out = net.getLayer(1);
        net.output(x);
        assertEquals(0.0, out.getParam(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0), 0,
                "inference does not write the input step");
        net.fit(x, y);
        double sw1 = out.getParam(LsqLayerConfig.WEIGHT_STEP_KEY).getDouble(0);
        double sx1 = out.getParam(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0);
        assertTrue(sw1 > 0 && sx1 > 0, "steps initialized on the first training pass");
        for (int i = 0; i < 5; i++) {
            net.fit(x, y);
        }
        assertNotEquals(sw1, out.getParam(LsqLayerConfig.WEIGHT_STEP_KEY).getDouble(0), "weight step trains");
        assertNotEquals(sx1, out.getParam(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0), "input step trains");
        assertEquals(List.of(out), List.copyOf(LsqLayers.lsqLayers(net)).subList(1, 2), "LsqLayers finds it");
        LsqIntegerParams ints = ((QuantizedLayer) out).integerParams();
        assertEquals(-8, ints.weightCodes().minNumber().intValue(), 8, "4-bit codes");
    }

    @Test
    void jsonAndModelFileRoundTripsKeepEverything() throws IOException {
        LsqOutputLayer conf = new LsqOutputLayer.Builder(LossFunctions.LossFunction.NEGATIVELOGLIKELIHOOD).name("out")
                .nOut(3).activation(Activation.SOFTMAX).weightBits(3).inputBits(5).inputSigned(false)
                .perChannelWeights(true).stepUpdater(new NoOp()).stepUnit(0.125).build();
        MultiLayerNetwork net = net(conf, 5);
        MultiLayerConfiguration restoredConf = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        assertEquals(net.getLayerWiseConfigurations(), restoredConf);
        LsqOutputLayer restoredLayer = (LsqOutputLayer) restoredConf.getConf(1).getLayer();
        assertEquals(conf.getWeightQuantizer(), restoredLayer.getWeightQuantizer());
        assertEquals(conf.getInputQuantizer(), restoredLayer.getInputQuantizer());
        assertEquals(LsqOptions.FORMAT_VERSION, restoredLayer.getLsq().formatVersion(), "a step unit needs version 2");
        assertEquals(0.125, restoredLayer.getStepUnit());
        assertEquals(conf.getLsq(), restoredLayer.getLsq());
        assertEquals(conf.toString(), restoredLayer.toString());

        INDArray x = TestNets.input(DataType.DOUBLE, 6, 8, 5);
        INDArray y = TestNets.labels(DataType.DOUBLE, 8, 3);
        net.fit(x, y);
        File file = Files.createTempFile("lsq-output", ".zip").toFile();
        file.deleteOnExit();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = MultiLayerNetwork.load(file, true);
        assertEquals(net.output(x), restored.output(x), "bit-identical outputs");
        net.fit(x, y);
        restored.fit(x, y);
        assertEquals(net.params(), restored.params(), "training continues identically");
    }

    @Test
    void buildNamesTheLayerAndTheBadValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LsqOutputLayer.Builder().name("head").nOut(3).weightBits(9).build());
        assertTrue(e.getMessage().contains("LsqOutputLayer 'head'") && e.getMessage().contains("weightBits")
                && e.getMessage().contains("9"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LsqOutputLayer.Builder().nOut(3).weightQuantizer(
                        io.github.lsq4j.quant.Quantizer.signed(4).perChannel(0)).build());
        assertTrue(e.getMessage().contains("channelAxis") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LsqOutputLayer.Builder().nOut(3).dropOut(0.5).build());
        assertTrue(e.getMessage().contains("dropout"), e.getMessage());
    }
}
