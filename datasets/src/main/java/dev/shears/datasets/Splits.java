package dev.shears.datasets;

/**
 * The training and test splits of one dataset; the test split is normalised with the training
 * split's per-channel statistics ({@link #of} sees to it). Pinned by DatasetsTest.
 */
public record Splits(Dataset train, Dataset test) {
    /** Gives {@code test} the training statistics (mean/std) so both splits normalise alike. */
    public static Splits of(Dataset train, Dataset test) {
        return new Splits(train, test.withNormalization(train.mean(), train.std()));
    }

    /** Both splits as row sequences (T = H, F = C*W). */
    public Splits rowSequence() {
        return new Splits(train.rowSequence(), test.rowSequence());
    }

    /** Both splits as pixel sequences (T = H*W, F = C). */
    public Splits pixelSequence() {
        return new Splits(train.pixelSequence(), test.pixelSequence());
    }
}
