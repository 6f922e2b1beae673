package io.github.lsq4j.layers;

import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;

/**
 * The workarounds for DL4J 1.0.0-M2.1 that the LSQ layers need, in one place, each with the fault it
 * works around. Each is tested against the stock layers (see the tests named beside each). The op's
 * own workarounds (no custom-gradient op, a wrong {@code div} gradient, {@code StopGradient}'s cost)
 * are documented in {@link io.github.lsq4j.op.LsqOp}, and the dilated-convolution one in
 * {@link LsqConv2D}, where the code they shape lives.
 *
 * <ul>
 *   <li>DL4J's execution of a SameDiff layer's graph returns every gradient 2x too large (its
 *       {@code ExternalErrorsFunction.doDiff} both registers the incoming gradient and returns it) and runs
 *       at half the speed of the same ops called directly: {@link LsqRuntimeLayer} runs the graph's ops
 *       itself ({@link EagerLinear}; {@code LsqSameDiffGraphTest} shows both faults).</li>
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
