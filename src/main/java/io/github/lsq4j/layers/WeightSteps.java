package io.github.lsq4j.layers;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.quant.LsqMath;
import java.util.Map;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every LSQ runtime layer does with its step parameters: derive, clamp, and read integer codes. */
final class WeightSteps {
    private static final Logger log = LoggerFactory.getLogger(WeightSteps.class);

    private WeightSteps() {
    }

    /**
     * Derives the weight step(s) from the current weights if they are not initialized: zero, as a new
     * layer's are ({@link #initialize} sets them all, and {@link #clamp} keeps them positive). Reads one
     * value: it runs on every pass.
     */
    static void ensureInitialized(QuantizedLayer layer) {
        if (layer.lsqConf().isQuantizeWeights() && layer.getParam(LsqLayerConfig.WEIGHT_STEP_KEY).getDouble(0) == 0) {
            initialize(layer);
        }
    }

    /** @see QuantizedLayer#initWeightSteps() */
    static void initialize(QuantizedLayer layer) {
        LsqLayerConfig c = layer.lsqConf();
        if (!c.isQuantizeWeights()) {
            throw new IllegalStateException(c.describe() + " does not quantize its weights");
        }
        INDArray sw = layer.getParam(LsqLayerConfig.WEIGHT_STEP_KEY);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray steps = LsqMath.initialSteps(layer.getParam(LsqLayerConfig.WEIGHT_KEY), c.getWeightQuantizer());
            sw.assign(steps.reshape(sw.shape()).castTo(sw.dataType()));
        }
        log.debug("{}: weight step(s) initialized from the weights", layer.name());
    }

    /**
     * Clamps the step parameters to at least {@link LsqMath#MIN_STEP}, so that an update never leaves a
     * zero or negative step (the quantizers also guard the value they compute with).
     */
    static void clamp(Map<String, INDArray> paramTable) {
        for (String key : new String[] {LsqLayerConfig.WEIGHT_STEP_KEY, LsqLayerConfig.INPUT_STEP_KEY}) {
            INDArray p = paramTable == null ? null : paramTable.get(key);
            if (p != null) {
                raiseToMinStep(p);
            }
        }
    }

    /**
     * Raises every step below {@link LsqMath#MIN_STEP} to it, in place; NaN stays (and is refused where it is
     * used). Element by element: a step array is short (one per tensor or per channel), and this runs after every
     * update, where a native op call per array costs more.
     */
    private static void raiseToMinStep(INDArray steps) {
        for (long i = 0; i < steps.length(); i++) {
            if (steps.getDouble(i) < LsqMath.MIN_STEP) {
                steps.putScalar(i, LsqMath.MIN_STEP);
            }
        }
    }

    /** @see QuantizedLayer#integerParams() */
    static LsqIntegerParams integerParams(QuantizedLayer layer) {
        LsqLayerConfig c = layer.lsqConf();
        if (!c.isQuantizeWeights()) {
            throw new IllegalStateException(c.describe() + " does not quantize its weights: no integer codes");
        }
        ensureInitialized(layer);
        INDArray w = layer.getParam(LsqLayerConfig.WEIGHT_KEY);
        INDArray sw = layer.getParam(LsqLayerConfig.WEIGHT_STEP_KEY).dup().reshape(c.numWeightSteps());
        raiseToMinStep(sw); // the steps the layer computes with
        INDArray codes;
        try {
            // the codes of the weights the layer computes with (its quantizer in its data type): in float, v * (1/s)
            // can land on the other side of a tie than in LsqMath's double; re-quantizing those values is exact
            INDArray quantized = EagerQuantizer.quantize(w, layer.getParam(LsqLayerConfig.WEIGHT_STEP_KEY),
                    c.getWeightQuantizer(), w.ulike());
            codes = LsqMath.codes(quantized, c.getWeightQuantizer(), sw);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(c.describe() + ": " + e.getMessage() + " (did training diverge?)", e);
        }
        double sx = Double.NaN;
        if (c.isQuantizeInputs()) {
            sx = layer.getParam(LsqLayerConfig.INPUT_STEP_KEY).getDouble(0);
            if (sx == 0) {
                throw new IllegalStateException(c.describe() + ": the input step is not initialized yet; train the "
                        + "network or call LsqLayers.calibrate first");
            }
        }
        INDArray bias = layer.getParam(LsqLayerConfig.BIAS_KEY) == null ? null
                : layer.getParam(LsqLayerConfig.BIAS_KEY).dup().reshape(c.getNOut());
        return new LsqIntegerParams(layer.name(), c.getWeightQuantizer(), codes, sw, c.getInputQuantizer(), sx, bias);
    }
}
