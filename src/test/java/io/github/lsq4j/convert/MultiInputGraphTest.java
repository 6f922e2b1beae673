package io.github.lsq4j.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lsq4j.layers.LsqLayerConfig;
import io.github.lsq4j.layers.LsqLayers;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.train.MultiDistillation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.datasets.iterator.IteratorMultiDataSetIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A ComputationGraph with two inputs and two outputs: the paper's first/last rule covers every layer
 * that reads an input or feeds an output; calibration and distillation take a MultiDataSetIterator.
 */
class MultiInputGraphTest {

    private static List<MultiDataSet> batches(int n) {
        Nd4j.getRandom().setSeed(17);
        List<MultiDataSet> list = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            INDArray image = Nd4j.rand(DataType.FLOAT, 6, 1, 8, 8);
            INDArray meta = Nd4j.randn(DataType.FLOAT, 6, 4).muli(3);
            INDArray classes = Nd4j.zeros(DataType.FLOAT, 6, 3);
            for (int i = 0; i < 6; i++) {
                classes.putScalar(i, (i + b) % 3, 1);
            }
            INDArray aux = Nd4j.rand(DataType.FLOAT, 6, 2).subi(0.5);
            list.add(new MultiDataSet(new INDArray[] {image, meta}, new INDArray[] {classes, aux}));
        }
        return list;
    }

    private static MultiDataSetIterator iterator(List<MultiDataSet> batches) {
        return new IteratorMultiDataSetIterator(new ArrayList<org.nd4j.linalg.dataset.api.MultiDataSet>(batches).iterator(),
                6);
    }

    @Test
    void everyLayerReadingAnInputOrFeedingAnOutputIsFirstOrLast() {
        ComputationGraph lsq = LsqConverter.convert(ConvertTestNets.twoInputsTwoOutputs(1), QuantizationPolicy.paper(2));
        Map<String, Integer> expected = Map.of("image_conv", 8, "meta_fc", 8, "trunk", 2, "class", 8, "aux_fc", 8);
        expected.forEach((name, bits) -> assertEquals(bits, conf(lsq, name).getWeightQuantizer().bits(), name));
        assertTrue(conf(lsq, "meta_fc").getInputQuantizer().signed(), "a network input is signed");
    }

    @Test
    void calibrateTakesAMultiDataSetIterator() {
        ComputationGraph lsq = LsqConverter.convert(ConvertTestNets.twoInputsTwoOutputs(1), QuantizationPolicy.paper(4));
        List<MultiDataSet> data = batches(1);
        Map<String, Double> steps = LsqLayers.calibrate(lsq, iterator(data), 1);
        assertEquals(5, steps.size(), "every LSQ layer: " + steps);
        INDArray meta = data.get(0).getFeatures(1);
        double expectedMetaStep = LsqMath.initialSteps(meta, conf(lsq, "meta_fc").getInputQuantizer()).getDouble(0);
        assertEquals(expectedMetaStep, steps.get("meta_fc"), 1e-6 * expectedMetaStep, "2 mean|x| / sqrt(Qp) of its input");
        steps.forEach((name, step) -> assertEquals(step,
                lsq.getLayer(name).getParam(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0), 0.0, name + " stored"));
    }

    @Test
    void distillationMixesTheLabelsOfEveryOutputAndTrainsTheStudent() {
        ComputationGraph teacher = ConvertTestNets.twoInputsTwoOutputs(1);
        ComputationGraph student = LsqConverter.convert(teacher, QuantizationPolicy.paper(4));
        List<MultiDataSet> data = batches(3);
        org.nd4j.linalg.dataset.api.MultiDataSet distilled = MultiDistillation.from(iterator(data), teacher, 0.25).next();
        INDArray[] teacherOut = teacher.output(false, data.get(0).getFeatures());
        for (int i = 0; i < 2; i++) {
            INDArray expected = data.get(0).getLabels(i).mul(0.75).addi(teacherOut[i].mul(0.25));
            assertTrue(expected.equalsWithEps(distilled.getLabels(i), 1e-6), "output " + i + " labels");
        }

        LsqLayers.calibrate(student, iterator(data), 3);
        double before = student.score(data.get(0));
        for (int epoch = 0; epoch < 15; epoch++) {
            student.fit(MultiDistillation.from(iterator(data), teacher, 0.25));
        }
        double after = student.score(data.get(0));
        assertTrue(after < before, "the student learns from the distilled labels: " + before + " -> " + after);
    }

    private static LsqLayerConfig conf(ComputationGraph g, String name) {
        return (LsqLayerConfig) g.getLayer(name).conf().getLayer();
    }
}
