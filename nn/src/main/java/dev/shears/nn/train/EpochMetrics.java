package dev.shears.nn.train;

/**
 * One epoch's figures, as written to metrics.csv / metrics.jsonl. Test figures are NaN when the
 * run has no test source.
 *
 * @param epoch       1-based epoch number
 * @param step        optimizer steps taken by the end of the epoch
 * @param lr          learning rate of the epoch's last step
 * @param trainLoss   mean training loss (with label smoothing) over the epoch
 * @param trainAcc    training accuracy in percent, measured on the fly (training mode)
 * @param testLoss    mean test loss (no smoothing), evaluation mode
 * @param testAcc     test accuracy in percent
 * @param seconds     wall time of the epoch's training loop (evaluation excluded)
 * @param imagesPerSecond training throughput over the epoch
 */
public record EpochMetrics(int epoch, long step, double lr, double trainLoss, double trainAcc, double testLoss, double testAcc,
                           double seconds, double imagesPerSecond) {}
