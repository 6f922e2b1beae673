package io.github.lsq4j.op;

import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Runs {@link LsqOp} once in double precision: forward values, codes, and the gradients of sum(vhat * upstream). */
final class OpRunner {
    final INDArray value;
    final INDArray codes;
    final INDArray dv;
    final INDArray ds;

    private OpRunner(INDArray value, INDArray codes, INDArray dv, INDArray ds) {
        this.value = value;
        this.codes = codes;
        this.dv = dv;
        this.ds = ds;
    }

    static OpRunner run(double[] v, long[] shape, double[] steps, double[] upstream, QuantizerSpec spec) {
        SameDiff sd = SameDiff.create();
        SDVariable vVar = sd.var("v", Nd4j.createFromArray(v).reshape('c', shape));
        SDVariable sVar = sd.var("s", Nd4j.createFromArray(steps));
        QuantizedVariable q = LsqOp.quantize(sd, "q", vVar, sVar, spec);
        SDVariable up = sd.constant("upstream", Nd4j.createFromArray(upstream).reshape('c', shape));
        SDVariable loss = sd.sum("loss", q.value().mul(up));
        loss.markAsLoss();
        Map<String, INDArray> grads = sd.calculateGradients(null, "v", "s");
        Map<String, INDArray> out = sd.output((Map<String, INDArray>) null, q.value().name(), q.codes().name());
        return new OpRunner(out.get(q.value().name()), out.get(q.codes().name()), grads.get("v"), grads.get("s"));
    }

    static {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }
}
