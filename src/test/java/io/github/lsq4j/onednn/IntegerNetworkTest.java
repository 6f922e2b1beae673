package io.github.lsq4j.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.convert.ConvertTestNets;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.LsqLayers;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** The compiled integer network computes what the trained LSQ network computes on its float path. */
class IntegerNetworkTest {

    @BeforeEach
    void floatPrecisionAndFixedSeed() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(12345);
    }

    static <M extends Model> M trained(M lsq, INDArray x, int classes, int steps) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, x.size(0), classes);
        for (int i = 0; i < x.size(0); i++) {
            y.putScalar(i, i % classes, 1.0);
        }
        LsqLayers.calibrate(lsq, new SingletonDataSetIterator(new DataSet(x, y)));
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
     * Asserts that two outputs of one network agree: the same class (over axis 1) and values within 1 % of the
     * largest, for all but one example in eight. What may differ: where a layer's output lands within float
     * rounding of a quantizer's rounding boundary (x.5 steps), the float path (float sums in ND4J's order) and
     * the integer path (exact sums; oneDNN rounds ties to even, lsq4j away from zero) can pick neighbouring
     * codes, and the difference carries through the layers after it.
     */
    static void assertAgrees(INDArray expected, INDArray actual, String what) {
        assertAgrees(expected, actual, what, 1e-2);
    }

    /**
     * Asserts that two outputs of one network agree: the same class (over axis 1) for all but one example in
     * eight, and as many within {@code tolerance} of the largest value, when it is positive. What may differ:
     * where a layer's output lands within float rounding of a quantizer's rounding boundary (x.5 steps), the
     * float path (float sums in ND4J's order) and the integer path (exact sums; oneDNN rounds ties to even,
     * lsq4j away from zero) can pick neighbouring codes, and the difference carries through the layers after it:
     * in a deep untrained network on random inputs, far.
     */
    static void assertAgrees(INDArray expected, INDArray actual, String what, double tolerance) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        long n = expected.size(0);
        long same = 0;
        long close = 0;
        for (long i = 0; i < n; i++) {
            INDArray e = expected.slice(i);
            INDArray a = actual.slice(i);
            if (e.rank() == 1 ? e.argMax().getInt(0) == a.argMax().getInt(0) : e.argMax(0).equals(a.argMax(0))) {
                same++;
            }
            if (e.sub(a).amaxNumber().doubleValue() <= tolerance * Math.max(1e-6, e.amaxNumber().doubleValue())) {
                close++;
            }
        }
        System.out.printf("%s: %d of %d examples the same class, %d within %.0e; largest difference %.3g of %.3g%n", what,
                same, n, close, tolerance, expected.sub(actual).amaxNumber().doubleValue(),
                expected.amaxNumber().doubleValue());
        assertTrue(same * 8 >= n * 7, what + ": " + same + " of " + n + " the same class");
        if (tolerance > 0) {
            assertTrue(close * 8 >= n * 7, what + ": " + close + " of " + n + " within " + tolerance);
        }
    }

    @Test
    void residualGraphAt4Bits() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 1, 12, 12);
        ComputationGraph net = trained(LsqConverter.convert(ConvertTestNets.residual(3, DataType.FLOAT),
                QuantizationPolicy.paper(4)), x, 5, 3);
        try (IntegerNetwork compiled = IntegerNetwork.compile(net, 1, 12, 12)) {
            System.out.println(compiled);
            INDArray expected = net.outputSingle(x);
            INDArray actual = compiled.output(x);
            System.out.println(expected.getRow(0) + "\n" + actual.getRow(0));
            assertEquals(expected.argMax(1), actual.argMax(1));
        }
    }

    @Test
    void leNetAt4Bits() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 1, 28, 28);
        MultiLayerNetwork net = trained(LsqConverter.convert(ConvertTestNets.leNet(3, DataType.FLOAT),
                QuantizationPolicy.paper(4)), x, 10, 3);
        try (IntegerNetwork compiled = IntegerNetwork.compile(net, 1, 28, 28)) {
            System.out.println(compiled);
            INDArray expected = net.output(x);
            INDArray actual = compiled.output(x);
            System.out.println(expected.getRow(0) + "\n" + actual.getRow(0));
            assertEquals(expected.argMax(1), actual.argMax(1));
        }
    }
}
