package io.github.lsq4j.layers;

import io.github.lsq4j.op.EagerQuantizer;
import io.github.lsq4j.op.QuietSameDiff;
import io.github.lsq4j.quant.LsqMath;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.StepLayout;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime layer of {@link LsqDense} and {@link LsqConv2D}: DL4J's SameDiff layer plus what LSQ
 * needs around it.
 *
 * <ul>
 *   <li><b>Gradient fix.</b> DL4J 1.0.0-M2.1 returns every SameDiff layer's gradients 2x too large,
 *       for its parameters and for the epsilon passed down ({@code ExternalErrorsFunction.doDiff}
 *       both registers the incoming gradient and returns it). Everything a layer's backward pass
 *       computes is linear in the incoming epsilon, so halving it before the SameDiff backward pass
 *       gives exactly the right gradients.</li>
 *   <li><b>Input quantizer.</b> The layer input is quantized here, outside the SameDiff graph, with
 *       {@link EagerQuantizer}: forward before the graph's forward pass, backward after the graph's
 *       backward pass turns {@code dL/dxhat} into {@code dL/dx} and writes the input step's gradient.
 *       On activations of a million elements this is 5-10x faster than the same quantizer as graph ops,
 *       with the same values and gradients (tested against the golden numbers and the graph op).</li>
 *   <li><b>Step initialization.</b> A step of 0 means "not initialized". On each forward pass an
 *       uninitialized weight step is derived from the current weights ({@code 2*mean|w|/sqrt(Qp)});
 *       an uninitialized input step is derived from the batch: stored if the pass is a training pass
 *       (the paper's "first training batch"), used for that batch only and not stored if it is an
 *       inference pass (so inference before training gives finite, sensibly quantized outputs, and
 *       the first training batch still sets the step).</li>
 *   <li><b>Positive steps.</b> After every parameter update DL4J calls {@link #applyConstraints};
 *       here it also clamps the step parameters to at least {@link LsqMath#MIN_STEP}, so the stored
 *       step never turns zero or negative (the op also guards the value it computes with).</li>
 *   <li><b>Input checks</b> before SameDiff sees the input, so a wrong shape fails with a message that
 *       names the layer and the value.</li>
 * </ul>
 */
public class LsqRuntimeLayer extends SameDiffLayer {
    private static final Logger log = LoggerFactory.getLogger(LsqRuntimeLayer.class);

    /** Sum of per-batch initial input steps weighted by element count, while calibrating. */
    private double calibrationStepSum;
    private long calibrationCount;
    private boolean calibrating;

    /**
     * @param conf     the layer's configuration
     * @param dataType the network's data type
     */
    public LsqRuntimeLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** @return the LSQ configuration of this layer */
    public AbstractLsqLayer lsqConf() {
        return (AbstractLsqLayer) layerConf();
    }

    /** @return the layer name, or its index if it has none */
    public String name() {
        String n = conf.getLayer().getLayerName();
        return n != null ? n : String.valueOf(getIndex());
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        AbstractLsqLayer c = lsqConf();
        c.validateInput(input);
        ensureWeightSteps();
        if (!c.isQuantizeInputs()) {
            return super.activate(training, workspaceMgr);
        }
        INDArray sx = getParam(AbstractLsqLayer.INPUT_STEP_KEY);
        if (calibrating) {
            double step = batchInputStep();
            long n = input.length();
            calibrationStepSum += step * n;
            calibrationCount += n;
        }
        if (sx.getDouble(0) != 0) {
            return activateQuantized(training, workspaceMgr);
        }
        double step = batchInputStep();
        sx.assign(step);
        if (training && !calibrating) {
            log.debug("{}: input step initialized from the first training batch to {}", name(), step);
            return activateQuantized(training, workspaceMgr);
        }
        try {
            return activateQuantized(training, workspaceMgr);
        } finally {
            sx.assign(0);
        }
    }

    /** The SameDiff forward pass on the quantized input. */
    private INDArray activateQuantized(boolean training, LayerWorkspaceMgr workspaceMgr) {
        INDArray x = input;
        input = EagerQuantizer.quantize(x, inputStep(), lsqConf().inputRange(),
                workspaceMgr.createUninitialized(ArrayType.FF_WORKING_MEM, x.dataType(), x.shape(), 'c'));
        try {
            return super.activate(training, workspaceMgr);
        } finally {
            input = x;
        }
    }

    /**
     * Halves epsilon to undo DL4J M2.1's doubled SameDiff-layer gradients (see the class comment), and
     * runs the input quantizer's backward pass around the SameDiff one.
     */
    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray halved = epsilon.mul(0.5);
        AbstractLsqLayer c = lsqConf();
        if (!c.isQuantizeInputs()) {
            return sameDiffBackprop(halved, workspaceMgr);
        }
        INDArray x = input;
        QuantRange range = c.inputRange();
        double step = inputStep();
        INDArray scratch1 = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape(), 'c');
        INDArray scratch2 = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape(), 'c');
        Pair<Gradient, INDArray> result;
        // The forward pass's quantized input lived in its working memory, which is gone by now; and the
        // SameDiff backward pass reruns the graph's forward pass from its input anyway.
        input = EagerQuantizer.quantize(x, step, range, scratch1);
        try {
            result = sameDiffBackprop(halved, workspaceMgr);
        } finally {
            input = x;
        }
        INDArray inputGradient = result.getSecond();
        long batch = x.size(0);
        double g = c.gradientScale().value(x.length() / batch, batch, range);
        double stepGradient = EagerQuantizer.backward(x, step, range, g, inputGradient, scratch1, scratch2);
        result.getFirst().getGradientFor(AbstractLsqLayer.INPUT_STEP_KEY).assign(stepGradient);
        return result;
    }

    /**
     * DL4J's SameDiff backward pass. The first one builds the graph's gradient function, which makes
     * SameDiff print a line per op on standard output; {@link QuietSameDiff} diverts those to logging.
     */
    private Pair<Gradient, INDArray> sameDiffBackprop(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (sameDiff != null && sameDiff.hasGradientFunction()) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        return QuietSameDiff.call(() -> super.backpropGradient(epsilon, workspaceMgr));
    }

    @Override
    public void applyConstraints(int iteration, int epoch) {
        super.applyConstraints(iteration, epoch);
        clampSteps();
    }

    /** Clamps the step parameters to at least {@link LsqMath#MIN_STEP}. */
    void clampSteps() {
        for (String key : new String[] {AbstractLsqLayer.WEIGHT_STEP_KEY, AbstractLsqLayer.INPUT_STEP_KEY}) {
            INDArray p = paramTable == null ? null : paramTable.get(key);
            if (p != null) {
                BooleanIndexing.replaceWhere(p, LsqMath.MIN_STEP, Conditions.lessThan(LsqMath.MIN_STEP));
            }
        }
    }

    /**
     * Derives the weight step(s) from the current weights if they are not initialized (all zero).
     *
     * @return whether the steps were (re)derived
     */
    boolean ensureWeightSteps() {
        if (!lsqConf().isQuantizeWeights()) {
            return false;
        }
        INDArray sw = getParam(AbstractLsqLayer.WEIGHT_STEP_KEY);
        if (sw.amaxNumber().doubleValue() != 0) {
            return false;
        }
        initWeightSteps();
        return true;
    }

    /**
     * Sets the weight step(s) from the current weights, {@code 2 * mean|w| / sqrt(Qp)} (per output
     * channel if configured). Call it after copying pretrained weights into a layer that has already
     * run; before the first forward pass this happens by itself.
     *
     * @throws IllegalStateException if the layer does not quantize its weights
     */
    public void initWeightSteps() {
        AbstractLsqLayer c = lsqConf();
        if (!c.isQuantizeWeights()) {
            throw new IllegalStateException(c.describe() + " does not quantize its weights");
        }
        INDArray sw = getParam(AbstractLsqLayer.WEIGHT_STEP_KEY);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray steps = LsqMath.initialSteps(getParam(AbstractLsqLayer.WEIGHT_KEY), c.weightStepLayout(),
                    c.weightRange());
            sw.assign(steps.reshape(sw.shape()).castTo(sw.dataType()));
        }
        log.debug("{}: weight step(s) initialized from the weights", name());
    }

    private double inputStep() {
        return getParam(AbstractLsqLayer.INPUT_STEP_KEY).getDouble(0);
    }

    /** The paper's initial input step for the current input batch. */
    private double batchInputStep() {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return LsqMath.initialSteps(input, StepLayout.perTensor(), lsqConf().inputRange()).getDouble(0);
        }
    }

    /**
     * Starts accumulating input statistics for {@link LsqLayers#calibrate}. The input step is reset to
     * "not initialized", so each calibration batch runs with its own step, as on a fresh layer.
     */
    void startCalibration() {
        getParam(AbstractLsqLayer.INPUT_STEP_KEY).assign(0);
        calibrating = true;
        calibrationStepSum = 0;
        calibrationCount = 0;
    }

    /**
     * Stops calibrating and stores the input step of all batches seen since
     * {@link #startCalibration()}: the element-weighted mean of the per-batch initial steps, which is
     * the paper's {@code 2 * mean|x| / sqrt(Qp)} over all those batches.
     *
     * @return the step stored, or NaN if no batch was seen
     */
    double finishCalibration() {
        calibrating = false;
        if (calibrationCount == 0) {
            return Double.NaN;
        }
        double step = Math.max(LsqMath.MIN_STEP, calibrationStepSum / calibrationCount);
        getParam(AbstractLsqLayer.INPUT_STEP_KEY).assign(step);
        return step;
    }

    /**
     * The layer's integer view: weight codes and steps, input step and range, bias. An uninitialized
     * weight step is derived from the weights first.
     *
     * @return the integer parameters
     * @throws IllegalStateException if weights are not quantized, or inputs are quantized but the input
     *                               step is not initialized yet (train or calibrate first)
     */
    public LsqIntegerParams integerParams() {
        AbstractLsqLayer c = lsqConf();
        if (!c.isQuantizeWeights()) {
            throw new IllegalStateException(c.describe() + " does not quantize its weights: no integer codes");
        }
        ensureWeightSteps();
        INDArray w = getParam(AbstractLsqLayer.WEIGHT_KEY);
        INDArray sw = getParam(AbstractLsqLayer.WEIGHT_STEP_KEY).dup().reshape(c.numWeightSteps());
        INDArray codes = LsqMath.codes(w, sw, c.weightStepLayout(), c.weightRange());
        double sx = Double.NaN;
        if (c.isQuantizeInputs()) {
            sx = getParam(AbstractLsqLayer.INPUT_STEP_KEY).getDouble(0);
            if (sx == 0) {
                throw new IllegalStateException(c.describe() + ": the input step is not initialized yet; train the "
                        + "network or call LsqLayers.calibrate first");
            }
        }
        INDArray bias = c.isHasBias() ? getParam(AbstractLsqLayer.BIAS_KEY).dup() : null;
        return new LsqIntegerParams(name(), c.weightRange(), codes, sw, c.weightStepLayout(),
                c.isQuantizeInputs() ? c.inputRange() : null, sx, bias);
    }
}
