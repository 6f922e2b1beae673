/**
 * The paper's training recipe: SGD with momentum, the cosine learning-rate schedule, weight decay by
 * precision.
 */
package io.github.lsq4j.train;
