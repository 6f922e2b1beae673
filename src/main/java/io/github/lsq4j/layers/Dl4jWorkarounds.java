package io.github.lsq4j.layers;

import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The workarounds for DL4J 1.0.0-M2.1 that the LSQ layers need, in one place, each with the fault it
 * works around. Each is tested against the stock layers (see the tests named beside each). The op's
 * own workarounds (no custom-gradient op, a wrong {@code div} gradient, {@code StopGradient}'s cost)
 * are documented in {@link io.github.lsq4j.op.LsqOp}, and the dilated-convolution one in
 * {@link LsqConv2D}, where the code they shape lives.
 *
 * <ul>
 *   <li>{@link #SAMEDIFF_GRADIENT_FACTOR}: every SameDiff layer's gradients are 2x too large
 *       ({@code LsqStockEquivalenceTest}, {@code LsqLayerGradientTest}).</li>
 *   <li>{@link #withoutSteps}: the SameDiff backward pass wants a gradient of every parameter from the graph
 *       ({@code LsqLayerConfigTest.parameterShapes}).</li>
 *   <li>{@link #computeParamShapes}: lazily computed parameter shapes that inherited methods read
 *       directly ({@code LsqLayerConfigTest}).</li>
 *   <li>Parameters are written with {@code getParam(key).assign(...)}: {@code setParam} silently does
 *       nothing for SameDiff layers.</li>
 * </ul>
 */
final class Dl4jWorkarounds {
    private Dl4jWorkarounds() {
    }

    /**
     * DL4J M2.1 returns every SameDiff layer's gradients 2x too large, for its parameters and for the
     * epsilon passed down ({@code ExternalErrorsFunction.doDiff} both registers the incoming gradient
     * and returns it). Everything a layer's backward pass computes is linear in the incoming epsilon,
     * so halving the gradients that come out of it gives exactly the right ones (halving is exact in
     * floating point). The quantizers' backward passes take this factor in their pass over the
     * gradient ({@link io.github.lsq4j.op.EagerQuantizer}); {@link #correctGradient} halves the others.
     * Halving the incoming epsilon instead would cost a pass and an array per layer: DL4J shares it
     * between a residual add's two branches, so it cannot be halved in place.
     */
    static final double SAMEDIFF_GRADIENT_FACTOR = 0.5;

    /**
     * Halves, in place, a gradient that the SameDiff backward pass returned (see
     * {@link #SAMEDIFF_GRADIENT_FACTOR}).
     *
     * @param gradient a gradient array of the layer's own (a gradient view, or the epsilon it returns)
     */
    static void correctGradient(INDArray gradient) {
        gradient.muli(SAMEDIFF_GRADIENT_FACTOR);
    }

    /**
     * M2.1's SameDiff layer asks its graph for the gradient of every parameter in its table ("No
     * variable/placeholder with name out-grad" for one the graph does not use). The steps are used
     * outside the graph, by the eager quantizers, which also write their gradients; the runtime layer
     * shows the SameDiff backward pass this table instead. (Joining the steps to the graph as
     * {@code w + 0 * step} also works, but costs 2 graph ops forward and more backward per step: about
     * a tenth of a ResNet-8 training step.)
     *
     * @param parameters the layer's parameter table
     * @return the same table without the steps
     */
    static Map<String, INDArray> withoutSteps(Map<String, INDArray> parameters) {
        Map<String, INDArray> graphParameters = new LinkedHashMap<>(parameters);
        graphParameters.remove(LsqLayerConfig.WEIGHT_STEP_KEY);
        graphParameters.remove(LsqLayerConfig.INPUT_STEP_KEY);
        return graphParameters;
    }

    /**
     * DL4J creates a graph variable for every parameter, the steps too. Unused trainable variables make
     * SameDiff take them for the loss when it builds the gradient function (it guesses the loss as the
     * variables no op consumes, and falls back to DL4J's external-errors output only if there are
     * none); as constants they are left alone. The graph never reads them.
     *
     * @param sameDiff the layer's graph, just set up
     */
    static void stepsAsConstants(SameDiff sameDiff) {
        List<SDVariable> steps = new ArrayList<>();
        for (String key : List.of(LsqLayerConfig.WEIGHT_STEP_KEY, LsqLayerConfig.INPUT_STEP_KEY)) {
            if (sameDiff.hasVariable(key)) {
                steps.add(sameDiff.getVariable(key));
            }
        }
        if (!steps.isEmpty()) {
            sameDiff.convertToConstants(steps);
        }
    }

    /**
     * {@code AbstractSameDiffLayer} computes its parameter shapes lazily, but its {@code equals} and
     * {@code getRegularizationByParam} read the field directly: a freshly deserialized copy is unequal,
     * and regularization fails, until something calls the getter.
     *
     * @param layer the layer configuration
     */
    static void computeParamShapes(AbstractSameDiffLayer layer) {
        layer.getLayerParams();
    }
}
