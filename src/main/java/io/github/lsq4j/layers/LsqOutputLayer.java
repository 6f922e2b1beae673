package io.github.lsq4j.layers;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.shade.jackson.annotation.JsonAnySetter;

/**
 * DL4J's {@code OutputLayer} with LSQ-quantized weights and inputs:
 * {@code out = activation(quantize(x) . quantize(W) + b)}, scored by the layer's loss function. A
 * drop-in replacement for the stock layer, with the same parameters {@code W [nIn, nOut]} and
 * {@code b [1, nOut]} (so trained weights copy over as they are) plus the steps of
 * {@link LsqLayerConfig}; per-channel weight steps lie along axis 1 (one per output unit). Like the stock
 * layer it takes any activation and loss function, and the global configuration (updater, weight init,
 * regularization, ...).
 *
 * <p>It is not a SameDiff layer: its runtime layer ({@link LsqOutputRuntimeLayer}) is DL4J's own output
 * layer with the weights and input quantized on the way in ({@link io.github.lsq4j.op.EagerQuantizer})
 * and the paper's gradients applied on the way out, so loss, score, masks and evaluation are DL4J's.
 *
 * <pre>{@code
 * new LsqOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
 *         .bits(8).inputSigned(false).build();
 * }</pre>
 */
public class LsqOutputLayer extends BaseOutputLayer implements LsqLayerConfig {
    /** The axis of the weights {@code [nIn, nOut]} that holds the output units. */
    public static final int WEIGHT_CHANNEL_AXIS = 1;

    private LsqOptions lsq;

    /** For JSON. */
    public LsqOutputLayer() {
    }

    private LsqOutputLayer(Builder b) {
        super(b);
        initializeConstraints(b);
        this.lsq = b.quantizerSettings.options();
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("LsqOutputLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        LsqLayerConfig.validateQuantizers(this); // also when the configuration was read from JSON
        LsqLayerConfig.checkDataType(this, networkDataType);
        LsqOutputRuntimeLayer ret = new LsqOutputRuntimeLayer(conf, networkDataType);
        ret.setListeners(trainingListeners);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }

    @Override
    public ParamInitializer initializer() {
        return LsqOutputParamInitializer.INSTANCE;
    }

    /** Step sizes get no L1, L2 or weight decay: decay would pull them to zero. */
    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return LsqLayerConfig.isStepParam(paramName) ? Collections.emptyList() : super.getRegularizationByParam(paramName);
    }

    /** Step sizes use {@link #getStepUpdater()} if set, else the layer's updater (not the bias updater). */
    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        if (LsqLayerConfig.isStepParam(paramName)) {
            return getStepUpdater() != null ? getStepUpdater() : getIUpdater();
        }
        return super.getUpdaterByParam(paramName);
    }

    @Override
    public int weightChannelAxis() {
        return WEIGHT_CHANNEL_AXIS;
    }

    @Override
    public String describe() {
        return "LsqOutputLayer" + (layerName == null ? "" : " '" + layerName + "'");
    }

    @Override
    public LsqOptions getLsq() {
        return lsq;
    }

    /** @param lsq the LSQ options: quantizers and step updater */
    public void setLsq(LsqOptions lsq) {
        this.lsq = lsq;
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
        LsqLayerConfig.checkUnknownProperty("LsqOutputLayer", property, value);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || o.getClass() != getClass() || !super.equals(o)) {
            return false;
        }
        return Objects.equals(lsq, ((LsqOutputLayer) o).lsq);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), lsq);
    }

    @Override
    public LsqOutputLayer clone() {
        LsqOutputLayer c = (LsqOutputLayer) super.clone();
        c.lsq = lsq == null ? null : lsq.deepCopy();
        return c;
    }

    @Override
    public String toString() {
        return "LsqOutputLayer(" + (layerName == null ? "" : "name=" + layerName + ", ") + "nIn=" + getNIn()
                + ", nOut=" + getNOut() + ", activation=" + getActivationFn() + ", loss=" + getLossFn()
                + ", hasBias=" + hasBias() + ", " + lsq
                + ", weightInit=" + getWeightInitFn() + (getIUpdater() != null ? ", updater=" + getIUpdater() : "") + ")";
    }

    /**
     * Builds an {@link LsqOutputLayer}: the stock output layer's settings, and the LSQ settings of
     * {@link LsqLayerBuilder}. Defaults as the stock builder (softmax, MCXENT) and 4-bit signed
     * quantizers; {@link #build()} validates.
     */
    public static class Builder extends BaseOutputLayer.Builder<Builder> implements LsqLayerBuilder<Builder> {
        private final QuantizerSettings quantizerSettings = new QuantizerSettings(WEIGHT_CHANNEL_AXIS);

        /** Softmax activation and the MCXENT loss, as the stock builder. */
        public Builder() {
            this(new org.nd4j.linalg.lossfunctions.impl.LossMCXENT());
        }

        /** @param lossFunction the loss function (softmax activation, as the stock builder) */
        public Builder(LossFunctions.LossFunction lossFunction) {
            this(lossFunction.getILossFunction());
        }

        /** @param lossFunction the loss function (softmax activation, as the stock builder) */
        public Builder(ILossFunction lossFunction) {
            lossFunction(lossFunction);
            activation(new org.nd4j.linalg.activations.impl.ActivationSoftmax());
        }

        @Override
        public QuantizerSettings quantizerSettings() {
            return quantizerSettings;
        }

        @Override
        public LsqOutputLayer buildLayer() {
            return build();
        }

        /**
         * @return the layer configuration
         * @throws IllegalArgumentException naming the layer and the value if a setting is invalid
         */
        @Override
        @SuppressWarnings("unchecked")
        public LsqOutputLayer build() {
            String what = "LsqOutputLayer" + (layerName == null ? "" : " '" + layerName + "'");
            quantizerSettings.check(what);
            LsqOutputLayer layer = new LsqOutputLayer(this);
            LsqLayerConfig.validateQuantizers(layer);
            if (layer.getIDropout() != null || layer.getWeightNoise() != null) {
                throw new IllegalArgumentException(what + ": dropout and weight noise are not supported by LSQ "
                        + "layers; add a DropoutLayer before this layer instead");
            }
            return layer;
        }
    }
}
