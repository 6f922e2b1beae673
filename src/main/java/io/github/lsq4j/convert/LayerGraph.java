package io.github.lsq4j.convert;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 */
record LayerGraph(List<String> order, Map<String, GraphVertex> vertices, Map<String, List<String>> inputs,
                  List<String> networkInputs) {
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
        return new LayerGraph(order, vertices, inputs, List.of(MLN_INPUT));
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
                graph.getConfiguration().getVertexInputs(), networkInputs);
    }

    /**
     * @param name a vertex name
     * @return its layer configuration, or null if it is not a layer vertex
     */
    Layer layer(String name) {
        return vertices.get(name) instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }
}
