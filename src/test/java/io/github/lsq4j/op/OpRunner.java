package io.github.lsq4j.op;

import io.github.lsq4j.quant.Quantizer;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs {@link LsqOp} once: the forward value and codes, and the gradients of
 * {@code loss = sum(vhat * upstream)} with respect to v and the steps.
 */
record OpRunner(double[] value, double[] codes, double[] dv, double[] ds) {

    static OpRunner run(DataType type, double[] v, long[] shape, double[] steps, double[] upstream,
                        Quantizer quantizer, boolean batched) {
        SameDiff sd = SameDiff.create();
        SDVariable vVar = sd.var("v", Nd4j.createFromArray(v).reshape('c', shape).castTo(type));
        SDVariable sVar = sd.var("s", Nd4j.createFromArray(steps).castTo(type));
        QuantizedVariable q = LsqOp.quantize(sd, "q", vVar, sVar, quantizer, batched);
        SDVariable up = sd.constant("upstream", Nd4j.createFromArray(upstream).reshape('c', shape).castTo(type));
        sd.sum("loss", q.value().mul(up)).markAsLoss();
        Map<String, INDArray> grads = QuietSameDiff.call(() -> sd.calculateGradients(null, "v", "s"));
        Map<String, INDArray> out = sd.output((Map<String, INDArray>) null, q.value().name(), q.codes().name());
        return new OpRunner(flat(out.get(q.value().name())), flat(out.get(q.codes().name())),
                flat(grads.get("v")), flat(grads.get("s")));
    }

    static OpRunner run(double[] v, long[] shape, double[] steps, double[] upstream, Quantizer quantizer,
                        boolean batched) {
        return run(DataType.DOUBLE, v, shape, steps, upstream, quantizer, batched);
    }

    private static double[] flat(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }
}
