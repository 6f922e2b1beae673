package io.github.lsq4j.export;

import org.deeplearning4j.nn.api.Layer;

/**
 * One row of the export table: how a layer of one configuration type becomes ONNX operators. A new
 * layer kind is one entry in the table ({@link LayerExporters}).
 */
@FunctionalInterface
interface LayerExporter {

    /**
     * @param layer the runtime layer (its configuration and parameters)
     * @param input the name of the layer's input in the graph
     * @param g     the graph
     * @return the name of the layer's output
     * @throws IllegalArgumentException naming the layer if a setting has no ONNX export
     */
    String export(Layer layer, String input, OnnxGraph g);
}
