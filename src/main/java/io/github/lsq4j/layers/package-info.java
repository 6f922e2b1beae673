/**
 * LSQ layers for DL4J networks: {@link io.github.lsq4j.layers.LsqDense} and
 * {@link io.github.lsq4j.layers.LsqConv2D} (SameDiff layers) and
 * {@link io.github.lsq4j.layers.LsqOutputLayer} (DL4J's output layer, quantized), which drop into any
 * MultiLayerNetwork or ComputationGraph. Each holds a weight and an input
 * {@link io.github.lsq4j.quant.Quantizer} ({@link io.github.lsq4j.layers.LsqLayerConfig}); their builders
 * share the LSQ settings of {@link io.github.lsq4j.layers.LsqLayerBuilder}. At run time each is a
 * {@link io.github.lsq4j.layers.QuantizedLayer}; {@link io.github.lsq4j.layers.LsqLayers} finds them,
 * calibrates input steps and reads integer codes. DL4J 1.0.0-M2.1's faults that the layers work around
 * are in {@code Dl4jWorkarounds}.
 */
package io.github.lsq4j.layers;
