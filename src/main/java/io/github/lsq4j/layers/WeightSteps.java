package io.github.lsq4j.layers;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.quant.LsqMath;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every LSQ runtime layer does with its weight steps: derive them, and read integer codes. */
final class WeightSteps {
    private static final Logger log = LoggerFactory.getLogger(WeightSteps.class);

    private WeightSteps() {
    }

    /**
     * Derives the weight step(s) from the current weights if they are not initialized: zero, as a new
     * layer's are ({@link #initialize} sets them all, and {@link StepParams#clamp} keeps them positive).
     * Reads one value: it runs on every pass.
     */
    static void ensureInitialized(QuantizedLayer layer) {
        if (layer.lsqConf().isQuantizeWeights() && StepParams.first(layer, LsqLayerConfig.WEIGHT_STEP_KEY) == 0) {
            initialize(layer);
        }
    }

    /** @see QuantizedLayer#initWeightSteps() */
    static void initialize(QuantizedLayer layer) {
        LsqLayerConfig c = layer.lsqConf();
        if (!c.isQuantizeWeights()) {
            throw new IllegalStateException(c.describe() + " does not quantize its weights");
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            StepParams.assign(layer, LsqLayerConfig.WEIGHT_STEP_KEY,
                    LsqMath.initialSteps(layer.getParam(LsqLayerConfig.WEIGHT_KEY), c.getWeightQuantizer()));
        }
        log.debug("{}: weight step(s) initialized from the weights", layer.name());
    }

    /** @see QuantizedLayer#integerParams() */
    static LsqIntegerParams integerParams(QuantizedLayer layer) {
        LsqLayerConfig c = layer.lsqConf();
        if (!c.isQuantizeWeights()) {
            throw new IllegalStateException(c.describe() + " does not quantize its weights: no integer codes");
        }
        ensureInitialized(layer);
        INDArray w = layer.getParam(LsqLayerConfig.WEIGHT_KEY);
        INDArray steps = StepParams.values(layer, LsqLayerConfig.WEIGHT_STEP_KEY);
        INDArray sw = steps.dup().reshape(c.numWeightSteps());
        StepParams.raiseTo(sw, LsqMath.MIN_STEP); // the steps the layer computes with
        INDArray codes;
        try {
            // the codes of the weights the layer computes with (its quantizer in its data type): in float, v * (1/s)
            // can land on the other side of a tie than in LsqMath's double; re-quantizing those values is exact
            INDArray quantized = EagerQuantizer.quantize(w, steps, c.getWeightQuantizer(), w.ulike());
            codes = LsqMath.codes(quantized, c.getWeightQuantizer(), sw);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(c.describe() + ": " + e.getMessage() + " (did training diverge?)", e);
        }
        double sx = Double.NaN;
        if (c.isQuantizeInputs()) {
            sx = StepParams.first(layer, LsqLayerConfig.INPUT_STEP_KEY);
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
