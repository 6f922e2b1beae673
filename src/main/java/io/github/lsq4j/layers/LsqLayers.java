package io.github.lsq4j.layers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operations on the LSQ layers of a {@link MultiLayerNetwork} or {@link ComputationGraph}: find them,
 * (re)derive weight steps, calibrate input steps on data, read integer codes.
 */
public final class LsqLayers {
    private static final Logger log = LoggerFactory.getLogger(LsqLayers.class);

    private LsqLayers() {
    }

    /**
     * The LSQ layers of a network, in layer order (frozen wrappers are looked through).
     *
     * @param model a MultiLayerNetwork or ComputationGraph
     * @return its LSQ runtime layers
     */
    public static List<QuantizedLayer> lsqLayers(Model model) {
        List<QuantizedLayer> out = new ArrayList<>();
        for (Layer l : layers(model)) {
            Layer inner = unwrap(l);
            if (inner instanceof QuantizedLayer lsq) {
                out.add(lsq);
            }
        }
        return out;
    }

    /**
     * The LSQ layer of a given name.
     *
     * @param model     a MultiLayerNetwork or ComputationGraph
     * @param layerName the layer's name
     * @return the layer
     * @throws IllegalArgumentException if there is no LSQ layer of that name
     */
    public static QuantizedLayer layer(Model model, String layerName) {
        Layer l = model instanceof ComputationGraph cg ? cg.getLayer(layerName) : mln(model).getLayer(layerName);
        Layer inner = l == null ? null : unwrap(l);
        if (!(inner instanceof QuantizedLayer lsq)) {
            throw new IllegalArgumentException("no LSQ layer named '" + layerName + "'"
                    + (l == null ? "" : " (it is a " + l.getClass().getSimpleName() + ")"));
        }
        return lsq;
    }

    /**
     * (Re)derives every LSQ layer's weight steps from its current weights, {@code 2*mean|w|/sqrt(Qp)}.
     * Needed only after pretrained weights are copied into a network that has already run a forward
     * pass; before that, uninitialized weight steps are derived on first use.
     *
     * @param model a MultiLayerNetwork or ComputationGraph
     */
    public static void initWeightSteps(Model model) {
        for (QuantizedLayer l : lsqLayers(model)) {
            if (l.lsqConf().isQuantizeWeights()) {
                l.initWeightSteps();
            }
        }
    }

    /**
     * The integer codes and steps of one layer.
     *
     * @param model     a MultiLayerNetwork or ComputationGraph
     * @param layerName the layer's name
     * @return the layer's integer parameters
     * @see QuantizedLayer#integerParams()
     */
    public static LsqIntegerParams integerParams(Model model, String layerName) {
        return layer(model, layerName).integerParams();
    }

    /**
     * Sets every LSQ layer's input step from the first batch of {@code data}, as the paper does.
     *
     * @param model a MultiLayerNetwork, or a ComputationGraph with one input
     * @param data  the data
     * @return the input step set per layer name
     * @see #calibrate(Model, DataSetIterator, int, CalibrationMode)
     */
    public static Map<String, Double> calibrate(Model model, DataSetIterator data) {
        return calibrate(model, data, 1);
    }

    /**
     * {@link #calibrate(Model, DataSetIterator, int, CalibrationMode)} in {@link CalibrationMode#TRAINING}
     * mode, as the paper's reference implementation.
     *
     * @param model      a MultiLayerNetwork, or a ComputationGraph with one input
     * @param data       the data
     * @param maxBatches how many batches to use, at least 1
     * @return the input step set per layer name
     */
    public static Map<String, Double> calibrate(Model model, DataSetIterator data, int maxBatches) {
        return calibrate(model, data, maxBatches, CalibrationMode.TRAINING);
    }

