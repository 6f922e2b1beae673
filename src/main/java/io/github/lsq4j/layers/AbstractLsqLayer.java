package io.github.lsq4j.layers;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonAnySetter;

/**
 * What {@link LsqDense} and {@link LsqConv2D} share: the two quantizers, the parameters (weights
 * {@value #WEIGHT_KEY}, bias {@value #BIAS_KEY}, weight step(s) {@value #WEIGHT_STEP_KEY}, input step
 * {@value #INPUT_STEP_KEY}), how the quantizers are put in front of the layer's linear operation, and
 * the per-parameter updater and regularization rules. The layer's SameDiff graph is its linear
 * operation; {@link LsqRuntimeLayer} runs the same ops eagerly ({@link #eagerLinear()}), with both
 * quantizers and the activation around them.
 *
 * <p>Parameters:
 * <ul>
 *   <li>{@value #WEIGHT_KEY}: the weights, in the SameDiff layout of the subclass;</li>
 *   <li>{@value #BIAS_KEY}: the bias {@code [nOut]} (as in the stock layers), only if
 *       {@link #isHasBias()};</li>
 *   <li>{@value #WEIGHT_STEP_KEY}: the weight step(s) {@code [1, 1]} or {@code [1, nOut]} (per output
 *       channel), only if the weights are quantized;</li>
 *   <li>{@value #INPUT_STEP_KEY}: the input step {@code [1, 1]}, only if the inputs are quantized.</li>
 * </ul>
 * A quantizer that is switched off has no step parameter at all, so with both off the layer has
 * exactly the parameters of its stock DL4J twin.
 *
 * <p>The LSQ options are two {@link io.github.lsq4j.quant.Quantizer} values: {@link #getWeightQuantizer()} and
 * {@link #getInputQuantizer()}, null when that quantizer is off. The builders' one-line settings
 * ({@code bits(4)}, {@code inputSigned(false)}, {@code perChannelWeights(true)}, ...) edit those two
 * values; a new quantizer option needs no field here.
 *
 * <p>A step of 0 means "not initialized yet". {@link LsqRuntimeLayer} derives it on first use: the
 * weight step from the weights present at that moment ({@code 2 * mean|w| / sqrt(Qp)}), the input
 * step from the first training batch. Step sizes get no L1, L2 or weight decay, and use
 * {@link #getStepUpdater()} when it is set (else the layer's updater).
 *
 * <p>Configuration objects have setters only because DL4J's JSON deserialization needs them; treat
 * a built configuration as immutable.
 */
public abstract class AbstractLsqLayer extends SameDiffLayer implements LsqLayerConfig {
    /** Default bit width of weights and inputs. */
    public static final int DEFAULT_BITS = QuantizerSettings.DEFAULT_BITS;

    private static final IActivation IDENTITY = new ActivationIdentity();

    protected long nIn;
    protected long nOut;
    /** Null until set on the builder or taken from the global configuration; identity outside one. */
    protected IActivation activationFn;
    protected boolean hasBias = true;
    /** The initial bias; null until set on the builder or taken from the global configuration (0 outside one). */
    protected Double biasInit;
    protected LsqOptions lsq;

    /** For JSON. */
    protected AbstractLsqLayer() {
    }

    protected AbstractLsqLayer(Builder<?> b) {
        super(b);
        this.nIn = b.nIn;
        this.nOut = b.nOut;
        this.activationFn = b.activationFn;
        this.hasBias = b.hasBias;
        this.biasInit = b.biasInit;
        this.lsq = b.quantizerSettings.options();
    }

    // ---------------------------------------------------------------- what subclasses define

    /** @return the shape of the weight parameter {@value #WEIGHT_KEY} */
    protected abstract long[] weightShape();

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

