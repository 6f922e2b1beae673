package io.github.lsq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.train.LsqRecipe;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * The step unit ({@link LsqOptions}): a step parameter holds {@code s / u}, its gradient is scaled so that SGD with
 * momentum moves {@code s} as with unit 1, and its parameter updates are {@code 1/u} times larger. Every reader of
 * steps (quantizers, calibration, integer codes) sees {@code s}, and the unit survives JSON and model files.
 */
class StepUnitTest {
    private static final double UNIT = 0.01;
    private static final int ITERATIONS = 6;

    @TempDir
    Path dir;

    /** The test network of {@link TestNets#mln} converted to 4-bit LSQ with the paper's recipe, in double. */
    private static MultiLayerNetwork lsq(double unit) {
        return lsq(unit, DataType.DOUBLE);
    }

    private static MultiLayerNetwork lsq(double unit, DataType dataType) {
        MultiLayerNetwork stock = TestNets.mln(false, TestNets.Quant.OFF, dataType, new Sgd(0.1), 5);
        QuantizationPolicy policy = QuantizationPolicy.builder(4).stepUnit(unit).build();
        MultiLayerNetwork net = LsqConverter.convert(stock, policy);
        LsqLayers.calibrate(net, new ExistingDataSetIterator(List.of(new DataSet(x(dataType), y(dataType)))), 1);
        return LsqRecipe.paper(4).withLearningRate(0.05).applyTo(net, ITERATIONS);
    }

    private static INDArray x() {
        return x(DataType.DOUBLE);
    }

    private static INDArray y() {
        return y(DataType.DOUBLE);
    }

    private static INDArray x(DataType dataType) {
        return TestNets.input(dataType, 3, 6, 1, 10, 10);
    }

    private static INDArray y(DataType dataType) {
        return TestNets.labels(dataType, 6, 3);
    }

    private static List<QuantizedLayer> layers(MultiLayerNetwork net) {
        return LsqLayers.lsqLayers(net);
    }

    @Test
    void sgdWithMomentumMovesTheStepsAsWithUnitOneAndTheParametersOneOverUnitFaster() {
        MultiLayerNetwork plain = lsq(1);
        MultiLayerNetwork scaled = lsq(UNIT);
        List<QuantizedLayer> plainLayers = layers(plain);
        List<QuantizedLayer> scaledLayers = layers(scaled);
        assertEquals(7, scaledLayers.size(), "every layer converted, the output layer included");
        double[][] before = new double[plainLayers.size() * 2][];
        for (int i = 0; i < plainLayers.size(); i++) {
            for (int k = 0; k < 2; k++) {
                String key = k == 0 ? LsqLayerConfig.WEIGHT_STEP_KEY : LsqLayerConfig.INPUT_STEP_KEY;
                assertEquals(UNIT, scaledLayers.get(i).lsqConf().getStepUnit());
                INDArray s = plainLayers.get(i).stepValues(key);
                assertArrayEquals(s.data().asDouble(), scaledLayers.get(i).stepValues(key).data().asDouble(),
                        1e-15, "calibrated steps, " + scaledLayers.get(i).name() + " " + key);
                assertArrayEquals(s.div(UNIT).data().asDouble(), scaledLayers.get(i).getParam(key).data().asDouble(),
                        1e-12, "the parameter holds s / u");
                before[2 * i + k] = s.data().asDouble();
            }
        }
        for (int it = 0; it < ITERATIONS; it++) {
            plain.fit(x(), y());
            scaled.fit(x(), y());
        }
        int moved = 0;
        for (int i = 0; i < plainLayers.size(); i++) {
            for (int k = 0; k < 2; k++) {
                String key = k == 0 ? LsqLayerConfig.WEIGHT_STEP_KEY : LsqLayerConfig.INPUT_STEP_KEY;
                String what = scaledLayers.get(i).name() + " " + key;
                double[] s = plainLayers.get(i).stepValues(key).data().asDouble();
                double[] sScaled = scaledLayers.get(i).stepValues(key).data().asDouble();
                double[] pScaled = scaledLayers.get(i).getParam(key).data().asDouble();
                for (int j = 0; j < s.length; j++) {
                    double change = s[j] - before[2 * i + k][j];
                    assertEquals(s[j], sScaled[j], 1e-9 * Math.abs(s[j]), what + ": the same step trajectory");
                    assertEquals(change / UNIT, pScaled[j] - before[2 * i + k][j] / UNIT,
                            1e-6 * Math.abs(change / UNIT) + 1e-12, what + ": the parameter moved 1/u times as far");
                    moved += change != 0 ? 1 : 0;
                }
            }
        }
        assertTrue(moved >= 10, "the steps trained (" + moved + " moved)");
        assertTrue(TestNets.maxAbsDiff(plain.output(x()), scaled.output(x())) < 1e-9, "the same network");
        assertEquals(plain.getLayer(0).getParam(LsqLayerConfig.WEIGHT_KEY).getDouble(0),
                scaled.getLayer(0).getParam(LsqLayerConfig.WEIGHT_KEY).getDouble(0), 1e-12, "the same weights");
    }

