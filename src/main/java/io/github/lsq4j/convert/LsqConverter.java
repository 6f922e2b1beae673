package io.github.lsq4j.convert;

import io.github.lsq4j.layers.LsqDepthwiseConv2D;
import io.github.lsq4j.layers.LsqLayerBuilder;
import io.github.lsq4j.layers.LsqLayerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a trained MultiLayerNetwork or ComputationGraph into its LSQ copy for quantization-aware
 * fine-tuning. Every layer whose type is in the mapping table ({@link LayerMappings}: convolutions,
 * depthwise and separable convolutions, dense and output layers) becomes its LSQ twin, in place and under
 * the same name, with the quantizers the {@link QuantizationPolicy} chooses for it; weights and biases
 * are copied exactly; batch norm and every other layer stay as they are, with their parameters. The copy
 * has the same layers, names, inputs and outputs as the original, which is not changed, with one
 * exception: a mapping may put a second LSQ layer in front of a converted one (a separable convolution
 * {@code sep} becomes {@code sep_depthwise} and {@code sep}), which moves the indices of the layers
 * after it in a MultiLayerNetwork by one.
 *
 * <p>Input quantizers are unsigned where the analysis proves the layer's input non-negative (after a
 * ReLU, directly or through pooling, padding, dropout or an add of non-negative branches), signed
 * otherwise; the network input counts as signed. Step sizes are left "uninitialized": weight steps are
 * derived from the copied weights on first use, input steps from the first training batch, or earlier
 * with {@link io.github.lsq4j.layers.LsqLayers#calibrate}.
 *
 * <p>A new layer kind is one entry in the table passed to {@link #LsqConverter(QuantizationPolicy, Map)}.
 */
public final class LsqConverter {
    private static final Logger log = LoggerFactory.getLogger(LsqConverter.class);
    /**
     * The name of the layer a mapping adds in front of a converted one, after the converted layer's name
     * (a separable convolution {@code sep} becomes {@code sep_depthwise} and {@code sep}).
     */
    public static final String PRECEDING_SUFFIX = "_depthwise";

    private final QuantizationPolicy policy;
    private final Map<Class<? extends Layer>, LayerMapping> table;

    /**
     * A converter with the default mapping table.
     *
     * @param policy how to quantize
     */
    public LsqConverter(QuantizationPolicy policy) {
        this(policy, LayerMappings.defaultTable());
    }

    /**
     * @param policy how to quantize
     * @param table  float layer type (matched exactly) to mapping
     */
    public LsqConverter(QuantizationPolicy policy, Map<Class<? extends Layer>, LayerMapping> table) {
        if (policy == null || table == null) {
            throw new IllegalArgumentException("policy and mapping table must not be null");
        }
        this.policy = policy;
        this.table = Map.copyOf(table);
    }

    /**
     * Converts with the default table.
     *
     * @param net    a trained, initialized network
     * @param policy how to quantize
     * @return the LSQ copy
     */
    public static MultiLayerNetwork convert(MultiLayerNetwork net, QuantizationPolicy policy) {
        return new LsqConverter(policy).apply(net);
    }

    /**
     * Converts with the default table.
     *
     * @param graph  a trained, initialized network
     * @param policy how to quantize
     * @return the LSQ copy
     */
    public static ComputationGraph convert(ComputationGraph graph, QuantizationPolicy policy) {
        return new LsqConverter(policy).apply(graph);
    }

    /**
     * @param net a trained, initialized network
     * @return its LSQ copy, with iteration and epoch counts reset (a fine-tuning run starts at 0)
     * @throws IllegalArgumentException if the policy refuses an unsupported layer, or a layer's
     *                                  settings have no LSQ equivalent
     */
    public MultiLayerNetwork apply(MultiLayerNetwork net) {
        requireInitialized(net.getLayers() != null, "MultiLayerNetwork");
        Map<String, Converted> plan = plan(LayerGraph.of(net), i -> {
            String name = net.getLayerWiseConfigurations().getConf(Integer.parseInt(i)).getLayer().getLayerName();
            return name == null ? i : name;
        });
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        // a float layer with a preceding LSQ layer becomes two: the indices after it move up by one
        List<NeuralNetConfiguration> layers = new ArrayList<>();
        Map<Integer, InputPreProcessor> preProcessors = new HashMap<>();
        int[] newIndex = new int[net.getnLayers()];
        for (int i = 0; i < net.getnLayers(); i++) {
            NeuralNetConfiguration layerConf = conf.getConf(i);
            InputPreProcessor preProcessor = conf.getInputPreProcess(i);
            if (preProcessor != null) {
                preProcessors.put(layers.size(), preProcessor);
            }
            Converted c = plan.get(String.valueOf(i));
            if (c != null && c.preceding() != null) {
                layers.add(withLayer(layerConf, c.preceding()));
            }
            if (c != null) {
                layerConf.setLayer(c.layer());
            }
            newIndex[i] = layers.size();
            layers.add(layerConf);
        }
        conf.setConfs(layers);
        conf.setInputPreProcessors(preProcessors);
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        MultiLayerNetwork out = new MultiLayerNetwork(conf);
        out.init();
        for (int i = 0; i < net.getnLayers(); i++) {
            int j = newIndex[i];
            copyParams(plan.get(String.valueOf(i)), net.getLayer(i).paramTable(),
                    j > 0 ? out.getLayer(j - 1).paramTable() : null, out.getLayer(j).paramTable());
        }
        return out;
    }

    /**
     * @param graph the network to convert; it is not changed
     * @return its LSQ copy, initialized, with the float network's parameters
     * @throws IllegalArgumentException if the graph is not initialized, or if the policy refuses one of
     *                                  its layers
     */
    public ComputationGraph apply(ComputationGraph graph) {
        requireInitialized(graph.getVertices() != null, "ComputationGraph");
        LayerGraph structure = LayerGraph.of(graph);
        Map<String, Converted> plan = plan(structure, name -> name);
        ComputationGraphConfiguration conf = graph.getConfiguration().clone();
        Map<String, String> precedingNames = new HashMap<>();
        plan.forEach((name, c) -> {
            LayerVertex vertex = (LayerVertex) conf.getVertices().get(name);
            if (c.preceding() != null) {
                String first = uniqueName(name + PRECEDING_SUFFIX, conf.getVertices().keySet());
                c.preceding().setLayerName(first);
                conf.getVertices().put(first, new LayerVertex(withLayer(vertex.getLayerConf(), c.preceding()),
                        vertex.getPreProcessor()));
                conf.getVertexInputs().put(first, conf.getVertexInputs().get(name));
                conf.getVertexInputs().put(name, List.of(first));
                vertex.setPreProcessor(null);
                precedingNames.put(name, first);
            }
            vertex.getLayerConf().setLayer(c.layer());
        });
        conf.setTopologicalOrder(null); // vertices were added: DL4J sorts them again
        conf.setTopologicalOrderStr(null);
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        ComputationGraph out = new ComputationGraph(conf);
        out.init();
        for (String name : structure.order()) {
            org.deeplearning4j.nn.api.Layer original = graph.getLayer(name);
            if (original != null) {
                String first = precedingNames.get(name);
                copyParams(plan.get(name), original.paramTable(), first == null ? null : out.getLayer(first).paramTable(),
                        out.getLayer(name).paramTable());
            }
        }
        return out;
    }

    /** A copy of a layer's configuration (updater, seed, ...) with another layer in it. */
    private static NeuralNetConfiguration withLayer(NeuralNetConfiguration layerConf, Layer layer) {
        NeuralNetConfiguration copy = layerConf.clone();
        copy.setLayer(layer);
        return copy;
    }

    private static String uniqueName(String wanted, Set<String> taken) {
        String name = wanted;
        for (int i = 2; taken.contains(name); i++) {
            name = wanted + i;
        }
        return name;
    }

    /** The LSQ configuration (and follower) for each layer to convert, by vertex name. */
    private Map<String, Converted> plan(LayerGraph graph, UnaryOperator<String> layerName) {
        List<String> weighted = new ArrayList<>();
        for (String v : graph.order()) {
            Layer layer = graph.layer(v);
            if (layer != null && (table.containsKey(layer.getClass()) || hasWeights(layer))) {
                weighted.add(v);
            }
        }
        checkPolicyNames(graph, layerName);
        if (weighted.isEmpty()) {
            long lsqLayers = graph.order().stream().map(graph::layer).filter(LsqLayerConfig.class::isInstance).count();
            if (lsqLayers > 0) {
                throw new IllegalArgumentException("the network is already converted (" + lsqLayers + " LSQ layers, "
                        + "no float layer with weights left): convert the float network, or train this one as it is");
            }
        }
        Set<String> nonNegative = InputSigns.nonNegativeVertices(graph);
        Set<String> weightedSet = Set.copyOf(weighted);
        Set<String> first = graph.first(weightedSet);
        Set<String> last = graph.last(weightedSet);
        Map<String, Converted> plan = new LinkedHashMap<>();
        for (String v : weighted) {
            Layer layer = graph.layer(v);
            String name = layerName.apply(v);
            LayerMapping mapping = table.get(layer.getClass());
            if (mapping == null) {
                unsupported(name, layer);
                continue;
            }
            if (policy.skips(name)) {
                log.info("layer '{}' ({}) stays in float: on the policy's skip list", name, layer.getClass().getSimpleName());
                continue;
            }
            boolean inputSigned = !nonNegative.containsAll(graph.inputs().get(v));
            LsqLayerBuilder<?> precedingBuilder = mapping.precedingFromFloat(layer);
            Layer preceding = null;
            Layer lsq;
            if (precedingBuilder == null) {
                lsq = quantize(mapping.fromFloat(layer), name, first.contains(v) || last.contains(v), inputSigned);
            } else {
                // the first layer reads the float layer's input; its linear output feeds the second
                preceding = quantize(precedingBuilder, name, first.contains(v), inputSigned);
                lsq = quantize(mapping.fromFloat(layer), name, last.contains(v), true);
            }
            warnDroppedSettings(name, layer);
            log.info("layer '{}': {} -> {}{}", name, layer.getClass().getSimpleName(),
                    preceding == null ? "" : preceding + " then ", lsq);
            plan.put(v, new Converted(lsq, preceding, mapping));
        }
        return plan;
    }

    /** Adds the policy's quantizers, step updater and step unit to a mapping's builder, and builds the layer. */
    private Layer quantize(LsqLayerBuilder<?> builder, String name, boolean firstOrLast, boolean inputSigned) {
        QuantizationPolicy.LayerQuantizers quantizers = policy.quantizersFor(name, firstOrLast, inputSigned,
                builder.quantizerSettings().weightChannelAxis(), builder instanceof LsqDepthwiseConv2D.Builder);
        builder.weightQuantizer(quantizers.weights()).inputQuantizer(quantizers.inputs());
        if (policy.stepUpdater() != null) {
            builder.stepUpdater(policy.stepUpdater().clone());
        }
        builder.stepUnit(policy.stepUnit());
        return builder.buildLayer();
    }

    /** Override and skip names that match no layer are refused, listing the layers there are. */
    private void checkPolicyNames(LayerGraph graph, UnaryOperator<String> layerName) {
        Set<String> known = new java.util.TreeSet<>();
        for (String v : graph.order()) {
            if (graph.layer(v) != null) {
                known.add(layerName.apply(v));
            }
        }
        Set<String> unknown = new java.util.TreeSet<>(policy.overrides().keySet());
        unknown.addAll(policy.skipped());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("policy names layers the network does not have: " + unknown
                    + "; its layers are " + known);
        }
    }

    /** Names each setting of the float layer that its LSQ layer drops in a warning, so none is lost silently. */
    private static void warnDroppedSettings(String name, Layer layer) {
        List<String> dropped = droppedSettings(layer);
        if (!dropped.isEmpty()) {
            log.warn("layer '{}' ({}): not carried over to its LSQ layer: {}", name, layer.getClass().getSimpleName(),
                    String.join("; ", dropped));
        }
    }

    /**
     * @param layer a float layer
     * @return its settings that the LSQ layer does not carry over, each with its value
     */
    static List<String> droppedSettings(Layer layer) {
        List<String> dropped = new ArrayList<>();
        if (layer.getIDropout() != null) {
            dropped.add("dropout " + layer.getIDropout());
        }
        if (layer.getConstraints() != null && !layer.getConstraints().isEmpty()) {
            dropped.add("constraints " + layer.getConstraints());
        }
        if (layer instanceof org.deeplearning4j.nn.conf.layers.BaseLayer b) {
            if (b.getWeightNoise() != null) {
                dropped.add("weight noise " + b.getWeightNoise());
            }
            if (b.getGradientNormalization() != null
                    && b.getGradientNormalization() != org.deeplearning4j.nn.conf.GradientNormalization.None) {
                dropped.add("gradient normalization " + b.getGradientNormalization());
            }
        }
        return dropped;
    }

    private void unsupported(String name, Layer layer) {
        String what = "layer '" + name + "' (" + layer.getClass().getSimpleName() + ") has weights but no LSQ mapping";
        if (policy.unsupportedLayers() == QuantizationPolicy.UnsupportedLayers.FAIL) {
            throw new IllegalArgumentException(what + "; the policy refuses such layers (mapped types: "
                    + table.keySet().stream().map(Class::getSimpleName).toList() + ")");
        }
        log.warn("{}: it stays in float", what);
    }

    /**
     * Layers with trainable weights that are not already LSQ (or other SameDiff) layers; batch norm has
     * no weight params.
     */
    private static boolean hasWeights(Layer layer) {
        if (layer instanceof LsqLayerConfig || layer instanceof AbstractSameDiffLayer) {
            return false;
        }
        ParamInitializer init = layer.initializer();
        return init.paramKeys(layer).stream().anyMatch(key -> init.isWeightParam(layer, key));
    }

    /** @param precedingParams the parameters of the LSQ layer in front of the converted one, if it has one */
    private static void copyParams(Converted converted, Map<String, INDArray> from, Map<String, INDArray> precedingParams,
                                   Map<String, INDArray> to) {
        if (converted == null) {
            from.forEach((key, value) -> to.get(key).assign(value));
        } else if (converted.preceding() != null) {
            converted.mapping().copyParams(from, precedingParams, to);
        } else {
            converted.mapping().copyParams(from, to);
        }
    }

    private static void requireInitialized(boolean initialized, String what) {
        if (!initialized) {
            throw new IllegalArgumentException(what + " is not initialized: call init() (or load it) before converting");
        }
    }

    @Override
    public String toString() {
        return "LsqConverter(" + policy + ", mappings=" + table.keySet().stream().map(Class::getSimpleName).toList() + ")";
    }

    /** A float layer's LSQ replacement, and the LSQ layer in front of it if the mapping adds one. */
    private record Converted(Layer layer, Layer preceding, LayerMapping mapping) {
    }
}
