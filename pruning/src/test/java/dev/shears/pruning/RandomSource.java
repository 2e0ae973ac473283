package dev.shears.pruning;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.nn.train.BatchSource;
import java.lang.foreign.Arena;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * A test batch source: {@code size} Gaussian images of {@code shape} with labels in [0, classes),
 * fixed by the seed, the same batches in the same order every epoch (the scores' data and the
 * fine-tuning data of the tests). Owns its memory until closed.
 */
final class RandomSource implements BatchSource, AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Tensor[] images, labels;
    private final int batch;
    private final long size;

    RandomSource(long seed, int size, int batch, int classes, int... shape) {
        this.batch = batch;
        this.size = size;
        int batches = (size + batch - 1) / batch;
        images = new Tensor[batches];
        labels = new Tensor[batches];
        SplittableRandom r = new SplittableRandom(seed);
        for (int b = 0; b < batches; b++) {
            int n = Math.min(batch, size - b * batch);
            int[] s = new int[shape.length + 1];
            s[0] = n;
            System.arraycopy(shape, 0, s, 1, shape.length);
            images[b] = Tensor.allocate(arena, DType.F32, s);
            labels[b] = Tensor.allocate(arena, DType.I32, n);
            for (long i = 0; i < images[b].size(); i++) images[b].set(i, (float) r.nextGaussian());
            for (int i = 0; i < n; i++) labels[b].setInt(i, r.nextInt(classes));
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int batchSize() {
        return batch;
    }

    @Override
    public Epoch epoch(int epoch) {
        return new Epoch() {
            int next;

            @Override
            public boolean hasNext() {
                return next < images.length;
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                Batch b = new Batch(images[next], labels[next]);
                next++;
                return b;
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public void close() {
        arena.close();
    }
}