    /**
     * Sets every input-quantizing LSQ layer's input step from real data: {@code 2*mean|x|/sqrt(Qp)}
     * over the inputs that reach the layer in up to {@code maxBatches} batches. While calibrating, each
     * batch quantizes with a step derived from that batch, as a freshly initialized layer would. The
     * iterator is reset first if it supports it. No parameter other than the input steps changes.
     *
     * @param model      a MultiLayerNetwork, or a ComputationGraph with one input
     * @param data       the data
     * @param maxBatches how many batches to use, at least 1
     * @param mode       batch statistics (training mode, the paper's) or running statistics
     * @return the input step set per layer name
     * @throws IllegalArgumentException if {@code maxBatches < 1} or the iterator is empty
     * @see #calibrate(ComputationGraph, MultiDataSetIterator, int, CalibrationMode) for graphs with
     *      several inputs
     */
    public static Map<String, Double> calibrate(Model model, DataSetIterator data, int maxBatches,
                                                CalibrationMode mode) {
        if (data.resetSupported()) {
            data.reset();
        }
        return calibrate(model, maxBatches, mode, () -> {
            if (!data.hasNext()) {
                return false;
            }
            DataSet ds = data.next();
            if (model instanceof ComputationGraph cg) {
                cg.output(mode.training(), new INDArray[] {ds.getFeatures()},
                        ds.getFeaturesMaskArray() == null ? null : new INDArray[] {ds.getFeaturesMaskArray()});
            } else {
                mln(model).output(ds.getFeatures(), mode.training(), ds.getFeaturesMaskArray(), null);
            }
            return true;
        });
    }

    /**
     * {@link #calibrate(ComputationGraph, MultiDataSetIterator, int, CalibrationMode)} in
     * {@link CalibrationMode#TRAINING} mode, as the paper's reference implementation.
     *
     * @param graph      the network
     * @param data       the data, one feature array per network input
     * @param maxBatches how many batches to use, at least 1
     * @return the input step set per layer name
     */
    public static Map<String, Double> calibrate(ComputationGraph graph, MultiDataSetIterator data, int maxBatches) {
        return calibrate(graph, data, maxBatches, CalibrationMode.TRAINING);
    }

    /**
     * {@link #calibrate(Model, DataSetIterator, int, CalibrationMode)} for a ComputationGraph with any
     * number of inputs.
     *
     * @param graph      the network
     * @param data       the data, one feature array per network input
     * @param maxBatches how many batches to use, at least 1
     * @param mode       batch statistics (training mode, the paper's) or running statistics
     * @return the input step set per layer name
     * @throws IllegalArgumentException if {@code maxBatches < 1} or the iterator is empty
     */
    public static Map<String, Double> calibrate(ComputationGraph graph, MultiDataSetIterator data, int maxBatches,
                                                CalibrationMode mode) {
        if (data.resetSupported()) {
            data.reset();
        }
        return calibrate(graph, maxBatches, mode, () -> {
            if (!data.hasNext()) {
                return false;
            }
            MultiDataSet mds = data.next();
            graph.output(mode.training(), mds.getFeatures(), mds.getFeaturesMaskArrays(), null);
            return true;
        });
    }

    /** @param runNextBatch runs the network's forward pass on the next batch; false when there is none */
    private static Map<String, Double> calibrate(Model model, int maxBatches, CalibrationMode mode,
                                                 BooleanSupplier runNextBatch) {
        if (maxBatches < 1) {
            throw new IllegalArgumentException("maxBatches must be >= 1, got " + maxBatches);
        }
        List<QuantizedLayer> layers = new ArrayList<>();
        for (QuantizedLayer l : lsqLayers(model)) {
            if (l.lsqConf().isQuantizeInputs()) {
                layers.add(l);
            }
        }
        Map<String, Double> steps = new LinkedHashMap<>();
        layers.forEach(l -> l.inputQuantization().startCalibration());
        int batches = 0;
        try {
            while (batches < maxBatches && runNextBatch.getAsBoolean()) {
                batches++;
            }
        } finally {
            for (QuantizedLayer l : layers) {
                steps.put(l.name(), l.inputQuantization().finishCalibration());
            }
        }
        if (batches == 0) {
            throw new IllegalArgumentException("calibrate: the data iterator has no batches");
        }
        log.info("calibrated the input steps of {} LSQ layers on {} batches in {} mode: {}", layers.size(), batches,
                mode, steps);
        return steps;
    }

    private static Layer[] layers(Model model) {
        if (model instanceof ComputationGraph cg) {
            return cg.getLayers();
        }
        return mln(model).getLayers();
    }

    private static MultiLayerNetwork mln(Model model) {
        if (model instanceof MultiLayerNetwork m) {
            return m;
        }
        throw new IllegalArgumentException("expected a MultiLayerNetwork or ComputationGraph, got "
                + (model == null ? "null" : model.getClass().getName()));
    }

    /**
     * @param l a runtime layer
     * @return the layer inside any frozen or other wrapper layers
     */
    public static Layer unwrap(Layer l) {
        Layer cur = l;
        while (true) {
            if (cur instanceof FrozenLayer f) {
                cur = f.getInsideLayer();
            } else if (cur instanceof BaseWrapperLayer w) {
                cur = w.getUnderlying();
            } else {
                return cur;
            }
        }
    }
}
