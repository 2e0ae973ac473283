package dev.shears.nn.train;

import dev.shears.datasets.Augment;
import dev.shears.datasets.Dataset;
import dev.shears.datasets.Loader;

/**
 * A datasets {@link Loader} as the trainer's {@link BatchSource}: the loader already orders and
 * augments from (seed, epoch) and prefetches into reused off-heap batches; this only adapts the
 * types. Closing it closes the loader. Pinned by TrainerTest (LoaderSourceTest case).
 */
public final class LoaderSource implements BatchSource, AutoCloseable {
    private final Loader loader;

    public LoaderSource(Loader loader) {
        this.loader = loader;
    }

    /** Shuffled with {@code seed}, augmented, partial last batch kept (as PyTorch's DataLoader does by default). */
    public static LoaderSource training(Dataset data, int batchSize, long seed, Augment augment) {
        return new LoaderSource(new Loader(data, Loader.Options.of(batchSize).withSeed(seed).withAugment(augment)));
    }

    /** In order, normalised only. */
    public static LoaderSource evaluation(Dataset data, int batchSize) {
        return new LoaderSource(new Loader(data, Loader.Options.of(batchSize).withShuffle(false).withAugment(Augment.none())));
    }

    public Loader loader() {
        return loader;
    }

    @Override
    public long size() {
        return loader.dataset().size();
    }

    @Override
    public int batchSize() {
        return loader.options().batchSize();
    }

    @Override
    public int batchesPerEpoch() {
        return loader.batchesPerEpoch();
    }

    @Override
    public Epoch epoch(int epoch) {
        Loader.Epoch e = loader.epoch(epoch);
        return new Epoch() {
            @Override
            public boolean hasNext() {
                return e.hasNext();
            }

            @Override
            public Batch next() {
                dev.shears.datasets.Batch b = e.next();
                return new Batch(b.inputs(), b.labels());
            }

            @Override
            public void close() {
                // the loader ends an epoch when the next one starts or it is closed
            }
        };
    }

    @Override
    public void close() {
        loader.close();
    }
}