    /**
     * A power of two scales floats exactly: the parameter is exactly {@code s / u} and every update exactly
     * {@code 1/u} times the unit-1 update, so float training is bit-identical (a unit like 0.01 rounds, and
     * the rounding differences grow over a run as any change of summation order does).
     */
    @Test
    void aPowerOfTwoUnitTrainsBitIdenticallyInFloat() {
        double unit = 1.0 / 256;
        MultiLayerNetwork plain = lsq(1, DataType.FLOAT);
        MultiLayerNetwork scaled = lsq(unit, DataType.FLOAT);
        for (int it = 0; it < ITERATIONS; it++) {
            plain.fit(x(DataType.FLOAT), y(DataType.FLOAT));
            scaled.fit(x(DataType.FLOAT), y(DataType.FLOAT));
        }
        assertEquals(plain.output(x(DataType.FLOAT)), scaled.output(x(DataType.FLOAT)), "bit-identical outputs");
        for (int i = 0; i < layers(plain).size(); i++) {
            for (String key : new String[] {LsqLayerConfig.WEIGHT_STEP_KEY, LsqLayerConfig.INPUT_STEP_KEY}) {
                assertEquals(layers(plain).get(i).getParam(key).mul(256), layers(scaled).get(i).getParam(key),
                        layers(scaled).get(i).name() + " " + key + ": exactly s / u");
            }
        }
    }

    @Test
    void integerCodesAndStepsAreTheUnitFreeOnes() {
        MultiLayerNetwork plain = lsq(1);
        MultiLayerNetwork scaled = lsq(UNIT);
        for (int i = 0; i < layers(plain).size(); i++) {
            LsqIntegerParams a = layers(plain).get(i).integerParams();
            LsqIntegerParams b = layers(scaled).get(i).integerParams();
            assertEquals(a.weightCodes(), b.weightCodes(), a.layerName());
            assertArrayEquals(a.weightSteps().data().asDouble(), b.weightSteps().data().asDouble(), 1e-15);
            assertEquals(a.inputStep(), b.inputStep(), 1e-15);
        }
    }

    @Test
    void clampKeepsTheStepAboveTheSmallestStepNotTheParameter() {
        MultiLayerNetwork net = lsq(UNIT);
        QuantizedLayer layer = layers(net).get(0);
        layer.getParam(LsqLayerConfig.INPUT_STEP_KEY).assign(-1);
        layer.applyConstraints(0, 0);
        assertEquals(LsqMath.MIN_STEP, layer.stepValues(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0), 1e-20);
        assertEquals(LsqMath.MIN_STEP / UNIT, layer.getParam(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0), 1e-18);
    }

