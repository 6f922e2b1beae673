package io.github.lsq4j.layers;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.Quantizer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A layer's input quantizer at run time, outside any SameDiff graph: {@link EagerQuantizer} forward
 * before the layer's own forward pass, and backward after the layer's backward pass, turning
 * {@code dL/dxhat} into {@code dL/dx} and giving the input step's gradient. On activations of a million
 * elements this is 5-10x faster than the same quantizer as graph ops, with the same values and
 * gradients (tested against the golden numbers and the graph op).
 *
 * <p>The input step is held by the layer's {@value LsqLayerConfig#INPUT_STEP_KEY} parameter; 0 means "not
 * initialized". Then a training pass derives it from the batch and stores it (the paper's "first
 * training batch"); an inference pass derives it for that batch only and writes no parameter, so
 * inference before training gives finite, sensibly quantized outputs and never changes the network.
 * While {@link LsqLayers#calibrate} runs, every batch uses its own step and the steps are averaged. An
 * input with NaN or infinite values is refused, naming the layer.
 */
public final class InputQuantization {
    private static final Logger log = LoggerFactory.getLogger(InputQuantization.class);

    private final QuantizedLayer layer;
    /** Non-null while calibrating. */
    private InputStepCalibration calibration;

    InputQuantization(QuantizedLayer layer) {
        this.layer = layer;
    }

    /** @return the quantizer, or null if the layer does not quantize its inputs */
    private Quantizer quantizer() {
        return layer.lsqConf().getInputQuantizer();
    }

    /** @return whether the layer quantizes its inputs */
    boolean isOn() {
        return quantizer() != null;
    }

    /** @return the stored input step; 0 if not initialized */
    double storedStep() {
        return StepParams.first(layer, LsqLayerConfig.INPUT_STEP_KEY);
    }

    /**
     * The forward pass: the quantized input.
     *
     * @param x        the layer input
     * @param training whether this is a training pass
     * @param mgr      the workspace manager
     * @param memory   where {@code xhat} lives: the forward pass's working memory, or the activations'
     *                 memory to keep it for the backward pass
     * @return {@code xhat}
     */
    INDArray forward(INDArray x, boolean training, LayerWorkspaceMgr mgr, ArrayType memory) {
        double step;
        if (calibration != null) {
            step = batchStep(x);
            calibration.add(step, x.length());
        } else {
            step = training ? trainingStep(x) : storedOrBatchStep(x);
        }
        INDArray xhat = mgr.createUninitialized(memory, x.dataType(), x.shape(), 'c');
        long nonFinite = EagerQuantizer.quantizeCountingNonFinite(x, step, quantizer(), xhat);
        if (nonFinite > 0) {
            throw nonFiniteInput(nonFinite + " of " + x.length() + " values");
        }
        return xhat;
    }

    /**
     * A NaN or infinite input fails, naming the layer: the quantizer would clamp it into range and hide it
     * (a stock layer would pass it on).
     */
    IllegalStateException nonFiniteInput(String what) {
        return new IllegalStateException(layer.lsqConf().describe() + ": the input holds NaN or infinite values ("
                + what + "); its quantizer would clamp them into range and hide them (did training diverge, or is "
                + "the data corrupt?)");
    }

    /**
     * The step of the backward pass: the forward pass's. After a training pass, the stored step (set
     * here if it is not yet: an output layer's backward pass can come without a forward pass, as DL4J's
     * networks run the output layer's forward pass inside its backward pass). After an inference pass
     * (a frozen layer that passes gradients on, {@code FrozenLayerWithBackprop}) the stored step or
     * this batch's, writing nothing.
     *
     * @param x        the layer input
     * @param training whether the forward pass was a training pass
     * @return the step
     */
    double backwardStep(INDArray x, boolean training) {
        return training ? trainingStep(x) : storedOrBatchStep(x);
    }

    /**
     * The quantized input for the backward pass (the forward pass's copy lived in its working memory,
     * which is gone by then).
     *
     * @param x    the layer input
     * @param step the step, from {@link #backwardStep}
     * @param out  receives {@code xhat}: an array of {@code x}'s shape and type
     * @return {@code out}
     */
    INDArray forBackward(INDArray x, double step, INDArray out) {
        return EagerQuantizer.quantize(x, step, quantizer(), out);
    }

    /** The stored step, set from this batch first if it is not initialized (the first training batch). */
    private double trainingStep(INDArray x) {
        double step = storedStep();
        if (step == 0) {
            step = batchStep(x);
            StepParams.assign(layer, LsqLayerConfig.INPUT_STEP_KEY, step);
            log.debug("{}: input step initialized from the first training batch to {}", layer.name(), step);
        }
        return step;
    }

    /** The stored step or, if it is not initialized, this batch's, without storing it (inference). */
    private double storedOrBatchStep(INDArray x) {
        double step = storedStep();
        return step != 0 ? step : batchStep(x);
    }

    /**
     * The backward pass.
     *
     * @param x        the layer input
     * @param step     the step, from {@link #backwardStep}
     * @param gradient on entry {@code dL/dxhat}, on return {@code dL/dx}
     * @return the gradient of the input step's parameter: {@code dL/ds} with the paper's gradient scale, over the
     *         step unit ({@link StepParams#gradientScale})
     */
    double backward(INDArray x, double step, INDArray gradient) {
        Quantizer quantizer = quantizer();
        return EagerQuantizer.backward(x, step, quantizer, StepParams.gradientScale(layer, quantizer, x.shape(), true),
                gradient);
    }

    /** The paper's initial input step for one batch. */
    private double batchStep(INDArray x) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return LsqMath.initialSteps(x, quantizer()).getDouble(0);
        } catch (IllegalArgumentException notFinite) {
            throw nonFiniteInput(notFinite.getMessage());
        }
    }

    /** @return whether {@link LsqLayers#calibrate} is running: then every batch uses its own step */
    boolean isCalibrating() {
        return calibration != null;
    }

    /** Starts accumulating input statistics for {@link LsqLayers#calibrate}. */
    void startCalibration() {
        calibration = new InputStepCalibration();
    }

    /**
     * Stops calibrating and stores the input step of all batches seen since {@link #startCalibration()}.
     *
     * @return the step stored, or NaN (and nothing stored) if no batch was seen
     */
    double finishCalibration() {
        double step = calibration.step();
        calibration = null;
        if (!Double.isNaN(step)) {
            StepParams.assign(layer, LsqLayerConfig.INPUT_STEP_KEY, step);
        }
        return step;
    }
}
