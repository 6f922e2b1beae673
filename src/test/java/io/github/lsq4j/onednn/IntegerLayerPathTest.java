package io.github.lsq4j.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.AnyModel;
import io.github.lsq4j.TrainedLsq;
import io.github.lsq4j.convert.ConvertTestNets;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.IntegerInference;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** LSQ layers infer on oneDNN's int8 kernels and compute what their float path computes. */
class IntegerLayerPathTest {

    @BeforeEach
    void floatPrecisionAndFixedSeed() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(12345);
    }

    @AfterEach
    void integerInferenceBackOn() {
        IntegerInference.setEnabled(true);
    }

    private static INDArray output(Model net, INDArray x, boolean integer) {
        IntegerInference.setEnabled(integer);
        return AnyModel.output(net, x);
    }

    private static void assertSameAsFloatPath(Model net, INDArray x) {
        INDArray floatPath = output(net, x, false);
        INDArray integerPath = output(net, x, true);
        double diff = Transforms.abs(floatPath.sub(integerPath)).maxNumber().doubleValue();
        System.out.println("max diff " + diff);
        assertEquals(floatPath.argMax(1), integerPath.argMax(1));
        assertTrue(diff < 1e-4, "max difference " + diff);
    }

    @Test
    void leNetPerChannel() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 1, 28, 28);
        MultiLayerNetwork net = TrainedLsq.trained(LsqConverter.convert(ConvertTestNets.leNet(3, DataType.FLOAT),
                QuantizationPolicy.builder(4).perChannelWeights(true).build()), x, 10, 3);
        assertTrue(IntegerInference.isAvailable());
        assertSameAsFloatPath(net, x);
        // a training step changes the parameters: the integer path follows
        TrainedLsq.trained(net, x, 10, 1);
        assertSameAsFloatPath(net, x);
    }

    /**
     * A layer's kernel outlives the pass that made it: a second batch size, planned later inside DL4J's
     * workspaces, packs the weights the kernel kept (once packed from recycled workspace memory: wrong outputs).
     */
    @Test
    void everyBatchSizeInAnyOrder() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 48, 1, 28, 28);
        MultiLayerNetwork net = TrainedLsq.trained(LsqConverter.convert(ConvertTestNets.mlp(3),
                QuantizationPolicy.builder(8).build()), x, 10, 1);
        for (int batch : new int[] {16, 48, 16, 5}) {
            assertSameAsFloatPath(net, x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, batch)).dup());
        }
    }

    @Test
    void depthwiseGraph() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 1, 12, 12);
        ComputationGraph net = TrainedLsq.trained(LsqConverter.convert(ConvertTestNets.depthwise(3, DataType.FLOAT),
                QuantizationPolicy.paper(3)), x, 5, 3);
        assertSameAsFloatPath(net, x);
        try (IntegerNetwork compiled = IntegerNetwork.compile(net, 1, 12, 12)) {
            System.out.println(compiled);
            IntegerInference.setEnabled(false);
            INDArray expected = net.outputSingle(x);
            INDArray actual = compiled.output(x);
            assertEquals(expected.argMax(1), actual.argMax(1));
        }
    }
}
