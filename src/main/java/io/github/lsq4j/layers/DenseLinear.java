package io.github.lsq4j.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@link LsqDense}'s linear operation: {@code x W + b}, {@code W} of shape {@code [nIn, nOut]}. */
final class DenseLinear implements EagerLinear {
    private final long nOut;

    DenseLinear(long nOut) {
        this.nOut = nOut;
    }

    @Override
    public long[] outputShape(INDArray x) {
        return new long[] {x.size(0), nOut};
    }

    @Override
    public void forward(INDArray x, INDArray w, INDArray bias, INDArray out) {
        x.mmuli(w, out);
        if (bias != null) {
            out.addiRowVector(bias);
        }
    }

    @Override
    public void backward(INDArray x, INDArray w, INDArray bias, INDArray dz, INDArray dx, INDArray dw, INDArray db) {
        dz.mmuli(w.transpose(), dx);
        dw.assign(x.transpose().mmul(dz));
        if (db != null) {
            db.assign(dz.sum(0));
        }
    }
}
