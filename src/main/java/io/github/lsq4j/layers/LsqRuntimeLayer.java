package io.github.lsq4j.layers;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.op.QuietSameDiff;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.Quantizer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import java.util.Map;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The runtime layer of {@link LsqDense} and {@link LsqConv2D}: DL4J's SameDiff layer, whose graph is the
 * linear operation, with the quantizers around it as eager passes ({@link EagerQuantizer}: one fused
 * loop each on CPU): the input quantizer before it ({@link InputQuantization}), the weight quantizer
 * writing the quantized weights into an array of the layer's own that the graph's weight variable is
 * bound to, and the activation after it, applied as DL4J's stock layers apply an {@link IActivation}
 * (so every activation works, with its parameters). Also: weight steps derived from the weights on first
 * use, steps clamped to at least {@link LsqMath#MIN_STEP} after every update, the M2.1 gradient fix
 * ({@link Dl4jWorkarounds#SAMEDIFF_GRADIENT_FACTOR}, folded into the quantizers' backward passes), and
 * input checks that name the layer before SameDiff sees the
 * input.
 *
 * <p>Why the weight quantizer is not in the graph: as SameDiff ops it took about 45 graph operations
 * per pass, a quarter of a ResNet-8 training step (BENCHMARKS.md).
 */
public class LsqRuntimeLayer extends SameDiffLayer implements QuantizedLayer {
    private final InputQuantization inputQuantization = new InputQuantization(this);
    /**
     * The input of the last training forward pass, its quantized copy (the SameDiff backward pass reruns
     * the graph's forward pass on it) and its pre-activation (which the backward pass of any activation
     * but the identity needs), kept in the activations' memory for the backward pass; null when there is
     * none. A backward pass whose input is not that one comes after an inference pass: a frozen layer that
     * passes gradients on ({@code FrozenLayerWithBackprop}), and recomputes them.
     */
    private INDArray trainingInput;
    private INDArray quantizedTrainingInput;
    private INDArray preActivation;
    /** The quantized weights, which the graph's weight variable is bound to; null if weights are not quantized. */
    private INDArray quantizedWeights;

    /**
     * @param conf     the layer's configuration
     * @param dataType the network's data type
     */
    public LsqRuntimeLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public AbstractLsqLayer lsqConf() {
        return (AbstractLsqLayer) layerConf();
    }

    @Override
    public InputQuantization inputQuantization() {
        return inputQuantization;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        lsqConf().validateInput(input);
        WeightSteps.ensureInitialized(this);
        IActivation fn = lsqConf().effectiveActivation();
        INDArray z = preActivation(training, workspaceMgr);
        if (training) {
            trainingInput = input;
        }
        if (fn instanceof ActivationIdentity) {
            return z;
        }
        if (training) {
            preActivation = z;
        }
        return fn.getActivation(workspaceMgr.dup(ArrayType.ACTIVATIONS, z), training);
    }

    /** The SameDiff graph's output: the linear operation on the quantized input and weights. */
    private INDArray preActivation(boolean training, LayerWorkspaceMgr workspaceMgr) {
        quantizeWeights();
        if (!inputQuantization.isOn()) {
            return super.activate(training, workspaceMgr);
        }
        INDArray x = input;
        input = inputQuantization.forward(x, training, workspaceMgr,
                training ? ArrayType.ACTIVATIONS : ArrayType.FF_WORKING_MEM);
        if (training) {
            quantizedTrainingInput = input;
        }
        try {
            return super.activate(training, workspaceMgr);
        } finally {
            input = x;
        }
    }

    /**
     * The activation's backward pass, then the SameDiff graph's, then the quantizers', with the M2.1
     * gradient fix: the graph's gradients are 2x too large, the quantizers' passes halve them, the
     * others are halved here.
     */
    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        boolean afterTraining = input != null && input == trainingInput;
        INDArray quantizedInput = afterTraining ? quantizedTrainingInput : null;
        IActivation fn = lsqConf().effectiveActivation();
        INDArray gradient = epsilon;
        if (!(fn instanceof ActivationIdentity)) {
            INDArray z = afterTraining && preActivation != null ? preActivation : preActivation(false, workspaceMgr);
            gradient = fn.backprop(z, epsilon).getFirst();
        }
        clearTrainingPass();
        if (!afterTraining) {
            quantizeWeights(); // the SameDiff backward pass reruns the forward pass; after a training pass the
                               // array still holds that pass's quantized weights (no update in between)
        }
        Pair<Gradient, INDArray> result;
        if (inputQuantization.isOn()) {
            result = backpropWithInputQuantizer(gradient, afterTraining, quantizedInput, workspaceMgr);
        } else {
            result = sameDiffBackprop(gradient, workspaceMgr);
            Dl4jWorkarounds.correctGradient(result.getSecond());
        }
        weightQuantizerBackward(result.getFirst());
        INDArray biasGradient = result.getFirst().getGradientFor(LsqLayerConfig.BIAS_KEY);
        if (biasGradient != null) {
            Dl4jWorkarounds.correctGradient(biasGradient);
        }
        return result;
    }

    /** @param quantizedInput the forward pass's quantized input, or null to recompute it */
    private Pair<Gradient, INDArray> backpropWithInputQuantizer(INDArray gradient, boolean afterTraining,
                                                               INDArray quantizedInput, LayerWorkspaceMgr workspaceMgr) {
        INDArray x = input;
        double step = inputQuantization.backwardStep(x, afterTraining);
        // The SameDiff backward pass reruns the graph's forward pass from its input.
        input = quantizedInput != null ? quantizedInput : inputQuantization.forBackward(x, step,
                workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape(), 'c'));
        Pair<Gradient, INDArray> result;
        try {
            result = sameDiffBackprop(gradient, workspaceMgr);
        } finally {
            input = x;
        }
        double stepGradient = inputQuantization.backward(x, step, Dl4jWorkarounds.SAMEDIFF_GRADIENT_FACTOR,
                result.getSecond());
        result.getFirst().getGradientFor(LsqLayerConfig.INPUT_STEP_KEY).assign(stepGradient);
        return result;
    }

    /** Writes {@code quantize(W)} into the array the graph's weight variable is bound to. */
    private void quantizeWeights() {
        if (!lsqConf().isQuantizeWeights()) {
            return;
        }
        ensureGraph(); // it makes the array written here
        EagerQuantizer.quantize(getParam(LsqLayerConfig.WEIGHT_KEY), getParam(LsqLayerConfig.WEIGHT_STEP_KEY),
                lsqConf().getWeightQuantizer(), quantizedWeights);
    }

    /**
     * Turns the graph's gradient of the quantized weights into the weights' (straight through, zero where
     * clipped, with the M2.1 gradient fix) and sets the weight steps' gradient.
     */
    private void weightQuantizerBackward(Gradient gradient) {
        INDArray weightGradient = gradient.getGradientFor(LsqLayerConfig.WEIGHT_KEY);
        if (quantizedWeights == null) {
            Dl4jWorkarounds.correctGradient(weightGradient);
            return;
        }
        Quantizer quantizer = lsqConf().getWeightQuantizer();
        INDArray w = getParam(LsqLayerConfig.WEIGHT_KEY);
        INDArray stepGradient = EagerQuantizer.backward(w, getParam(LsqLayerConfig.WEIGHT_STEP_KEY), quantizer,
                quantizer.stepGradientScale(w.shape(), false), Dl4jWorkarounds.SAMEDIFF_GRADIENT_FACTOR,
                weightGradient);
        INDArray view = gradient.getGradientFor(LsqLayerConfig.WEIGHT_STEP_KEY);
        view.assign(stepGradient.reshape(view.shape()));
    }

    /** Sets up the layer's graph if it is not yet, as DL4J does on the first pass: out of workspaces. */
    private void ensureGraph() {
        if (sameDiff == null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                doInit();
            }
        }
    }

    /**
     * DL4J's set-up of the layer's graph, which binds each parameter variable to the parameter's array;
     * then the weight variable is bound to the quantized weights instead (before the gradient function,
     * which copies the bindings, is made).
     */
    @Override
    protected void doInit() {
        super.doInit();
        Dl4jWorkarounds.stepsAsConstants(sameDiff);

        if (lsqConf().isQuantizeWeights()) {
            quantizedWeights = getParam(LsqLayerConfig.WEIGHT_KEY).ulike();
            sameDiff.associateArrayWithVariable(quantizedWeights, sameDiff.getVariable(LsqLayerConfig.WEIGHT_KEY));
        }
    }

    @Override
    public void clear() {
        super.clear();
        clearTrainingPass();
    }

    private void clearTrainingPass() {
        trainingInput = null;
        quantizedTrainingInput = null;
        preActivation = null;
    }

    /**
     * DL4J's SameDiff backward pass, over the parameters the graph computes with. The steps are not in the
     * graph (both quantizers run outside it), and M2.1's SameDiff layer asks the graph for the gradient of
     * every parameter in its table, so for that call its table holds the others only
     * ({@link Dl4jWorkarounds#withoutSteps}); the result then gets the steps' gradient views back, in
     * parameter order, for the quantizers' backward passes to fill. The first call builds the graph's
     * gradient function, which makes SameDiff print a line per op on standard output; {@link QuietSameDiff}
     * diverts those to logging.
     */
    private Pair<Gradient, INDArray> sameDiffBackprop(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        ensureGraph(); // with the whole table
        Map<String, INDArray> allParameters = paramTable;
        paramTable = Dl4jWorkarounds.withoutSteps(allParameters);
        Pair<Gradient, INDArray> graphResult;
        try {
            graphResult = sameDiff != null && sameDiff.hasGradientFunction()
                    ? super.backpropGradient(epsilon, workspaceMgr)
                    : QuietSameDiff.call(() -> super.backpropGradient(epsilon, workspaceMgr));
        } finally {
            paramTable = allParameters;
        }
        Gradient gradient = new DefaultGradient(gradients);
        for (String key : allParameters.keySet()) {
            INDArray fromGraph = graphResult.getFirst().getGradientFor(key);
            gradient.setGradientFor(key, fromGraph != null ? fromGraph : gradTable.get(key));
        }
        return new Pair<>(gradient, graphResult.getSecond());
    }

    @Override
    public void applyConstraints(int iteration, int epoch) {
        super.applyConstraints(iteration, epoch);
        WeightSteps.clamp(paramTable);
    }
}
