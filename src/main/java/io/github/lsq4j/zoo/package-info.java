/**
 * DL4J zoo models prepared for LSQ.
 *
 * <p>{@code org.deeplearning4j:deeplearning4j-zoo} is an optional dependency of lsq4j: add it to your
 * project to use this package (users of the zoo have it already). The rest of the library does not
 * need it.
 */
package io.github.lsq4j.zoo;
