package io.github.lsq4j.export;

import java.util.List;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationCube;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/** DL4J activation functions as ONNX operators. */
final class OnnxActivations {
    private OnnxActivations() {
    }

    /**
     * Adds the activation after {@code input}.
     *
     * @param g     the graph
     * @param fn    the activation
     * @param input the pre-activation
     * @param name  a base name for the nodes
     * @param layer the layer's description, for the error message
     * @return the activation's output ({@code input} itself for the identity)
     * @throws IllegalArgumentException naming the layer if the activation has no ONNX equivalent here
     */
    static String apply(OnnxGraph g, IActivation fn, String input, String name, String layer) {
        if (fn == null || fn instanceof ActivationIdentity) {
            return input;
        }
        List<String> in = List.of(input);
        if (fn instanceof ActivationReLU relu) {
            boolean plain = (relu.getMax() == null || Double.isInfinite(relu.getMax()))
                    && (relu.getThreshold() == null || relu.getThreshold() == 0)
                    && (relu.getNegativeSlope() == null || relu.getNegativeSlope() == 0);
            if (!plain) {
                throw new IllegalArgumentException(layer + ": ReLU with max, threshold or slope has no ONNX export");
            }
            return g.node("Relu", name, in);
        }
        if (fn instanceof ActivationLReLU leaky) {
            return g.node("LeakyRelu", name, in, OnnxGraph.attr("alpha", (float) leaky.getAlpha()));
        }
        if (fn instanceof ActivationSoftmax) {
            return g.node("Softmax", name, in, OnnxGraph.attr("axis", 1L));
        }
        if (fn instanceof ActivationSigmoid) {
            return g.node("Sigmoid", name, in);
        }
        if (fn instanceof ActivationTanH) {
            return g.node("Tanh", name, in);
        }
        if (fn instanceof ActivationSoftPlus) {
            return g.node("Softplus", name, in);
        }
        if (fn instanceof ActivationSoftSign) {
            return g.node("Softsign", name, in);
        }
        if (fn instanceof ActivationELU elu) {
            return g.node("Elu", name, in, OnnxGraph.attr("alpha", (float) elu.getAlpha()));
        }
        if (fn instanceof ActivationHardTanH) {
            return clip(g, input, name, -1, 1);
        }
        if (fn instanceof ActivationReLU6) {
            return clip(g, input, name, 0, 6);
        }
        if (fn instanceof ActivationHardSigmoid) {
            return g.node("HardSigmoid", name, in, OnnxGraph.attr("alpha", 0.2f), OnnxGraph.attr("beta", 0.5f));
        }
        if (fn instanceof ActivationSwish) {
            return g.node("Mul", name, List.of(input, g.node("Sigmoid", name + "_sigmoid", in)));
        }
        if (fn instanceof ActivationCube) {
            return g.node("Mul", name, List.of(input, g.node("Mul", name + "_square", List.of(input, input))));
        }
        throw new IllegalArgumentException(layer + ": activation " + fn + " has no ONNX export");
    }

    /** {@code Clip(x, min, max)}. */
    static String clip(OnnxGraph g, String input, String name, float min, float max) {
        return g.node("Clip", name, List.of(input, g.scalar(name + "_lo", min), g.scalar(name + "_hi", max)));
    }
}
