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
 *   <li>{@link io.github.lsq4j.zoo}: DL4J zoo models prepared for LSQ.</li>
 * </ul>
 * <p>{@link io.github.lsq4j.data} reads IDX files and Fashion-MNIST for the samples and tests.
 */
package io.github.lsq4j;
