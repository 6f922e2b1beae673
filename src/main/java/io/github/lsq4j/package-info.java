/**
 * lsq4j: Learned Step Size Quantization (Esser et al., ICLR 2020) for Deeplearning4j.
 *
 * <p>Packages, in the order data flows (each depends only on those before it):
 * <ul>
 *   <li>{@link io.github.lsq4j.quant}: the quantizer math in plain Java, the reference for all else;</li>
 *   <li>{@link io.github.lsq4j.op}: the quantizer as a SameDiff subgraph with the paper's gradients;</li>
 *   <li>{@link io.github.lsq4j.layers}: LSQ dense and convolution layers for DL4J networks;</li>
 *   <li>{@link io.github.lsq4j.convert}: float network to LSQ network, by a mapping table and a policy;</li>
 *   <li>{@link io.github.lsq4j.train}: the paper's training recipe, fine-tuning and distillation;</li>
 *   <li>{@link io.github.lsq4j.zoo}: DL4J zoo models prepared for LSQ (needs the optional
 *       {@code deeplearning4j-zoo}).</li>
 * </ul>
 * <p>{@link io.github.lsq4j.backend} switches on DL4J's native helpers for the stock layers.
 */
package io.github.lsq4j;
