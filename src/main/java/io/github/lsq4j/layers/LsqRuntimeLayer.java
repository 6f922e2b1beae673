package io.github.lsq4j.layers;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.Quantizer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The runtime layer of {@link LsqDense} and {@link LsqConv2D}: the input quantizer
 * ({@link InputQuantization}), the weight quantizer, the layer's linear operation, and the activation,
 * each run eagerly on the layer's arrays, forward and backward. The quantizers are {@link EagerQuantizer}
 * passes (one fused loop each on CPU); the linear operation is the ND4J ops of the configuration's
 * SameDiff graph ({@link EagerLinear}); the activation is applied as DL4J's stock layers apply an
 * {@link IActivation} (so every activation works, with its parameters). Also: weight steps derived from
 * the weights on first use, steps clamped to at least {@link LsqMath#MIN_STEP} after every update, and
 * input checks that name the layer.
 *
 * <p>It keeps DL4J's SameDiff layer for what DL4J's networks ask of a layer (parameter and gradient
 * views, serialization), but not its execution of the graph: in M2.1 that ran the linear operation at
 * half the speed of the same ops called directly (a session, placeholders and copies per call,
 * BENCHMARKS.md) and returned every gradient 2x too large.
 */
public class LsqRuntimeLayer extends SameDiffLayer implements QuantizedLayer {
    private final InputQuantization inputQuantization = new InputQuantization(this);
    /**
     * The input of the last training forward pass, its quantized copy and its pre-activation (which the
     * backward pass of any activation but the identity needs), kept in the activations' memory for the
     * backward pass; null when there is none. A backward pass whose input is not that one comes after an
     * inference pass: a frozen layer that passes gradients on ({@code FrozenLayerWithBackprop}), and
     * recomputes them.
     */
    private INDArray trainingInput;
    private INDArray quantizedTrainingInput;
    private INDArray preActivation;
    /** The quantized weights: of the last pass, kept between inference passes while the weights are unchanged. */
    private final QuantizedWeights quantizedWeights = new QuantizedWeights(this);
    private EagerLinear linear;
    /** Inference on integer kernels, when they are available and apply. */
    private final IntegerPath integerPath = new IntegerPath(this);

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
        // training keeps z for the backward pass; inference applies the activation in place
        return fn.getActivation(training ? workspaceMgr.dup(ArrayType.ACTIVATIONS, z) : z, training);
    }

    /**
     * The linear operation on the quantized input and weights, in the activations' memory: on integer kernels
     * at inference when they apply ({@link IntegerInference}), else in float.
     */
    private INDArray preActivation(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!training) {
            INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), linear().outputShape(input), 'c');
            if (integerPath.forward(input, z)) {
                return z;
            }
        }
        INDArray w = weightsForPass(training);
        INDArray x = input;
        if (inputQuantization.isOn()) {
            x = inputQuantization.forward(input, training, workspaceMgr,
                    training ? ArrayType.ACTIVATIONS : ArrayType.FF_WORKING_MEM);
            if (training) {
                quantizedTrainingInput = x;
            }
        }
        INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), linear().outputShape(x), 'c');
        linear().forward(x, w, bias(), z);
        return z;
    }

    /**
     * The activation's backward pass, then the linear operation's, then the quantizers': the
     * straight-through gradients of the input and the weights, and the steps' gradients.
     */
    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        boolean afterTraining = input == trainingInput;
        IActivation fn = lsqConf().effectiveActivation();
        INDArray dz = epsilon;
        if (!(fn instanceof ActivationIdentity)) {
            INDArray z = afterTraining && preActivation != null ? preActivation : preActivation(false, workspaceMgr);
            dz = fn.backprop(z, epsilon).getFirst();
        }
        INDArray x = afterTraining ? quantizedTrainingInput : null;
        clearTrainingPass();
        // after a training pass the weights array still holds that pass's quantized weights (no update
        // in between); after an inference pass they are quantized again, as the input is
        INDArray w = afterTraining ? weightsOfLastPass() : weightsForPass(false);
        double inputStep = Double.NaN;
        if (inputQuantization.isOn()) {
            inputStep = inputQuantization.backwardStep(input, afterTraining);
            if (x == null) {
                x = inputQuantization.forBackward(input, inputStep, workspaceMgr.createUninitialized(
                        ArrayType.BP_WORKING_MEM, input.dataType(), input.shape(), 'c'));
            }
        } else {
            x = input;
        }
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(), 'c');
        INDArray dw = gradTable.get(LsqLayerConfig.WEIGHT_KEY);
        INDArray db = gradTable.get(LsqLayerConfig.BIAS_KEY);
        linear().backward(x, w, bias(), dz, dx, dw, db == null ? null : db.reshape(db.length()));
        if (inputQuantization.isOn()) {
            gradTable.get(LsqLayerConfig.INPUT_STEP_KEY).assign(inputQuantization.backward(input, inputStep, dx));
        }
        if (lsqConf().isQuantizeWeights()) {
            weightQuantizerBackward(dw);
        }
        Gradient gradient = new DefaultGradient(gradients);
        for (String key : paramTable.keySet()) {
            gradient.setGradientFor(key, gradTable.get(key));
        }
        return new Pair<>(gradient, dx);
    }

    /** The weights a pass computes with: {@code quantize(W)} or, if the layer does not quantize them, W. */
    private INDArray weightsForPass(boolean training) {
        return lsqConf().isQuantizeWeights() ? quantizedWeights.forPass(training) : getParam(LsqLayerConfig.WEIGHT_KEY);
    }

    private INDArray weightsOfLastPass() {
        INDArray last = quantizedWeights.ofLastPass();
        return last != null ? last : getParam(LsqLayerConfig.WEIGHT_KEY);
    }

    /** @return how many times the layer quantized its weights (tests show that inference reuses them) */
    long weightQuantizations() {
        return quantizedWeights.quantizations();
    }

    /** The bias as the linear operation takes it, {@code [nOut]}; null without bias. */
    private INDArray bias() {
        INDArray b = getParam(LsqLayerConfig.BIAS_KEY);
        return b == null ? null : b.reshape(b.length());
    }

    private EagerLinear linear() {
        if (linear == null) {
            linear = lsqConf().eagerLinear();
        }
        return linear;
    }

    /**
     * Turns the gradient of the quantized weights into the weights' (straight through, zero where clipped)
     * and sets the weight steps' gradient.
     */
    private void weightQuantizerBackward(INDArray weightGradient) {
        Quantizer quantizer = lsqConf().getWeightQuantizer();
        INDArray w = getParam(LsqLayerConfig.WEIGHT_KEY);
        INDArray stepGradient = EagerQuantizer.backward(w, StepParams.values(this, LsqLayerConfig.WEIGHT_STEP_KEY),
                quantizer, StepParams.gradientScale(this, quantizer, w.shape(), false), weightGradient);
        INDArray view = gradTable.get(LsqLayerConfig.WEIGHT_STEP_KEY);
        view.assign(stepGradient.reshape(view.shape()));
    }

    /**
     * Writes {@code val} into the parameter, as DL4J's stock layers do: M2.1's {@code SameDiffLayer.setParam}
     * checks the shape and writes nothing.
     */
    @Override
    public void setParam(String key, INDArray val) {
        super.setParam(key, val);
        getParam(key).assign(val);
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

    @Override
    public void applyConstraints(int iteration, int epoch) {
        super.applyConstraints(iteration, epoch);
        StepParams.clamp(this);
    }
}
