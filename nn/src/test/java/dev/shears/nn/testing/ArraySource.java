package dev.shears.nn.testing;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.nn.train.BatchSource;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/** A test batch source over heap arrays; shuffled per epoch from (seed, epoch) when {@code shuffle}. */
public final class ArraySource implements BatchSource {
    private final float[][] x;
    private final int[] y;
    private final int batch;
    private final boolean shuffle;
    private final long seed;

    /** Sets example {@code i}'s feature {@code j} (tests poison data with it). */
    public void set(int i, int j, float v) {
        x[i][j] = v;
    }

    public ArraySource(float[][] x, int[] y, int batch, boolean shuffle, long seed) {
        this.x = x;
        this.y = y;
        this.batch = batch;
        this.shuffle = shuffle;
        this.seed = seed;
    }

    /**
     * Gaussian blobs: {@code n} points in {@code dim} dimensions around {@code classes} random centres
     * (drawn from {@code centreSeed}; the noise from {@code seed}, which also shuffles).
     */
    public static ArraySource blobs(int n, int dim, int classes, int batch, boolean shuffle, long centreSeed, long seed) {
        SplittableRandom c0 = new SplittableRandom(centreSeed);
        float[][] centres = new float[classes][dim];
        for (float[] c : centres) for (int j = 0; j < dim; j++) c[j] = (float) (c0.nextDouble() * 4 - 2);
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[n][dim];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
            for (int j = 0; j < dim; j++) x[i][j] = centres[y[i]][j] + (float) (r.nextGaussian() * 0.8);
        }
        return new ArraySource(x, y, batch, shuffle, seed);
    }

    @Override
    public long size() { return x.length; }

    @Override
    public int batchSize() { return batch; }

    @Override
    public Epoch epoch(int epoch) {
        int[] order = new int[x.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        if (shuffle) {
            SplittableRandom r = new SplittableRandom(seed * 7919 + epoch);
            for (int i = order.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return new Epoch() {
            int pos;
            Tensor images, labels;

            @Override
            public boolean hasNext() { return pos < order.length; }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                release();
                int n = Math.min(batch, order.length - pos), d = x[0].length;
                images = Tensor.allocate(DType.F32, n, d);
                labels = Tensor.allocate(DType.I32, n);
                for (int i = 0; i < n; i++) {
                    int k = order[pos + i];
                    for (int j = 0; j < d; j++) images.set((long) i * d + j, x[k][j]);
                    labels.setInt(i, y[k]);
                }
                pos += n;
                return new Batch(images, labels);
            }

            private void release() {
                if (images != null) images.close();
                if (labels != null) labels.close();
            }

            @Override
            public void close() { release(); }
        };
    }
}
