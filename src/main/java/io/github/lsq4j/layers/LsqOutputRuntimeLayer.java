package io.github.lsq4j.layers;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.quant.Quantizer;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The runtime layer of {@link LsqOutputLayer}: DL4J's own output layer, which computes
 * {@code activation(x . W + b)}, its loss, score and gradients, given the quantized input {@code xhat}
 * and quantized weights {@code What} in place of {@code x} and {@code W}. Its gradients are then those
 * with respect to {@code xhat} and {@code What}; the backward pass turns them into the paper's
 * gradients with respect to {@code x}, {@code W} and the two steps ({@link EagerQuantizer}). No SameDiff,
 * so none of the M2.1 SameDiff workarounds apply.
 */
public class LsqOutputRuntimeLayer extends BaseOutputLayer<LsqOutputLayer> implements QuantizedLayer {
    private final InputQuantization inputQuantization = new InputQuantization(this);
    /** The quantized weights, kept between inference passes while the weights are unchanged. */
    private final QuantizedWeights quantizedWeights = new QuantizedWeights(this);
    /** Inference on integer kernels, when they are available and apply. */
    private final IntegerPath integerPath = new IntegerPath(this);
    /** True while {@link #input} holds the quantized input, so that it is not quantized twice. */
    private boolean inputIsQuantized;

    /**
     * @param conf     the layer's configuration
     * @param dataType the network's data type
     */
    public LsqOutputRuntimeLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    protected INDArray getLabels2d(LayerWorkspaceMgr workspaceMgr, ArrayType arrayType) {
        return labels;
    }

    @Override
    public LsqOutputLayer lsqConf() {
        return layerConf();
    }

    @Override
    public InputQuantization inputQuantization() {
        return inputQuantization;
    }

    /**
     * Every forward computation (activations, score, the backward pass's) goes through here; inference passes
     * run on integer kernels when they apply ({@link IntegerInference}).
     */
    @Override
    protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop,
                                                           LayerWorkspaceMgr workspaceMgr) {
        WeightSteps.ensureInitialized(this);
        if (!training && !forBackprop && !inputIsQuantized) {
            assertInputSet(false);
            INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(),
                    new long[] {input.size(0), layerConf().getNOut()}, 'c');
            if (integerPath.forward(input, z)) {
                return new Pair<>(z, z);
            }
        }
        if (inputIsQuantized || !inputQuantization.isOn()) {
            return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
        }
        assertInputSet(forBackprop);
        INDArray x = input;
        input = inputQuantization.forward(x, training, workspaceMgr, ArrayType.FF_WORKING_MEM);
        inputIsQuantized = true;
        try {
            return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
        } finally {
            input = x;
            inputIsQuantized = false;
        }
    }

    /** The weights as the layer computes with them: quantized, if the layer quantizes its weights. */
    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (layerConf().getWeightQuantizer() == null || !LsqLayerConfig.WEIGHT_KEY.equals(param)) {
            return super.getParamWithNoise(param, training, workspaceMgr);
        }
        return quantizedWeights.forPass(training);
    }

    /** @return how many times the layer quantized its weights (tests show that inference reuses them) */
    long weightQuantizations() {
        return quantizedWeights.quantizations();
    }

    /**
     * DL4J's backward pass on the quantized input and weights, then the quantizers' backward passes: the
     * straight-through gradients of {@code W} and {@code x}, and the step gradients.
     */
    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        WeightSteps.ensureInitialized(this);
        INDArray x = input;
        // DL4J's output layers run their forward pass inside the backward pass, as a training pass.
        double inputStep = inputQuantization.isOn() ? inputQuantization.backwardStep(x, true) : Double.NaN;
        if (inputQuantization.isOn()) {
            input = inputQuantization.forBackward(x, inputStep,
                    workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape(), 'c'));
            inputIsQuantized = true;
        }
        Pair<Gradient, INDArray> result;
        try {
            result = super.backpropGradient(epsilon, workspaceMgr);
        } finally {
            input = x;
            inputIsQuantized = false;
        }
        Map<String, INDArray> gradients = result.getFirst().gradientForVariable();
        Quantizer weights = layerConf().getWeightQuantizer();
        if (weights != null) {
            INDArray w = getParam(LsqLayerConfig.WEIGHT_KEY);
            INDArray weightGradient = gradientViews.get(LsqLayerConfig.WEIGHT_KEY);
            INDArray stepGradient;
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                stepGradient = EagerQuantizer.backward(w, StepParams.values(this, LsqLayerConfig.WEIGHT_STEP_KEY),
                        weights, StepParams.gradientScale(this, weights, w.shape(), false), weightGradient);
            }
            INDArray view = gradientViews.get(LsqLayerConfig.WEIGHT_STEP_KEY);
            view.assign(stepGradient.reshape(view.shape()));
            gradients.put(LsqLayerConfig.WEIGHT_STEP_KEY, view);
        }
        if (inputQuantization.isOn()) {
            INDArray view = gradientViews.get(LsqLayerConfig.INPUT_STEP_KEY);
            view.assign(inputQuantization.backward(x, inputStep, result.getSecond()));
            gradients.put(LsqLayerConfig.INPUT_STEP_KEY, view);
        }
        return result;
    }

    @Override
    public void applyConstraints(int iteration, int epoch) {
        super.applyConstraints(iteration, epoch);
        StepParams.clamp(this);
    }
}
