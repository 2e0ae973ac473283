package dev.shears.cli.experiment;

import dev.shears.nn.train.BatchSource;
import dev.shears.nn.train.LoaderSource;
import java.util.NoSuchElementException;

/**
 * A training source whose epochs stop after the first {@code batches} batches of the shuffled
 * epoch, so each epoch sees a fresh random subset of the split (the loader reshuffles per epoch):
 * the demo's brief fine-tuning. Closing it closes the loader. Not a sampler.
 */
final class LimitedSource implements BatchSource, AutoCloseable {
    private final LoaderSource inner;
    private final int batches;

    LimitedSource(LoaderSource inner, int samples) {
        this.inner = inner;
        int want = samples <= 0 ? inner.batchesPerEpoch() : (samples + inner.batchSize() - 1) / inner.batchSize();
        this.batches = Math.max(1, Math.min(inner.batchesPerEpoch(), want));
    }

    @Override
    public long size() {
        return Math.min(inner.size(), (long) batches * inner.batchSize());
    }

    @Override
    public int batchSize() {
        return inner.batchSize();
    }

    @Override
    public int batchesPerEpoch() {
        return batches;
    }

    @Override
    public Epoch epoch(int epoch) {
        Epoch e = inner.epoch(epoch);
        return new Epoch() {
            private int served;

            @Override
            public boolean hasNext() {
                return served < batches && e.hasNext();
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException("epoch " + epoch + " ends after " + batches + " batches");
                served++;
                return e.next();
            }

            @Override
            public void close() {
                e.close();
            }
        };
    }

    @Override
    public void close() {
        inner.close();
    }
}