    @Test
    void setStepValuesStoresStepsOverTheUnitAndRefusesBadValues() {
        QuantizedLayer layer = layers(lsq(UNIT)).get(0);
        layer.setStepValues(LsqLayerConfig.INPUT_STEP_KEY, Nd4j.scalar(DataType.DOUBLE, 0.25));
        assertEquals(0.25, layer.stepValues(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0), 1e-15);
        assertEquals(25, layer.getParam(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0), 1e-12);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> layer.setStepValues(LsqLayerConfig.WEIGHT_STEP_KEY, Nd4j.ones(DataType.DOUBLE, 7)));
        assertTrue(count.getMessage().contains("LsqConv2D") && count.getMessage().contains("got 7"), count.getMessage());
        IllegalArgumentException sign = assertThrows(IllegalArgumentException.class,
                () -> layer.setStepValues(LsqLayerConfig.INPUT_STEP_KEY, Nd4j.scalar(DataType.DOUBLE, 0.0)));
        assertTrue(sign.getMessage().contains("> 0"), sign.getMessage());
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> layer.stepValues(LsqLayerConfig.WEIGHT_KEY));
        assertTrue(key.getMessage().contains("no step parameter 'W'"), key.getMessage());
    }

    @Test
    void jsonAndModelFilesKeepTheUnitAndUnitOneFilesStayVersionOne() throws IOException {
        MultiLayerNetwork scaled = lsq(UNIT);
        scaled.fit(x(), y());
        String json = scaled.getLayerWiseConfigurations().toJson();
        assertTrue(json.contains("\"stepUnit\" : 0.01"), json);
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(json);
        assertEquals(scaled.getLayerWiseConfigurations(), restored);
        LsqLayerConfig first = (LsqLayerConfig) restored.getConf(0).getLayer();
        assertEquals(UNIT, first.getStepUnit());
        assertEquals(2, first.getLsq().formatVersion(), "a unit other than 1 needs version 2");

        String versionOneWithUnit = TestNets.editLsqLayerJson(json,
                layer -> ((ObjectNode) layer.get("lsq")).put("formatVersion", 1));
        assertEquals(2, ((LsqLayerConfig) MultiLayerConfiguration.fromJson(versionOneWithUnit).getConf(0).getLayer())
                .getLsq().formatVersion(), "a unit read from a version-1 file is written back as version 2");

        String plainJson = lsq(1).getLayerWiseConfigurations().toJson();
        assertFalse(plainJson.contains("stepUnit"), "unit 1 is written as version 1 wrote it");
        assertEquals(1, ((LsqLayerConfig) MultiLayerConfiguration.fromJson(plainJson).getConf(0).getLayer())
                .getLsq().formatVersion());

        File f = dir.resolve("scaled.zip").toFile();
        ModelSerializer.writeModel(scaled, f, true);
        MultiLayerNetwork back = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(scaled.output(x()), back.output(x()), "bit-identical outputs");
        scaled.fit(x(), y());
        back.fit(x(), y());
        assertEquals(scaled.params(), back.params(), "and it trains on identically");
    }

    @Test
    void badUnitsAreRefusedNamingTheLayerOrPolicyAndTheValue() {
        IllegalArgumentException builder = assertThrows(IllegalArgumentException.class,
                () -> new LsqDense.Builder().name("fc").nIn(3).nOut(2).stepUnit(0).build());
        assertTrue(builder.getMessage().contains("LsqDense 'fc'") && builder.getMessage().contains("stepUnit")
                && builder.getMessage().contains("got 0.0"), builder.getMessage());
        IllegalArgumentException policy = assertThrows(IllegalArgumentException.class,
                () -> QuantizationPolicy.builder(4).stepUnit(Double.POSITIVE_INFINITY).build());
        assertTrue(policy.getMessage().contains("policy: stepUnit") && policy.getMessage().contains("Infinity"),
                policy.getMessage());
        String json = TestNets.editLsqLayerJson(lsq(UNIT).getLayerWiseConfigurations().toJson(),
                layer -> ((ObjectNode) layer.get("lsq")).put("stepUnit", -2.0));
        TestNets.assertJsonRefused(json, "stepUnit must be finite and > 0, got -2.0");
    }
}
