package io.github.lsq4j.convert;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A network's structure as the converter sees it, the same for a MultiLayerNetwork (a chain whose
 * vertices are named by layer index) and a ComputationGraph: vertices in topological order, each with
 * its inputs, and the layer configuration of the layer vertices.
 *
 * @param order    vertex names in topological order, network inputs excluded
 * @param vertices configuration of each vertex
 * @param inputs   the input names of each vertex (vertex or network input names)
 * @param networkInputs names of the network's inputs
 * @param networkOutputs names of the vertices whose outputs are the network's outputs
 */
record LayerGraph(List<String> order, Map<String, GraphVertex> vertices, Map<String, List<String>> inputs,
                  List<String> networkInputs, List<String> networkOutputs) {
    /** Name of the single input of a MultiLayerNetwork. */
    static final String MLN_INPUT = "input";

    static LayerGraph of(MultiLayerNetwork net) {
        List<String> order = new ArrayList<>();
        Map<String, GraphVertex> vertices = new LinkedHashMap<>();
        Map<String, List<String>> inputs = new LinkedHashMap<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            String name = String.valueOf(i);
            order.add(name);
            vertices.put(name, new LayerVertex(net.getLayerWiseConfigurations().getConf(i), null));
            inputs.put(name, List.of(i == 0 ? MLN_INPUT : String.valueOf(i - 1)));
        }
        return new LayerGraph(order, vertices, inputs, List.of(MLN_INPUT),
                order.isEmpty() ? List.of() : List.of(order.get(order.size() - 1)));
    }

    static LayerGraph of(ComputationGraph graph) {
        List<String> order = new ArrayList<>();
        List<String> networkInputs = graph.getConfiguration().getNetworkInputs();
        for (int index : graph.topologicalSortOrder()) {
            String name = graph.getVertices()[index].getVertexName();
            if (!networkInputs.contains(name)) {
                order.add(name);
            }
        }
        return new LayerGraph(Collections.unmodifiableList(order), graph.getConfiguration().getVertices(),
                graph.getConfiguration().getVertexInputs(), networkInputs, graph.getConfiguration().getNetworkOutputs());
    }

    /**
     * The paper's "first layers", for any number of network inputs: the layers of {@code weighted} that
     * read a network input, directly or through vertices that are not in {@code weighted} (padding,
     * pooling, batch norm, merges).
     *
     * @param weighted the layers that count (those with weights)
     * @return those of them that are first
     */
    Set<String> first(Set<String> weighted) {
        Set<String> readsInput = new HashSet<>(networkInputs);
        Set<String> result = new HashSet<>();
        for (String v : order) {
            boolean fromInput = inputs.getOrDefault(v, List.of()).stream().anyMatch(readsInput::contains);
            if (fromInput && weighted.contains(v)) {
                result.add(v);
            } else if (fromInput) {
                readsInput.add(v); // passes the input on to the layers after it
            }
        }
        return result;
    }

    /**
     * The paper's "last layers", for any number of network outputs: the layers of {@code weighted} that
     * feed a network output (or are one), directly or through vertices that are not in {@code weighted}.
     *
     * @param weighted the layers that count (those with weights)
     * @return those of them that are last
     */
    Set<String> last(Set<String> weighted) {
        Set<String> feedsOutput = new HashSet<>(networkOutputs);
        Set<String> result = new HashSet<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            String v = order.get(i);
            if (feedsOutput.contains(v) && weighted.contains(v)) {
                result.add(v);
            } else if (feedsOutput.contains(v)) {
                inputs.getOrDefault(v, List.of()).forEach(feedsOutput::add);
            }
        }
        return result;
    }

    /**
     * @param name a vertex name
     * @return its layer configuration, or null if it is not a layer vertex
     */
    Layer layer(String name) {
        return vertices.get(name) instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }
}
