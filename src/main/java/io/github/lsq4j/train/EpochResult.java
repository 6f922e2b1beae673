package io.github.lsq4j.train;

/**
 * What one training epoch did.
 *
 * @param epoch          the epoch, from 1
 * @param meanLoss       the mean training loss over its batches (DL4J's score; for SameDiff layers it
 *                       leaves out weight decay)
 * @param testAccuracy   top-1 accuracy on the test data after the epoch, 0 to 1, or NaN without test data
 * @param seconds        wall time of the training part
 * @param examplesPerSecond training throughput
 */
public record EpochResult(int epoch, double meanLoss, double testAccuracy, double seconds, double examplesPerSecond) {
}
