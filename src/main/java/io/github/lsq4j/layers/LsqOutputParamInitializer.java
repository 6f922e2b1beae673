package io.github.lsq4j.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The parameters of an {@link LsqOutputLayer}: the stock output layer's weights {@code W [nIn, nOut]}
 * and bias {@code b [1, nOut]}, laid out and initialized exactly as DL4J's {@link DefaultParamInitializer}
 * does, followed by the weight step(s) {@code sw [1, 1 or nOut]} and the input step {@code sx [1, 1]}
 * of the quantizers that are on, both 0 ("not initialized") at first.
 */
final class LsqOutputParamInitializer extends DefaultParamInitializer {
    static final LsqOutputParamInitializer INSTANCE = new LsqOutputParamInitializer();

    private LsqOutputParamInitializer() {
    }

    @Override
    public long numParams(Layer layer) {
        return super.numParams(layer) + stepCount(layer);
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        List<String> keys = new ArrayList<>(super.paramKeys(layer));
        keys.addAll(stepKeys(layer));
        return keys;
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        Map<String, INDArray> params = super.init(conf, paramsView, initializeParams);
        addSteps((LsqOutputLayer) conf.getLayer(), paramsView, params, initializeParams);
        stepKeys(conf.getLayer()).forEach(conf::addVariable);
        return params;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        Map<String, INDArray> gradients = super.getGradientsFromFlattened(conf, gradientView);
        addSteps((LsqOutputLayer) conf.getLayer(), gradientView, gradients, false);
        return gradients;
    }

    /** Puts the step views, which follow the stock parameters in the flat array, into {@code into}. */
    private void addSteps(LsqOutputLayer layer, INDArray flat, Map<String, INDArray> into, boolean zero) {
        INDArray vector = flat.reshape(flat.length());
        long offset = super.numParams(layer);
        for (String key : stepKeys(layer)) {
            long n = LsqLayerConfig.WEIGHT_STEP_KEY.equals(key) ? layer.numWeightSteps() : 1;
            INDArray view = vector.get(NDArrayIndex.interval(offset, offset + n)).reshape(1, n);
            if (zero) {
                view.assign(0);
            }
            into.put(key, view);
            offset += n;
        }
    }

    private static List<String> stepKeys(Layer layer) {
        LsqOutputLayer l = (LsqOutputLayer) layer;
        List<String> keys = new ArrayList<>(2);
        if (l.isQuantizeWeights()) {
            keys.add(LsqLayerConfig.WEIGHT_STEP_KEY);
        }
        if (l.isQuantizeInputs()) {
            keys.add(LsqLayerConfig.INPUT_STEP_KEY);
        }
        return keys;
    }

    private static long stepCount(Layer layer) {
        LsqOutputLayer l = (LsqOutputLayer) layer;
        return (l.isQuantizeWeights() ? l.numWeightSteps() : 0) + (l.isQuantizeInputs() ? 1 : 0);
    }
}
