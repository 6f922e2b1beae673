package io.github.lsq4j.onednn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.TrainedLsq;
import io.github.lsq4j.convert.ConvertTestNets;
import io.github.lsq4j.convert.LsqConverter;
import io.github.lsq4j.convert.QuantizationPolicy;
import io.github.lsq4j.layers.IntegerInference;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Native memory has one owner: a long run of inference keeps it flat, and close frees it. */
class IntegerNetworkMemoryTest {
    /** More batch sizes than a network keeps plans for: plans are evicted and freed along the run. */
    private static final int[] BATCH_SIZES = {1, 2, 3, 5, 8, 13, 32};

    @Test
    void longRunKeepsNativeMemoryFlat() throws Exception {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 28, 28);
        MultiLayerNetwork net = TrainedLsq.trained(LsqConverter.convert(ConvertTestNets.leNet(3, DataType.FLOAT),
                QuantizationPolicy.paper(4)), x, 10, 1);
        INDArray[] batches = new INDArray[BATCH_SIZES.length];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, BATCH_SIZES[i])).dup();
        }
        IntegerInference.setEnabled(true);
        long openBefore = Plan.openPlans();
        try (IntegerNetwork compiled = IntegerNetwork.compile(net, 1, 28, 28)) {
            Runnable round = () -> {
                for (INDArray b : batches) {
                    compiled.output(b);
                    net.output(b); // the layers' integer path: a kernel per layer and input shape
                }
            };
            for (int i = 0; i < 20; i++) {
                round.run();
            }
            // the first phase settles what grows once (the Java heap, JIT code, allocator pools); the second
            // must not grow: a plan or kernel leaked per call would add megabytes per round
            long[] resident = new long[3];
            for (int phase = 0; phase < resident.length; phase++) {
                for (int i = 0; i < 100; i++) {
                    round.run();
                }
                resident[phase] = settledResidentBytes();
            }
            System.out.printf("resident memory after 100, 200 and 300 rounds of %d batch sizes: %d, %d, %d MB%n",
                    BATCH_SIZES.length, resident[0] >> 20, resident[1] >> 20, resident[2] >> 20);
            assertTrue(resident[2] - resident[1] < 8L << 20, "resident memory grew from " + (resident[1] >> 20)
                    + " MB to " + (resident[2] >> 20) + " MB in 100 rounds");
            assertTrue(compiled.plannedBatchSizes().size() <= 4, "plans kept: " + compiled.plannedBatchSizes());
            // the compiled network's plans, and those of each LSQ layer's kernel (the same cap each): evicted plans
            // were closed, not left to the garbage collector
            long layers = io.github.lsq4j.layers.LsqLayers.lsqLayers(net).size();
            long open = Plan.openPlans() - openBefore;
            assertTrue(open <= 4 * (1 + layers), open + " plans open");
            long openBeforeClose = Plan.openPlans();
            compiled.close();
            assertTrue(compiled.plannedBatchSizes().isEmpty());
            assertTrue(Plan.openPlans() < openBeforeClose, "close freed no plan");
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> compiled.output(batches[0]));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        }
    }

    private static long settledResidentBytes() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return Pointer.physicalBytes();
    }
}