    /** @return the same linear operation as eager ND4J ops, which the runtime layer runs */
    abstract EagerLinear eagerLinear();

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
        if (isQuantizeWeights()) {
            params.addBiasParam(WEIGHT_STEP_KEY, 1, numWeightSteps());
        }
        if (isQuantizeInputs()) {
            params.addBiasParam(INPUT_STEP_KEY, 1, 1);
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        if (nIn <= 0) {
            throw new IllegalStateException(describe() + ": nIn is not set (" + nIn
                    + "); set it on the builder or give the network an input type (setInputType)");
        }
        initWeights((int) Math.round(fanIn()), (int) Math.round(fanOut()),
                weightInit != null ? weightInit : WeightInit.XAVIER, params.get(WEIGHT_KEY));
        if (hasBias) {
            params.get(BIAS_KEY).assign(biasInit != null ? biasInit : 0);
        }
        // 0 = not initialized: the runtime layer derives the steps on first use, so that weights copied
        // in after init() (the paper's fine-tuning from pretrained weights) set the weight step.
        if (isQuantizeWeights()) {
            params.get(WEIGHT_STEP_KEY).assign(0);
        }
        if (isQuantizeInputs()) {
            params.get(INPUT_STEP_KEY).assign(0);
        }
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable layerInput, Map<String, SDVariable> paramTable,
                                  SDVariable mask) {
        // The layer's linear operation on the input and weights as it computes with them: the runtime
        // layer runs it as eager ops (eagerLinear), with the quantizers and the activation around it.
        return linear(sd, layerInput, paramTable.get(WEIGHT_KEY), hasBias ? paramTable.get(BIAS_KEY) : null);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        LsqLayerConfig.validateQuantizers(this); // also when the configuration was read from JSON
        LsqLayerConfig.checkDataType(this, networkDataType);
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
        if (LsqLayerConfig.isStepParam(paramName)) {
            return Collections.emptyList();
        }
        Dl4jWorkarounds.computeParamShapes(this);
        return super.getRegularizationByParam(paramName);
    }

