package io.github.lsq4j.layers;

import io.github.lsq4j.op.LsqOp;
import io.github.lsq4j.op.QuantizerSpec;
import io.github.lsq4j.quant.GradientScale;
import io.github.lsq4j.quant.QuantRange;
import io.github.lsq4j.quant.StepLayout;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * What {@link LsqDense} and {@link LsqConv2D} share: the LSQ options, the parameters (weights
 * {@value #WEIGHT_KEY}, bias {@value #BIAS_KEY}, weight step(s) {@value #WEIGHT_STEP_KEY}, input step
 * {@value #INPUT_STEP_KEY}), how the quantizers are put in front of the layer's linear operation, and
 * the per-parameter updater and regularization rules. The weight quantizer is part of the layer's
 * SameDiff graph ({@link LsqOp}); the input quantizer runs around it, in {@link LsqRuntimeLayer}.
 *
 * <p>Parameters:
 * <ul>
 *   <li>{@value #WEIGHT_KEY}: the weights, in the SameDiff layout of the subclass;</li>
 *   <li>{@value #BIAS_KEY}: the bias {@code [nOut]} (as in the stock layers), only if
 *       {@link #isHasBias()};</li>
 *   <li>{@value #WEIGHT_STEP_KEY}: the weight step(s) {@code [1, 1]} or {@code [1, nOut]} (per output
 *       channel), only if {@link #isQuantizeWeights()};</li>
 *   <li>{@value #INPUT_STEP_KEY}: the input step {@code [1, 1]}, only if {@link #isQuantizeInputs()}.</li>
 * </ul>
 * A quantizer that is switched off has no step parameter at all, so with both off the layer has
 * exactly the parameters of its stock DL4J twin (DL4J's SameDiff layers fail to build gradients for
 * parameters that take no part in the graph).
 *
 * <p>A step of 0 means "not initialized yet". {@link LsqRuntimeLayer} derives it on first use: the
 * weight step from the weights present at that moment ({@code 2 * mean|w| / sqrt(Qp)}), the input
 * step from the first training batch. Step sizes get no L1, L2 or weight decay, and use
 * {@link #getStepUpdater()} when it is set (else the layer's updater).
 *
 * <p>Configuration objects have setters only because DL4J's JSON deserialization needs them; treat
 * a built configuration as immutable.
 */
public abstract class AbstractLsqLayer extends SameDiffLayer {
    /** Parameter key of the weights. */
    public static final String WEIGHT_KEY = "W";
    /** Parameter key of the bias. */
    public static final String BIAS_KEY = "b";
    /** Parameter key of the weight step size(s). */
    public static final String WEIGHT_STEP_KEY = "sw";
    /** Parameter key of the input step size. */
    public static final String INPUT_STEP_KEY = "sx";

    /** Default bit width of weights and inputs. */
    public static final int DEFAULT_BITS = 4;

    /** Activations that SameDiff builds the same way as DL4J's stock layers apply them. */
    static final Set<Activation> SUPPORTED_ACTIVATIONS = Collections.unmodifiableSet(EnumSet.of(Activation.IDENTITY,
            Activation.RELU, Activation.SIGMOID, Activation.TANH, Activation.SOFTMAX, Activation.SOFTPLUS,
            Activation.SOFTSIGN, Activation.ELU, Activation.HARDTANH, Activation.CUBE));

    protected long nIn;
    protected long nOut;
    protected Activation activation = Activation.IDENTITY;
    protected boolean hasBias = true;
    protected int weightBits = DEFAULT_BITS;
    protected int inputBits = DEFAULT_BITS;
    protected boolean inputSigned = true;
    protected boolean perChannelWeights;
    protected GradientScale.Mode gradientScaleMode = GradientScale.Mode.PAPER;
    protected double gradientScaleValue = Double.NaN;
    protected boolean quantizeWeights = true;
    protected boolean quantizeInputs = true;
    protected IUpdater stepUpdater;

    /** For JSON. */
    protected AbstractLsqLayer() {
    }

    protected AbstractLsqLayer(Builder<?> b) {
        super(b);
        this.nIn = b.nIn;
        this.nOut = b.nOut;
        this.activation = b.activation;
        this.hasBias = b.hasBias;
        this.weightBits = b.weightBits;
        this.inputBits = b.inputBits;
        this.inputSigned = b.inputSigned;
        this.perChannelWeights = b.perChannelWeights;
        this.gradientScaleMode = b.gradientScale.mode();
        this.gradientScaleValue = b.gradientScale.fixedValue();
        this.quantizeWeights = b.quantizeWeights;
        this.quantizeInputs = b.quantizeInputs;
        this.stepUpdater = b.stepUpdater;
    }

    // ---------------------------------------------------------------- what subclasses define

    /** @return the shape of the weight parameter {@value #WEIGHT_KEY} */
    protected abstract long[] weightShape();

    /** @return the axis of the weight tensor that holds the output channels (for per-channel steps) */
    protected abstract int weightChannelAxis();

    /** @return fan-in for weight initialization */
    protected abstract double fanIn();

    /** @return fan-out for weight initialization */
    protected abstract double fanOut();

    /**
     * The layer's linear operation on the (quantized) input and weights.
     *
     * @param sd   the graph
     * @param x    the input as the layer computes with it
     * @param w    the weights as the layer computes with them
     * @param bias the bias {@code [nOut]}, or null
     * @return the pre-activation output
     */
    protected abstract SDVariable linear(SameDiff sd, SDVariable x, SDVariable w, SDVariable bias);

    /**
     * Checks subclass-specific settings; called by the builders' {@code build()}.
     *
     * @throws IllegalArgumentException naming the layer and the wrong value
     */
    protected void validateGeometry() {
    }

    // ---------------------------------------------------------------- SameDiffLayer

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addWeightParam(WEIGHT_KEY, weightShape());
        if (hasBias) {
            params.addBiasParam(BIAS_KEY, nOut);
        }
        // Steps are registered as "bias" params only because DL4J knows two kinds; updater and
        // regularization are chosen per key below, not by kind.
        if (quantizeWeights) {
            params.addBiasParam(WEIGHT_STEP_KEY, 1, numWeightSteps());
        }
        if (quantizeInputs) {
            params.addBiasParam(INPUT_STEP_KEY, 1, 1);
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        if (nIn <= 0) {
            throw new IllegalStateException(describe() + ": nIn is not set (" + nIn
                    + "); set it on the builder or give the network an input type (setInputType)");
        }
        initWeights((int) Math.round(fanIn()), (int) Math.round(fanOut()), weightInit, params.get(WEIGHT_KEY));
        if (hasBias) {
            params.get(BIAS_KEY).assign(0);
        }
        // 0 = not initialized: the runtime layer derives the steps on first use, so that weights copied
        // in after init() (the paper's fine-tuning from pretrained weights) set the weight step.
        if (quantizeWeights) {
            params.get(WEIGHT_STEP_KEY).assign(0);
        }
        if (quantizeInputs) {
            params.get(INPUT_STEP_KEY).assign(0);
        }
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable layerInput, Map<String, SDVariable> paramTable,
                                  SDVariable mask) {
        SDVariable w = paramTable.get(WEIGHT_KEY);
        if (quantizeWeights) {
            w = LsqOp.quantize(sd, "lsq_w", w, stepInput(paramTable.get(WEIGHT_STEP_KEY)), weightSpec()).value();
        }
        if (quantizeInputs) {
            // The input is quantized outside the graph, by LsqRuntimeLayer with EagerQuantizer (much
            // faster on data this size), which also writes the input step's gradient. DL4J still requires
            // every parameter to be part of the graph, so the step joins it as an exact zero on the weights.
            w = w.add(paramTable.get(INPUT_STEP_KEY).mul(0.0));
        }
        SDVariable z = linear(sd, layerInput, w, hasBias ? paramTable.get(BIAS_KEY) : null);
        return activation.asSameDiff("out", sd, z);
    }

    /**
     * The step parameter as the quantizer's input. DL4J's {@code doInit} creates the parameter variables
     * filled with zeros and attaches the real parameter arrays (by replacing, not copying into, the
     * variable's array) only after {@code defineLayer}. The op checks a step variable's value when the
     * graph is built and would reject that placeholder zero, so the placeholder is filled with a valid
     * step here. An op output (e.g. an identity) would skip the check, but its shape is unknown at
     * build time, which the op also needs.
     */
    private static SDVariable stepInput(SDVariable step) {
        INDArray placeholder = step.getArr();
        if (placeholder != null && placeholder.minNumber().doubleValue() <= 0) {
            placeholder.assign(1.0);
        }
        return step;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        LsqRuntimeLayer ret = new LsqRuntimeLayer(conf, networkDataType);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }

    /** Step sizes get no L1, L2 or weight decay: decay would pull them to zero. */
    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        if (isStepParam(paramName)) {
            return Collections.emptyList();
        }
        getLayerParams(); // the inherited method reads the lazily computed field directly
        return super.getRegularizationByParam(paramName);
    }

    /** Step sizes use {@link #getStepUpdater()} if set, else the layer's updater (not the bias updater). */
    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        if (isStepParam(paramName)) {
            return stepUpdater != null ? stepUpdater : updater;
        }
        return super.getUpdaterByParam(paramName);
    }

    // ---------------------------------------------------------------- derived settings

    /**
     * @param paramName a parameter key
     * @return whether it is a step size ({@value #WEIGHT_STEP_KEY} or {@value #INPUT_STEP_KEY})
     */
    public static boolean isStepParam(String paramName) {
        return WEIGHT_STEP_KEY.equals(paramName) || INPUT_STEP_KEY.equals(paramName);
    }

    /** @return the step-gradient scale policy */
    public GradientScale gradientScale() {
        return GradientScale.of(gradientScaleMode, gradientScaleValue);
    }

    /** @return how weight steps map onto the weights: per tensor, or per output channel */
    public StepLayout weightStepLayout() {
        return perChannelWeights ? StepLayout.perChannel(weightChannelAxis()) : StepLayout.perTensor();
    }

    /** @return the weight quantizer's spec */
    public QuantizerSpec weightSpec() {
        return QuantizerSpec.forWeights(weightBits, weightStepLayout(), gradientScale());
    }

    /** @return the input quantizer's spec */
    public QuantizerSpec inputSpec() {
        return QuantizerSpec.forInputs(inputBits, inputSigned, gradientScale());
    }

    /** @return the weight quantizer's integer range */
    public QuantRange weightRange() {
        return QuantRange.of(weightBits, true);
    }

    /** @return the input quantizer's integer range */
    public QuantRange inputRange() {
        return QuantRange.of(inputBits, inputSigned);
    }

    /** @return the number of weight steps: 1, or nOut when per channel */
    public long numWeightSteps() {
        return perChannelWeights ? nOut : 1;
    }

    /** @return the class name and, if set, the layer name, for messages */
    public String describe() {
        return getClass().getSimpleName() + (layerName == null ? "" : " '" + layerName + "'");
    }

    /** Checks every setting; the builders call it. */
    protected final void validate() {
        if (nOut <= 0) {
            throw new IllegalArgumentException(describe() + ": nOut must be > 0, got " + nOut);
        }
        if (nIn < 0) {
            throw new IllegalArgumentException(describe() + ": nIn must be > 0 (or 0 to take it from the input type), got "
                    + nIn);
        }
        QuantRange.checkBits(describe() + ": weightBits", weightBits);
        QuantRange.checkBits(describe() + ": inputBits", inputBits);
        if (activation == null || !SUPPORTED_ACTIVATIONS.contains(activation)) {
            throw new IllegalArgumentException(describe() + ": activation " + activation + " is not supported; use one of "
                    + SUPPORTED_ACTIVATIONS);
        }
        if (gradientScaleMode == null) {
            throw new IllegalArgumentException(describe() + ": gradient scale must not be null");
        }
        if (getIDropout() != null) {
            throw new IllegalArgumentException(describe() + ": dropout is not supported by LSQ layers (DL4J's SameDiff "
                    + "layers ignore it); add a DropoutLayer before this layer instead");
        }
        validateGeometry();
    }

    /** The part of {@link #toString()} common to both layers. */
    protected String lsqSettings() {
        return "activation=" + activation + ", hasBias=" + hasBias
                + ", weights=" + (quantizeWeights ? weightBits + " bits " + (perChannelWeights ? "per channel" : "per tensor")
                : "not quantized")
                + ", inputs=" + (quantizeInputs ? inputBits + " bits " + (inputSigned ? "signed" : "unsigned") : "not quantized")
                + ", gradientScale=" + gradientScale()
                + (stepUpdater != null ? ", stepUpdater=" + stepUpdater : "")
                + ", weightInit=" + weightInit + (updater != null ? ", updater=" + updater : "");
    }

    // ---------------------------------------------------------------- equality, clone

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        AbstractLsqLayer l = (AbstractLsqLayer) o;
        // The inherited equals compares the lazily computed parameter shapes field by field: compute
        // them on both sides first, so that a freshly deserialized copy is not unequal for that alone.
        getLayerParams();
        l.getLayerParams();
        if (!super.equals(o)) {
            return false;
        }
        return nIn == l.nIn && nOut == l.nOut && activation == l.activation && hasBias == l.hasBias
                && weightBits == l.weightBits && inputBits == l.inputBits && inputSigned == l.inputSigned
                && perChannelWeights == l.perChannelWeights && gradientScaleMode == l.gradientScaleMode
                && Double.compare(gradientScaleValue, l.gradientScaleValue) == 0
                && quantizeWeights == l.quantizeWeights && quantizeInputs == l.quantizeInputs
                && Objects.equals(stepUpdater, l.stepUpdater);
    }

    @Override
    public int hashCode() {
        // Not super.hashCode(): DL4J's SDLayerParams hashes its long[] shapes by identity, so equal
        // configurations would hash differently.
        return Objects.hash(layerName, updater, biasUpdater, regularization, regularizationBias, weightInit, nIn, nOut, activation, hasBias, weightBits, inputBits, inputSigned,
                perChannelWeights, gradientScaleMode, gradientScaleValue, quantizeWeights, quantizeInputs, stepUpdater);
    }

    @Override
    public AbstractLsqLayer clone() {
        AbstractLsqLayer c = (AbstractLsqLayer) super.clone();
        if (stepUpdater != null) {
            c.stepUpdater = stepUpdater.clone();
        }
        return c;
    }

    // ---------------------------------------------------------------- getters and setters (JSON needs both)

    /** @return number of input channels / features (0 = from the input type) */
    public long getNIn() {
        return nIn;
    }

    /** @param nIn number of input channels / features */
    public void setNIn(long nIn) {
        this.nIn = nIn;
        setLayerParams(null);
    }

    /** @return number of output channels / units */
    public long getNOut() {
        return nOut;
    }

    /** @param nOut number of output channels / units */
    public void setNOut(long nOut) {
        this.nOut = nOut;
        setLayerParams(null);
    }

    /** @return the activation */
    public Activation getActivation() {
        return activation;
    }

    /** @param activation the activation */
    public void setActivation(Activation activation) {
        this.activation = activation;
    }

    /** @return whether the layer has a bias */
    public boolean isHasBias() {
        return hasBias;
    }

    /** @param hasBias whether the layer has a bias */
    public void setHasBias(boolean hasBias) {
        this.hasBias = hasBias;
        setLayerParams(null);
    }

    /** @return weight bit width */
    public int getWeightBits() {
        return weightBits;
    }

    /** @param weightBits weight bit width */
    public void setWeightBits(int weightBits) {
        this.weightBits = weightBits;
    }

    /** @return input bit width */
    public int getInputBits() {
        return inputBits;
    }

    /** @param inputBits input bit width */
    public void setInputBits(int inputBits) {
        this.inputBits = inputBits;
    }

    /** @return whether inputs are quantized as signed */
    public boolean isInputSigned() {
        return inputSigned;
    }

    /** @param inputSigned whether inputs are quantized as signed */
    public void setInputSigned(boolean inputSigned) {
        this.inputSigned = inputSigned;
    }

    /** @return whether each output channel has its own weight step */
    public boolean isPerChannelWeights() {
        return perChannelWeights;
    }

    /** @param perChannelWeights whether each output channel has its own weight step */
    public void setPerChannelWeights(boolean perChannelWeights) {
        this.perChannelWeights = perChannelWeights;
        setLayerParams(null);
    }

    /** @return the gradient scale mode */
    public GradientScale.Mode getGradientScaleMode() {
        return gradientScaleMode;
    }

    /** @param gradientScaleMode the gradient scale mode */
    public void setGradientScaleMode(GradientScale.Mode gradientScaleMode) {
        this.gradientScaleMode = gradientScaleMode;
    }

    /** @return the fixed gradient scale (used by {@link GradientScale.Mode#FIXED} only) */
    public double getGradientScaleValue() {
        return gradientScaleValue;
    }

    /** @param gradientScaleValue the fixed gradient scale */
    public void setGradientScaleValue(double gradientScaleValue) {
        this.gradientScaleValue = gradientScaleValue;
    }

    /** @return whether weights are quantized */
    public boolean isQuantizeWeights() {
        return quantizeWeights;
    }

    /** @param quantizeWeights whether weights are quantized */
    public void setQuantizeWeights(boolean quantizeWeights) {
        this.quantizeWeights = quantizeWeights;
        setLayerParams(null);
    }

    /** @return whether inputs are quantized */
    public boolean isQuantizeInputs() {
        return quantizeInputs;
    }

    /** @param quantizeInputs whether inputs are quantized */
    public void setQuantizeInputs(boolean quantizeInputs) {
        this.quantizeInputs = quantizeInputs;
        setLayerParams(null);
    }

    /** @return the updater of the step sizes, or null for the layer's updater */
    public IUpdater getStepUpdater() {
        return stepUpdater;
    }

    /** @param stepUpdater the updater of the step sizes, or null for the layer's updater */
    public void setStepUpdater(IUpdater stepUpdater) {
        this.stepUpdater = stepUpdater;
    }

    /**
     * Builder settings common to both LSQ layers.
     *
     * @param <T> the concrete builder
     */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<T extends Builder<T>> extends SameDiffLayer.Builder<T> {
        protected long nIn;
        protected long nOut;
        protected Activation activation = Activation.IDENTITY;
        protected boolean hasBias = true;
        protected int weightBits = DEFAULT_BITS;
        protected int inputBits = DEFAULT_BITS;
        protected boolean inputSigned = true;
        protected boolean perChannelWeights;
        protected GradientScale gradientScale = GradientScale.paper();
        protected boolean quantizeWeights = true;
        protected boolean quantizeInputs = true;
        protected IUpdater stepUpdater;

        /**
         * @param nIn input channels / features; leave 0 to take it from the network's input type
         * @return this
         */
        public T nIn(long nIn) {
            this.nIn = nIn;
            return (T) this;
        }

        /**
         * @param nOut output channels / units
         * @return this
         */
        public T nOut(long nOut) {
            this.nOut = nOut;
            return (T) this;
        }

        /**
         * @param activation the activation (default identity; not taken from the global configuration)
         * @return this
         */
        public T activation(Activation activation) {
            this.activation = activation;
            return (T) this;
        }

        /**
         * @param hasBias whether the layer has a bias (default true); biases stay full precision
         * @return this
         */
        public T hasBias(boolean hasBias) {
            this.hasBias = hasBias;
            return (T) this;
        }

        /**
         * @param weightBits weight bit width, 2 to 8 (default {@value AbstractLsqLayer#DEFAULT_BITS})
         * @return this
         */
        public T weightBits(int weightBits) {
            this.weightBits = weightBits;
            return (T) this;
        }

        /**
         * @param inputBits input bit width, 2 to 8 (default {@value AbstractLsqLayer#DEFAULT_BITS})
         * @return this
         */
        public T inputBits(int inputBits) {
            this.inputBits = inputBits;
            return (T) this;
        }

        /**
         * Sets weight and input bit widths together.
         *
         * @param bits bit width, 2 to 8
         * @return this
         */
        public T bits(int bits) {
            this.weightBits = bits;
            this.inputBits = bits;
            return (T) this;
        }

        /**
         * @param inputSigned whether inputs can be negative (default true, safe for any input); set false
         *                    after a ReLU to gain one bit of resolution
         * @return this
         */
        public T inputSigned(boolean inputSigned) {
            this.inputSigned = inputSigned;
            return (T) this;
        }

        /**
         * @param perChannelWeights one weight step per output channel (default false: one per layer, as
         *                          in the paper)
         * @return this
         */
        public T perChannelWeights(boolean perChannelWeights) {
            this.perChannelWeights = perChannelWeights;
            return (T) this;
        }

        /**
         * @param gradientScale the step-gradient scale policy (default {@link GradientScale#paper()})
         * @return this
         */
        public T gradientScale(GradientScale gradientScale) {
            this.gradientScale = gradientScale;
            return (T) this;
        }

        /**
         * @param quantizeWeights whether weights are quantized (default true)
         * @return this
         */
        public T quantizeWeights(boolean quantizeWeights) {
            this.quantizeWeights = quantizeWeights;
            return (T) this;
        }

        /**
         * @param quantizeInputs whether inputs are quantized (default true)
         * @return this
         */
        public T quantizeInputs(boolean quantizeInputs) {
            this.quantizeInputs = quantizeInputs;
            return (T) this;
        }

        /**
         * Switches both quantizers; {@code quantize(false)} gives a full-precision layer equal to its
         * stock DL4J twin.
         *
         * @param quantize whether weights and inputs are quantized
         * @return this
         */
        public T quantize(boolean quantize) {
            this.quantizeWeights = quantize;
            this.quantizeInputs = quantize;
            return (T) this;
        }

        /**
         * @param stepUpdater updater for the step sizes only (default: the layer's updater)
         * @return this
         */
        public T stepUpdater(IUpdater stepUpdater) {
            this.stepUpdater = stepUpdater;
            return (T) this;
        }

        /** Checks builder-only values before the configuration is created. */
        protected void checkBuilder(String what) {
            if (gradientScale == null) {
                throw new IllegalArgumentException(what + ": gradient scale must not be null");
            }
        }
    }
}
