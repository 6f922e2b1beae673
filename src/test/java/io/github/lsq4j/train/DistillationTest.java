package io.github.lsq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

class DistillationTest {

    @Test
    void labelsMixTheTruthWithTheTeachersSoftmax() {
        INDArray y = Nd4j.createFromArray(new float[][] {{1, 0, 0}, {0, 0, 1}});
        INDArray p = Nd4j.createFromArray(new float[][] {{0.5f, 0.3f, 0.2f}, {0.1f, 0.1f, 0.8f}});
        MultiLayerNetwork teacher = TrainTestNets.mlp(1);
        DataSetIterator data = TrainTestNets.blobs(8, 4, 1);

        assertEquals(y, Distillation.from(data, teacher, 0).target(y, p));
        assertTrue(p.equalsWithEps(Distillation.from(data, teacher, 1).target(y, p), 1e-7));
        INDArray mixed = Distillation.from(data, teacher, 0.25).target(y, p);
        assertEquals(0.75 + 0.25 * 0.5, mixed.getDouble(0, 0), 1e-6);
        assertEquals(0.25 * 0.3, mixed.getDouble(0, 1), 1e-6);
        assertEquals(1.0, mixed.getRow(1).sumNumber().doubleValue(), 1e-6, "still a distribution");
    }

    @Test
    void batchesKeepTheirFeaturesAndGetTheTeachersLabels() {
        MultiLayerNetwork teacher = TrainTestNets.mlp(3);
        DataSetIterator plain = TrainTestNets.blobs(8, 8, 5);
        DataSet original = plain.next();
        DataSetIterator distilled = Distillation.from(TrainTestNets.blobs(8, 8, 5), teacher, 1);
        DataSet batch = distilled.next();
        assertEquals(original.getFeatures(), batch.getFeatures());
        assertTrue(teacher.output(original.getFeatures()).equalsWithEps(batch.getLabels(), 1e-6));
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        MultiLayerNetwork teacher = TrainTestNets.mlp(1);
        DataSetIterator data = TrainTestNets.blobs(8, 4, 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Distillation.from(data, teacher, 1.5))
                .getMessage().contains("got 1.5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Distillation.from(data, teacher, -0.5))
                .getMessage().contains("got -0.5"));
    }
}
