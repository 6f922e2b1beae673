/**
 * DL4J zoo models prepared for LSQ fine-tuning.
 */
package io.github.lsq4j.zoo;
