/**
 * The LSQ quantizer as a SameDiff subgraph: straight-through rounding and the paper's scaled
 * step-size gradient, built from stock ND4J ops so that it runs on every backend.
 *
 * <p>{@link io.github.lsq4j.op.LsqOp#quantize} is the one entry point.
 */
package io.github.lsq4j.op;