    /** Step sizes use {@link #getStepUpdater()} if set, else the layer's updater (not the bias updater). */
    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        if (LsqLayerConfig.isStepParam(paramName)) {
            return getStepUpdater() != null ? getStepUpdater() : updater;
        }
        return super.getUpdaterByParam(paramName);
    }

    // ---------------------------------------------------------------- derived settings

    @Override
    public String describe() {
        return getClass().getSimpleName() + (layerName == null ? "" : " '" + layerName + "'");
    }

    /** Checks every setting; the builders call it. */
    protected final void validate() {
        validateSizes();
        if (biasInit != null && !Double.isFinite(biasInit)) {
            throw new IllegalArgumentException(describe() + ": biasInit must be finite, got " + biasInit);
        }
        LsqLayerConfig.validateQuantizers(this);
        if (getIDropout() != null) {
            throw new IllegalArgumentException(describe() + ": dropout is not supported by LSQ layers (DL4J's SameDiff "
                    + "layers ignore it); add a DropoutLayer before this layer instead");
        }
        validateGeometry();
    }

    /**
     * Checks nIn and nOut; called by {@link #validate()}.
     *
     * @throws IllegalArgumentException naming the layer and the wrong value
     */
    protected void validateSizes() {
        if (nOut <= 0) {
            throw new IllegalArgumentException(describe() + ": nOut must be > 0, got " + nOut);
        }
        if (nIn < 0) {
            throw new IllegalArgumentException(describe() + ": nIn must be > 0 (or 0 to take it from the input type), got "
                    + nIn);
        }
    }

    /** The part of {@link #toString()} common to both layers. */
    protected String lsqSettings() {
        return "activation=" + activationFn + ", hasBias=" + hasBias + (biasInit != null ? ", biasInit=" + biasInit : "")
                + ", " + lsq
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
        Dl4jWorkarounds.computeParamShapes(this);
        Dl4jWorkarounds.computeParamShapes(l);
        return super.equals(o) && nIn == l.nIn && nOut == l.nOut && Objects.equals(activationFn, l.activationFn)
                && hasBias == l.hasBias && Objects.equals(biasInit, l.biasInit)
                && Objects.equals(lsq, l.lsq);
    }

    @Override
    public int hashCode() {
        // Not super.hashCode(): DL4J's SDLayerParams hashes its long[] shapes by identity, so equal
        // configurations would hash differently.
        return Objects.hash(layerName, updater, biasUpdater, regularization, regularizationBias, weightInit, nIn, nOut,
                activationFn, hasBias, biasInit, lsq);
    }

    @Override
    public AbstractLsqLayer clone() {
        AbstractLsqLayer c = (AbstractLsqLayer) super.clone();
        c.lsq = lsq == null ? null : lsq.deepCopy();
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

    /** @return the activation, or null if it is to come from the global configuration (not applied yet) */
    public IActivation getActivationFn() {
        return activationFn;
    }

    /** @param activationFn the activation */
    public void setActivationFn(IActivation activationFn) {
        this.activationFn = activationFn;
    }

    /** @return the activation the layer computes with: its own, or identity if none was set or inherited */
    public IActivation effectiveActivation() {
        return activationFn != null ? activationFn : IDENTITY;
    }

    /**
     * Takes what the layer does not set from the network's global configuration, as DL4J's stock layers
     * do: the activation, the weight initialization and the bias initialization (updater, bias updater, regularization and
     * gradient normalization are taken by DL4J's SameDiff layer before this).
     *
     * @throws IllegalArgumentException naming the layer if the global weight initialization has no
     *                                  {@link WeightInit} equivalent
     */
    @Override
    public void applyGlobalConfigToLayer(NeuralNetConfiguration.Builder globalConfig) {
        super.applyGlobalConfigToLayer(globalConfig);
        if (activationFn == null) {
            activationFn = globalConfig.getActivationFn();
        }
        if (biasInit == null) {
            biasInit = globalConfig.getBiasInit();
        }
        if (weightInit == null && globalConfig.getWeightInitFn() != null) {
            weightInit = GlobalSettings.weightInit(describe(), globalConfig.getWeightInitFn());
        }
    }

    /** @return the initial bias, or null if it is to come from the global configuration (0 outside one) */
    public Double getBiasInit() {
        return biasInit;
    }

    /** @param biasInit the initial bias, or null for the global configuration's */
    public void setBiasInit(Double biasInit) {
        this.biasInit = biasInit;
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

    @Override
    public LsqOptions getLsq() {
        return lsq;
    }

    /** @param lsq the LSQ options: quantizers and step updater */
    public void setLsq(LsqOptions lsq) {
        this.lsq = lsq;
        setLayerParams(null);
    }

    /**
     * Reads JSON properties that have no setter: refuses the LSQ options of an older format.
     *
     * @param property the property's name
     * @param value    its value
     * @see LsqLayerConfig#checkUnknownProperty
     */
    @JsonAnySetter
    public void unknownProperty(String property, Object value) {
        LsqLayerConfig.checkUnknownProperty(getClass().getSimpleName(), property, value);
    }

    /**
     * Builder settings common to both LSQ layers; the LSQ settings come from {@link LsqLayerBuilder}.
     * An invalid value is reported by {@code build()}, naming the layer, the setting and the value.
     *
     * @param <T> the concrete builder
     */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<T extends Builder<T>> extends SameDiffLayer.Builder<T>
            implements LsqLayerBuilder<T> {
        protected long nIn;
        protected long nOut;
        protected IActivation activationFn;
        protected boolean hasBias = true;
        protected Double biasInit;
        private final QuantizerSettings quantizerSettings;

        /** @param weightChannelAxis the axis of the layer's weights that holds the output channels */
        protected Builder(int weightChannelAxis) {
            this.quantizerSettings = new QuantizerSettings(weightChannelAxis);
            this.weightInit = null; // unset: from the global configuration, else Xavier as DL4J's default
        }

        @Override
        public QuantizerSettings quantizerSettings() {
            return quantizerSettings;
        }

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
         * @param activation the activation (default: the network's global activation, as for DL4J's stock
         *                   layers; identity outside a network configuration)
         * @return this
         */
        public T activation(Activation activation) {
            return activation(activation.getActivationFunction());
        }

        /**
         * @param activationFn the activation: any of DL4J's, with its parameters (a leaky ReLU's slope),
         *                     or your own
         * @return this
         */
        public T activation(IActivation activationFn) {
            this.activationFn = activationFn;
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
         * @param biasInit the initial value of every bias element (default: the network's global bias
         *                 initialization, as for DL4J's stock layers; 0 outside a network configuration)
         * @return this
         */
        public T biasInit(double biasInit) {
            this.biasInit = biasInit;
            return (T) this;
        }

        /**
         * Reports the first invalid LSQ setting, naming the layer.
         *
         * @param layerKind the layer's class name, for the message
         * @throws IllegalArgumentException if a setting was invalid
         */
        protected void checkSettings(String layerKind) {
            quantizerSettings.check(layerKind + (layerName == null ? "" : " '" + layerName + "'"));
        }
    }
}
