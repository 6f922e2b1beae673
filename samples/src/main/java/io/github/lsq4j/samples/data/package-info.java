/**
 * Data loading for the samples: IDX files (the MNIST family's format), Fashion-MNIST from Debian's
 * {@code dataset-fashion-mnist} or any folder, and an in-memory image classification iterator with the
 * normalization and augmentation of the project's Fashion-MNIST recipe.
 *
 * <p>It lives here, not in the library: it serves the demo, and DL4J users read their images with
 * DataVec. The library's tests read their committed Fashion-MNIST subset with a small helper of their own.
 */
package io.github.lsq4j.samples.data;
