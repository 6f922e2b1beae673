package io.github.lsq4j;

import io.github.lsq4j.layers.LsqLayers;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/** A converted LSQ network made ready for the tests of what it computes: calibrated, then trained a few steps. */
public final class TrainedLsq {
    private TrainedLsq() {
    }

    /**
     * Calibrates the input steps on {@code x} and takes {@code steps} training steps on it, example {@code i}
     * labelled {@code i % classes}, so that every step has moved from its start.
     *
     * @return {@code lsq}
     */
    public static <M extends Model> M trained(M lsq, INDArray x, int classes, int steps) {
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
}
