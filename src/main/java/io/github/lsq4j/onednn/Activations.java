package io.github.lsq4j.onednn;

import org.bytedeco.dnnl.global.dnnl;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/** DL4J activations as oneDNN elementwise functions. */
final class Activations {
    private Activations() {
    }

    /** @return whether {@code fn} is the identity (nothing to compute) */
    static boolean isIdentity(IActivation fn) {
        return fn == null || fn instanceof ActivationIdentity;
    }

    /** @return whether {@code fn} is softmax, which is its own op, not an elementwise function */
    static boolean isSoftmax(IActivation fn) {
        return fn instanceof ActivationSoftmax;
    }

    /**
     * @param fn    an activation other than identity and softmax
     * @param layer the layer, for the message
     * @return the elementwise function
     * @throws IllegalArgumentException naming the layer and the activation if oneDNN has no such function
     */
    static Eltwise of(IActivation fn, String layer) {
        if (fn instanceof ActivationReLU relu && isPlainRelu(relu)) {
            return Eltwise.relu(0f);
        }
        if (fn instanceof ActivationLReLU leaky) {
            return Eltwise.relu((float) leaky.getAlpha());
        }
        if (fn instanceof ActivationReLU6) {
            return Eltwise.clip(0f, 6f);
        }
        if (fn instanceof ActivationHardTanH) {
            return Eltwise.clip(-1f, 1f);
        }
        if (fn instanceof ActivationSigmoid) {
            return Eltwise.of(dnnl.dnnl_eltwise_logistic, 0f, 0f);
        }
        if (fn instanceof ActivationTanH) {
            return Eltwise.of(dnnl.dnnl_eltwise_tanh, 0f, 0f);
        }
        if (fn instanceof ActivationELU elu) {
            return Eltwise.of(dnnl.dnnl_eltwise_elu, (float) elu.getAlpha(), 0f);
        }
        if (fn instanceof ActivationSwish) {
            return Eltwise.of(dnnl.dnnl_eltwise_swish, 1f, 0f);
        }
        throw new IllegalArgumentException("layer " + layer + ": activation " + fn
                + " has no oneDNN kernel here (supported: identity, ReLU, leaky ReLU, ReLU6, hard tanh, sigmoid, tanh, "
                + "ELU, swish, softmax)");
    }

    /** ReLU with DL4J's defaults (no upper bound, threshold 0, negative slope 0). */
    private static boolean isPlainRelu(ActivationReLU relu) {
        return isUnsetOr(relu.getMax(), Double.POSITIVE_INFINITY) && isUnsetOr(relu.getThreshold(), 0)
                && isUnsetOr(relu.getNegativeSlope(), 0);
    }

    private static boolean isUnsetOr(Double value, double neutral) {
        return value == null || value == neutral;
    }
}
