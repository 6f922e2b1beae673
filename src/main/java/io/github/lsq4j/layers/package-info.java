/**
 * LSQ layers for DL4J networks: {@link io.github.lsq4j.layers.LsqDense} and
 * {@link io.github.lsq4j.layers.LsqConv2D} (SameDiff layers that drop into any MultiLayerNetwork or
 * ComputationGraph), their runtime layer {@link io.github.lsq4j.layers.LsqRuntimeLayer}, and
 * {@link io.github.lsq4j.layers.LsqLayers} for calibration and integer codes.
 */
package io.github.lsq4j.layers;
