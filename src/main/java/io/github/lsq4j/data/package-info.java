/**
 * Data loading for the samples and tests: IDX files (the MNIST family's format) and an in-memory image
 * classification iterator with the normalization and augmentation of the project's Fashion-MNIST recipe.
 */
package io.github.lsq4j.data;
