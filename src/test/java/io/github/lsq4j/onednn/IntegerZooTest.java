package io.github.lsq4j.onednn;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.lsq4j.AnyModel;
import io.github.lsq4j.ZooNetworks;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.IntegerInference;
import io.github.lsq4j.layers.LsqLayers;
import java.util.EnumSet;
import java.util.Set;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every zoo vision network, converted at 4 bits and calibrated on random images: those whose layer kinds the
 * compiler supports compile and compute what the network's float path computes; the others are refused,
 * naming the layer and its kind. The compiled float network (stock layers: float kernels, the same fusions)
 * computes what DL4J computes to float rounding; the LSQ network predicts the classes of its float path (its
 * values may part further: an untrained deep network on random inputs carries a code picked differently at a
 * rounding boundary far, see {@link IntegerNetworkTest#assertAgrees}).
 */
class IntegerZooTest {
    private static final int IMAGES = 8;
    /** The networks that compile. */
    private static final Set<ZooNetworks> COMPILED = EnumSet.of(ZooNetworks.DARKNET19, ZooNetworks.RES_NET50,
            ZooNetworks.SIMPLE_CNN, ZooNetworks.SQUEEZE_NET, ZooNetworks.VGG_16, ZooNetworks.VGG_19, ZooNetworks.XCEPTION);

    @BeforeEach
    void floatPrecisionAndFixedSeed() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(12345);
    }

    @AfterEach
    void integerInferenceBackOn() {
        IntegerInference.setEnabled(true);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ZooNetworks.class)
    void compilesExactlyOrRefusesNamingTheLayer(ZooNetworks zoo) {
        // at least 32x32: at 1x1, VGG's and Darknet's random outputs are all equal
        int size = COMPILED.contains(zoo) ? Math.max(zoo.size, 32) : zoo.size;
        Model floatNet = zoo.factory.apply(size);
        INDArray x = Nd4j.rand(DataType.FLOAT, IMAGES, 3, size, size);
        Model lsq = AnyModel.convert(floatNet, QuantizationPolicy.paper(4));
        LsqLayers.calibrate(lsq, new SingletonDataSetIterator(new DataSet(x, Nd4j.zeros(DataType.FLOAT, IMAGES, 1))));
        IntegerNetwork compiled;
        try {
            compiled = IntegerNetwork.compile(lsq, 3, size, size);
        } catch (IllegalArgumentException refused) {
            String message = refused.getMessage();
            System.out.println(zoo + ": " + message);
            assertTrue(!COMPILED.contains(zoo), zoo + " should compile: " + message);
            assertTrue(message.matches("(?s)(layer|vertex) '?[^ ]+'?:? .*(kind|preprocessor|activation) .*"), message);
            return;
        }
        try (compiled) {
            if (!COMPILED.contains(zoo)) {
                fail(zoo + " compiled; add it to COMPILED:\n" + compiled);
            }
            IntegerInference.setEnabled(false);
            IntegerNetworkTest.assertAgrees(AnyModel.output(lsq, x), compiled.output(x), zoo + " at 4 bits", 0);
        }
        try (IntegerNetwork compiledFloat = IntegerNetwork.compile(floatNet, 3, size, size)) {
            IntegerNetworkTest.assertAgrees(AnyModel.output(floatNet, x), compiledFloat.output(x), zoo + " in float", 1e-3);
        }
    }
}
