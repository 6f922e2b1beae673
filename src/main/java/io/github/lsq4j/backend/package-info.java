/**
 * Backend-specific speed-ups for the stock DL4J layers that surround the LSQ layers.
 */
package io.github.lsq4j.backend;
