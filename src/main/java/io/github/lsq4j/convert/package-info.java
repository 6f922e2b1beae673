/**
 * Turns a trained DL4J network into its LSQ version for quantization-aware fine-tuning.
 *
 * <p>A mapping table ({@link io.github.lsq4j.convert.LayerMappings}) says which float layer becomes which
 * LSQ layer; a {@link io.github.lsq4j.convert.QuantizationPolicy} chooses each layer's pair of
 * quantizers; {@link io.github.lsq4j.convert.LsqConverter} applies both to a MultiLayerNetwork or
 * ComputationGraph, layer for layer under the same names, and copies every parameter.
 */
package io.github.lsq4j.convert;
