package io.github.lsq4j.convert;

import io.github.lsq4j.layers.AbstractLsqLayer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.L2NormalizeVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PoolHelperVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.ReshapeVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationRectifiedTanh;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;

/**
 * Which vertices of a network only ever output non-negative values, so that the layers reading them
 * get unsigned input quantizers (the paper: unsigned after a ReLU, signed otherwise). The analysis is
 * conservative: anything it does not know counts as signed, which is always correct, only less precise.
 */
final class InputSigns {
    private InputSigns() {
    }

    /**
     * @param graph the network
     * @return names of the vertices whose outputs are never negative (network inputs never are)
     */
    static Set<String> nonNegativeVertices(LayerGraph graph) {
        Set<String> nonNegative = new HashSet<>();
        for (String name : graph.order()) {
            List<String> inputs = graph.inputs().get(name);
            boolean inputsNonNegative = !inputs.isEmpty() && nonNegative.containsAll(inputs);
            if (outputNonNegative(graph.vertices().get(name), inputsNonNegative)) {
                nonNegative.add(name);
            }
        }
        return nonNegative;
    }

    private static boolean outputNonNegative(GraphVertex vertex, boolean inputsNonNegative) {
        if (vertex instanceof LayerVertex lv) {
            return layerOutputNonNegative(lv.getLayerConf().getLayer(), inputsNonNegative);
        }
        if (vertex instanceof ElementWiseVertex ew) {
            return inputsNonNegative && ew.getOp() != ElementWiseVertex.Op.Subtract;
        }
        if (vertex instanceof ScaleVertex scale) {
            return inputsNonNegative && scale.getScaleFactor() >= 0;
        }
        boolean signPreserving = vertex instanceof MergeVertex || vertex instanceof SubsetVertex
                || vertex instanceof PreprocessorVertex || vertex instanceof ReshapeVertex
                || vertex instanceof L2NormalizeVertex || vertex instanceof PoolHelperVertex;
        return signPreserving && inputsNonNegative;
    }

    private static boolean layerOutputNonNegative(Layer layer, boolean inputNonNegative) {
        // Batch norm and dropout layers ignore the activation their configuration holds (the global
        // default, sigmoid, unless set): batch norm's output has either sign, dropout keeps signs or not.
        if (layer instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
            return false;
        }
        if (layer instanceof DropoutLayer d) {
            return inputNonNegative && scalesOnly(d.getIDropout());
        }
        if (layer instanceof ActivationLayer a) {
            return nonNegative(a.getActivationFn());
        }
        if (layer instanceof BaseLayer b) {
            return nonNegative(b.getActivationFn());
        }
        if (layer instanceof AbstractLsqLayer lsq) {
            return nonNegative(lsq.effectiveActivation());
        }
        boolean signPreserving = layer instanceof SubsamplingLayer || layer instanceof GlobalPoolingLayer
                || layer instanceof ZeroPaddingLayer || layer instanceof Cropping2D
                || layer instanceof Upsampling2D || layer instanceof SpaceToDepthLayer
                || layer instanceof LocalResponseNormalization;
        return signPreserving && inputNonNegative;
    }

    /**
     * Dropout that only zeroes and rescales keeps signs; AlphaDropout, GaussianNoise and
     * GaussianDropout can make a non-negative input negative.
     */
    private static boolean scalesOnly(org.deeplearning4j.nn.conf.dropout.IDropout dropout) {
        return dropout == null || dropout instanceof org.deeplearning4j.nn.conf.dropout.Dropout
                || dropout instanceof org.deeplearning4j.nn.conf.dropout.SpatialDropout;
    }

    /** Activations whose outputs are never negative. */
    static boolean nonNegative(IActivation fn) {
        if (fn instanceof ActivationReLU relu) {
            Double slope = relu.getNegativeSlope();
            Double threshold = relu.getThreshold();
            return (slope == null || slope == 0.0) && (threshold == null || threshold >= 0.0);
        }
        return fn instanceof ActivationReLU6 || fn instanceof ActivationSigmoid || fn instanceof ActivationHardSigmoid
                || fn instanceof ActivationSoftmax || fn instanceof ActivationSoftPlus
                || fn instanceof ActivationRectifiedTanh;
    }
}
