package io.github.lsq4j.layers;

import io.github.lsq4j.op.ArrayEquality;
import io.github.lsq4j.op.EagerQuantizer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A layer's quantized weights {@code quantize(W, s)}: computed afresh on every training pass, where an
 * update has changed {@code W} since the last one, and kept between inference passes for as long as
 * the weights and steps they were computed from are unchanged, so that a trained network infers
 * without quantizing its weights again on every call.
 *
 * <p>"Unchanged" is decided by content: each inference pass compares the weights and steps with a copy
 * of those the kept result came from ({@link ArrayEquality}, a memory comparison on CPU, several times
 * cheaper than the quantizer pass it saves). No notification could do it: DL4J changes parameters in
 * place by many paths that tell no layer (the updater, a network's {@code setParams}, ParallelWrapper's
 * averaging, a user's {@code assign} into a parameter view). The price is memory: one more copy of the
 * weights.
 *
 * <p>The arrays live outside DL4J's workspaces: they outlast any one pass.
 */
final class QuantizedWeights {
    private final QuantizedLayer layer;
    /** The result of the last pass; null before the first. */
    private INDArray quantized;
    /** Whether {@link #quantized} is kept for inference: then it came from these weights and steps. */
    private boolean kept;
    private INDArray keptFromWeights;
    private INDArray keptFromSteps;
    /** How many times the quantizer ran, for the tests that show the kept result is used. */
    private long quantizations;

    QuantizedWeights(QuantizedLayer layer) {
        this.layer = layer;
    }

    /**
     * The quantized weights for a pass.
     *
     * @param training whether this is a training pass: then always quantized afresh, and not kept
     * @return {@code quantize(W, s)}; the same array on every call, so it is valid until the next one
     */
    INDArray forPass(boolean training) {
        INDArray w = layer.getParam(LsqLayerConfig.WEIGHT_KEY);
        INDArray steps = layer.getParam(LsqLayerConfig.WEIGHT_STEP_KEY); // the parameter: s over the step unit
        if (!training && kept && ArrayEquality.sameValues(steps, keptFromSteps)
                && ArrayEquality.sameValues(w, keptFromWeights)) {
            return quantized;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            if (quantized == null) {
                quantized = w.ulike();
                keptFromWeights = w.dup(w.ordering());
                keptFromSteps = steps.dup(steps.ordering());
            }
            EagerQuantizer.quantize(w, StepParams.values(layer, LsqLayerConfig.WEIGHT_STEP_KEY),
                    layer.lsqConf().getWeightQuantizer(), quantized);
            quantizations++;
            kept = !training;
            if (kept) {
                keptFromWeights.assign(w);
                keptFromSteps.assign(steps);
            }
        }
        return quantized;
    }

    /** @return the array of the last pass, or null if there was none */
    INDArray ofLastPass() {
        return quantized;
    }

    /** @return how many times the weights were quantized */
    long quantizations() {
        return quantizations;
    }
}
