package io.github.lsq4j.layers;

import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.nd4j.autodiff.samediff.SDVariable;
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
 *   <li>{@link #joinGraph}: every parameter must take part in the SameDiff graph
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
     * DL4J requires every parameter to be part of a SameDiff layer's graph ("No variable/placeholder with
     * name out-grad" otherwise). The steps are used outside the graph, by the eager quantizers, which also
     * write their gradients; so they join the graph as an exact zero added to the weights.
     *
     * @param w    the weights as the layer computes with them
     * @param step a parameter that the graph does not otherwise use
     * @return {@code w + 0 * step}: the value of {@code w}
     */
    static SDVariable joinGraph(SDVariable w, SDVariable step) {
        return w.add(step.mul(0.0));
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
