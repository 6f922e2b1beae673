package io.github.lsq4j.layers;

import java.util.Arrays;
import org.deeplearning4j.exception.DL4JInvalidConfigException;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.RnnToFeedForwardPreProcessor;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A fully connected layer with LSQ-quantized weights and inputs, a drop-in replacement for DL4J's
 * {@code DenseLayer}: {@code out = activation(quantize(x) . quantize(W) + b)}.
 *
 * <p>Weights are stored {@code [nIn, nOut]} as in {@code DenseLayer}; per-channel weight steps lie
 * along axis 1 (one per output unit). See {@link AbstractLsqLayer} for parameters and initialization.
 *
 * <pre>{@code
 * new LsqDense.Builder().nIn(784).nOut(100).activation(Activation.RELU)
 *         .weightBits(4).inputBits(8).inputSigned(true).build();
 * // the same, with the quantizers given whole
 * new LsqDense.Builder().nIn(784).nOut(100).activation(Activation.RELU)
 *         .weightQuantizer(Quantizer.signed(4)).inputQuantizer(Quantizer.signed(8)).build();
 * }</pre>
 */
public class LsqDense extends AbstractLsqLayer {
    /** The axis of the weights {@code [nIn, nOut]} that holds the output units. */
    public static final int WEIGHT_CHANNEL_AXIS = 1;

    /** For JSON. */
    public LsqDense() {
    }

    private LsqDense(Builder b) {
        super(b);
    }

    @Override
    protected long[] weightShape() {
        return new long[] {nIn, nOut};
    }

    @Override
    public int weightChannelAxis() {
        return WEIGHT_CHANNEL_AXIS;
    }

    @Override
    protected double fanIn() {
        return nIn;
    }

    @Override
    protected double fanOut() {
        return nOut;
    }

    @Override
    protected SDVariable linear(SameDiff sd, SDVariable x, SDVariable w, SDVariable bias) {
        SDVariable z = x.mmul(w);
        return bias == null ? z : z.add(bias);
    }

    @Override
    EagerLinear eagerLinear() {
        return new DenseLinear(nOut);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.feedForward(nOut);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        long incoming = switch (inputType == null ? InputType.Type.CNN3D : inputType.getType()) {
            case FF -> ((InputType.InputTypeFeedForward) inputType).getSize();
            case CNNFlat -> ((InputType.InputTypeConvolutionalFlat) inputType).getFlattenedSize();
            case RNN -> ((InputType.InputTypeRecurrent) inputType).getSize();
            default -> throw new DL4JInvalidConfigException(describe() + ": expected feed-forward input, got "
                    + inputType);
        };
        if (nIn <= 0 || override) {
            setNIn(incoming);
        } else if (nIn != incoming) {
            throw new DL4JInvalidConfigException(describe() + ": nIn is " + nIn + " but the incoming data has "
                    + incoming + " features (" + inputType + ")");
        }
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        if (inputType == null) {
            throw new DL4JInvalidConfigException(describe() + ": input type is null");
        }
        return switch (inputType.getType()) {
            case FF, CNNFlat -> null;
            case RNN -> new RnnToFeedForwardPreProcessor(((InputType.InputTypeRecurrent) inputType).getFormat());
            case CNN -> {
                InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) inputType;
                yield new CnnToFeedForwardPreProcessor(c.getHeight(), c.getWidth(), c.getChannels(), c.getFormat());
            }
            default -> throw new DL4JInvalidConfigException(describe() + ": unsupported input type " + inputType);
        };
    }

    @Override
    public void validateInput(INDArray input) {
        if (input.rank() != 2 || input.size(1) != nIn) {
            throw new DL4JInvalidInputException(describe() + ": expected input [minibatch, nIn=" + nIn + "], got shape "
                    + Arrays.toString(input.shape())
                    + (input.rank() == 2 ? " (" + input.size(1) + " features, nIn is " + nIn + ")" : ""));
        }
    }

    @Override
    public String toString() {
        return "LsqDense(" + (layerName == null ? "" : "name=" + layerName + ", ") + "nIn=" + nIn + ", nOut=" + nOut
                + ", " + lsqSettings() + ")";
    }

    /** Builds an {@link LsqDense}; {@link #build()} validates every setting. */
    public static class Builder extends AbstractLsqLayer.Builder<Builder> {

        /** A builder with the defaults: 4-bit weights and inputs, signed inputs, identity activation. */
        public Builder() {
            super(WEIGHT_CHANNEL_AXIS);
        }


        /**
         * @return the layer configuration
         * @throws IllegalArgumentException naming the layer and the value if a setting is invalid
         */
        @Override
        public LsqDense buildLayer() {
            return build();
        }

        @Override
        @SuppressWarnings("unchecked")
        public LsqDense build() {
            checkSettings("LsqDense");
            LsqDense layer = new LsqDense(this);
            layer.validate();
            return layer;
        }
    }
}
