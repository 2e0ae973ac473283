package dev.shears.datasets;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * Batches a {@link Dataset} into reusable off-heap tensors: shuffles with (seed, epoch), so the
 * same seed gives the same order and resuming at epoch e is exact; augments each sample with
 * draws seeded by (seed, epoch, position), so augmentation is reproducible too; prefetches on one
 * background daemon thread into a bounded ring of {@code prefetch + 1} buffers ({@code prefetch 0}:
 * no thread, batches filled on the caller's thread). A partial last batch is kept or dropped.
 * An error on the prefetch thread is rethrown on the consumer with its message. One consumer
 * thread; not a sampler framework. Pinned by LoaderTest.
 */
public final class Loader implements AutoCloseable {
    /** Loader settings; {@link #of(int)} gives shuffled, seed 0, keep the last batch, normalise only, prefetch 2. */
    public record Options(int batchSize, long seed, boolean shuffle, boolean dropLast, Augment augment, int prefetch) {
        public Options {
            if (batchSize < 1) throw new IllegalArgumentException("batch size " + batchSize + " must be >= 1");
            if (prefetch < 0 || prefetch > 64) throw new IllegalArgumentException("prefetch " + prefetch + " must be 0..64");
            if (augment == null) throw new IllegalArgumentException("augment must not be null (Augment.none() for evaluation)");
        }

        public static Options of(int batchSize) {
            return new Options(batchSize, 0, true, false, Augment.none(), 2);
        }

        public Options withSeed(long s) { return new Options(batchSize, s, shuffle, dropLast, augment, prefetch); }
        public Options withShuffle(boolean s) { return new Options(batchSize, seed, s, dropLast, augment, prefetch); }
        public Options withDropLast(boolean d) { return new Options(batchSize, seed, shuffle, d, augment, prefetch); }
        public Options withAugment(Augment a) { return new Options(batchSize, seed, shuffle, dropLast, a, prefetch); }
        public Options withPrefetch(int p) { return new Options(batchSize, seed, shuffle, dropLast, augment, p); }
    }

    private final Dataset dataset;
    private final Options options;
    private final int sampleSize;
    private final int batches;
    private final Arena arena = Arena.ofShared();
    private final Batch[] buffers;
    private final ArrayBlockingQueue<Batch> free;
    private final ArrayBlockingQueue<Object> ready;
    private final Filler filler;
    private Producer producer;  // the running epoch's prefetch thread, or null
    private Batch held;         // the batch the consumer holds
    private int generation;     // bumps with every epoch(); stale Epoch objects refuse to run
    private boolean closed;

    public Loader(Dataset dataset, Options options) {
        this.dataset = dataset;
        this.options = options;
        this.sampleSize = dataset.sampleSize();
        int n = dataset.size();
        int b = options.batchSize();
        this.batches = options.dropLast() ? n / b : (n + b - 1) / b;
        this.filler = new Filler(dataset, options.augment(), options.seed());
        int last = options.dropLast() ? 0 : n % b;
        int count = options.prefetch() + 1;
        this.buffers = new Batch[count];
        this.free = new ArrayBlockingQueue<>(count);
        this.ready = new ArrayBlockingQueue<>(count + 1);
        int[] sample = dataset.sampleShape();
        try {
            for (int k = 0; k < count; k++) {
                MemorySegment in = arena.allocate((long) b * sampleSize * Float.BYTES, Tensor.ALIGN);
                MemorySegment lb = arena.allocate((long) b * Integer.BYTES, Tensor.ALIGN);
                String tag = dataset.name() + "-batch" + k;
                Tensor fullIn = Tensor.wrap(tag + "-inputs", DType.F32, in, prepend(b, sample));
                Tensor fullLb = Tensor.wrap(tag + "-labels", DType.I32, lb, b);
                Tensor lastIn = last == 0 ? null : Tensor.wrap(tag + "-inputs", DType.F32, in.asSlice(0, (long) last * sampleSize * Float.BYTES), prepend(last, sample));
                Tensor lastLb = last == 0 ? null : Tensor.wrap(tag + "-labels", DType.I32, lb.asSlice(0, (long) last * Integer.BYTES), last);
                buffers[k] = new Batch(fullIn, fullLb, lastIn, lastLb);
                free.add(buffers[k]);
            }
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static int[] prepend(int first, int[] rest) {
        int[] s = new int[rest.length + 1];
        s[0] = first;
        System.arraycopy(rest, 0, s, 1, rest.length);
        return s;
    }

    public Dataset dataset() { return dataset; }
    public Options options() { return options; }

    /** Batches in one epoch. */
    public int batchesPerEpoch() { return batches; }

    /**
     * Starts epoch {@code epoch} (any epoch, in any order: the order depends only on the seed and
     * the epoch number). Ends the previous epoch, reclaiming its batches. Iterate the result once.
     */
    public Epoch epoch(int epoch) {
        if (closed) throw new IllegalStateException("loader over '" + dataset.name() + "' used after close()");
        stopProducer();
        generation++;
        int[] order = order(epoch);
        if (options.prefetch() > 0 && batches > 0) {
            producer = new Producer(epoch, order, generation);
            producer.thread.start();
        }
        return new Epoch(epoch, order, generation);
    }

    /** The sample order of an epoch: a seeded Fisher-Yates permutation, or 0..N-1 unshuffled. */
    int[] order(int epoch) {
        int n = dataset.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (options.shuffle()) {
            SplittableRandom rng = new SplittableRandom(Filler.mix(Filler.mix(options.seed()) ^ epoch));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /** Stops the prefetch thread (if any) and returns every buffer to the free ring. */
    private void stopProducer() {
        Producer p = producer;
        producer = null;
        if (p != null) {
            p.stop = true;
            p.thread.interrupt();
            boolean interrupted = false;
            while (p.thread.isAlive()) {
                try {
                    p.thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        ready.clear();
        free.clear();
        held = null;
        free.addAll(Arrays.asList(buffers));
    }

    /** Stops the prefetch thread and frees every batch buffer; batches handed out become unusable. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        stopProducer();
        arena.close();
    }

    /** Failure of the prefetch thread, passed to the consumer. */
    private record Failure(Throwable error, int batch) {}

    private final class Producer implements Runnable {
        final int epoch;
        final int[] order;
        final Thread thread;
        volatile boolean stop;

        Producer(int epoch, int[] order, int generation) {
            this.epoch = epoch;
            this.order = order;
            this.thread = new Thread(this, "shears-loader-" + dataset.name() + "-e" + epoch + "-g" + generation);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            int b = 0;
            Batch buf = null;
            try {
                for (; b < batches && !stop; b++) {
                    buf = free.take();
                    filler.fill(buf, epoch, b, order, options.batchSize());
                    ready.put(buf);
                    buf = null;
                }
            } catch (InterruptedException e) {
                // stopped by epoch() or close(): the consumer reclaims every buffer
            } catch (Throwable t) {
                if (buf != null) free.offer(buf);
                ready.offer(new Failure(t, b));
            }
        }
    }

    /** The batches of one epoch, in order; an Iterator and a one-shot Iterable for for-each loops. */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch> {
        private final int epoch;
        private final int[] order;
        private final int generation;
        private int delivered;
        private boolean failed;

        private Epoch(int epoch, int[] order, int generation) {
            this.epoch = epoch;
            this.order = order;
            this.generation = generation;
        }

        public int number() { return epoch; }

        /** The dataset indices in this epoch's order (a copy). */
        public int[] order() { return order.clone(); }

        @Override
        public Iterator<Batch> iterator() {
            return this;
        }

        @Override
        public boolean hasNext() {
            return !failed && delivered < batches && generation == Loader.this.generation && !closed;
        }

        @Override
        public Batch next() {
            if (closed) throw new IllegalStateException("loader over '" + dataset.name() + "' used after close()");
            if (generation != Loader.this.generation) throw new IllegalStateException("epoch " + epoch + " was ended by a later call to epoch()");
            if (failed || delivered >= batches) throw new NoSuchElementException("epoch " + epoch + " has no batch " + delivered + " (" + batches + " per epoch)");
            if (options.prefetch() == 0) {
                Batch buf = buffers[0];
                held = null;
                filler.fill(buf, epoch, delivered, order, options.batchSize());
                held = buf;
                delivered++;
                return buf;
            }
            if (held != null) {
                free.add(held); // the consumer is done with it: recycle
                held = null;
            }
            Object item = take();
            if (item instanceof Failure f) {
                failed = true;
                throw rethrow(f);
            }
            held = (Batch) item;
            delivered++;
            return held;
        }

        private Object take() {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        Object item = ready.poll(200, TimeUnit.MILLISECONDS);
                        if (item != null) return item;
                        Producer p = producer;
                        if (p == null || !p.thread.isAlive()) {
                            item = ready.poll();
                            if (item != null) return item;
                            failed = true;
                            throw new IllegalStateException("loader thread for epoch " + epoch + " ended before batch " + delivered);
                        }
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } finally {
                if (interrupted) Thread.currentThread().interrupt();
            }
        }

        private RuntimeException rethrow(Failure f) {
            Throwable t = f.error();
            String where = " (loader thread, epoch " + epoch + ", batch " + f.batch() + ")";
            if (t instanceof DatasetException) return new DatasetException(t.getMessage(), t);
            return new IllegalStateException(t + where, t);
        }
    }

    /**
     * Fills batch buffers: reads each sample, crops, flips and normalises it. Used by one thread at
     * a time (the prefetch thread of the running epoch, or the caller with prefetch 0).
     */
    static final class Filler {
        private final Dataset dataset;
        private final Augment augment;
        private final long seed;
        private final int sampleSize;
        private final int channels, height, width; // images only
        private final boolean image;
        private final float[] meanE, stdE;          // (sampleSize) per-element normalisation
        private final float[] raw, out;             // (sampleSize) scratch
        private final SampleRandom rng = new SampleRandom();

        Filler(Dataset dataset, Augment augment, long seed) {
            this.dataset = dataset;
            this.augment = augment;
            this.seed = seed;
            this.sampleSize = dataset.sampleSize();
            int[] s = dataset.sampleShape();
            this.image = s.length == 3;
            this.channels = image ? s[0] : 1;
            this.height = image ? s[1] : 1;
            this.width = image ? s[2] : 1;
            if (!image && (augment.padding() > 0 || augment.flip())) {
                throw new IllegalArgumentException("crop and flip apply to image samples (C, H, W); dataset '" + dataset.name() + "' has samples " + Arrays.toString(s));
            }
            if (augment.randomResizedCrop() && !dataset.lazy()) {
                throw new IllegalArgumentException("random-resized-crop applies to image folders (decoded per batch); dataset '" + dataset.name() + "' holds fixed-size samples");
            }
            if (augment.padMode() == Augment.PadMode.REFLECT && augment.padding() >= Math.min(height, width) && augment.padding() > 0) {
                throw new IllegalArgumentException("reflect padding " + augment.padding() + " needs images larger than it; dataset '" + dataset.name() + "' has " + height + "x" + width);
            }
            float[] mean = dataset.mean(), std = dataset.std();
            meanE = new float[sampleSize];
            stdE = new float[sampleSize];
            for (int k = 0; k < sampleSize; k++) {
                int c = dataset.channelOf(k);
                meanE[k] = augment.normalize() ? mean[c] : 0f;
                stdE[k] = augment.normalize() ? std[c] : 1f;
            }
            raw = new float[sampleSize];
            out = new float[sampleSize];
        }

        void fill(Batch batch, int epoch, int b, int[] order, int batchSize) {
            int from = b * batchSize;
            int count = Math.min(batchSize, order.length - from);
            batch.set(epoch, b, count);
            MemorySegment inputs = batch.inputs().segment();
            MemorySegment labels = batch.labels().segment();
            int[] indices = batch.sampleIndicesBuffer();
            for (int j = 0; j < count; j++) {
                int i = order[from + j];
                indices[j] = i;
                rng.reset(mix(mix(mix(seed) ^ epoch) + from + j));
                dataset.readForLoader(i, raw, 0, augment.randomResizedCrop(), rng);
                sample(rng);
                MemorySegment.copy(out, 0, inputs, ValueLayout.JAVA_FLOAT, (long) j * sampleSize * Float.BYTES, sampleSize);
                labels.setAtIndex(ValueLayout.JAVA_INT, j, dataset.label(i));
            }
        }

        /** raw -> out: crop (offset dy, dx in [-p, p]), flip, normalise. Draw order: dy, dx, flip. */
        private void sample(RandomGenerator r) {
            int p = augment.padding();
            int dy = p > 0 ? r.nextInt(2 * p + 1) - p : 0;
            int dx = p > 0 ? r.nextInt(2 * p + 1) - p : 0;
            boolean flip = augment.flip() && r.nextBoolean();
            if (!image || (dy == 0 && dx == 0 && !flip)) {
                for (int k = 0; k < sampleSize; k++) out[k] = (raw[k] - meanE[k]) / stdE[k];
                return;
            }
            boolean reflect = augment.padMode() == Augment.PadMode.REFLECT;
            int plane = height * width;
            for (int c = 0; c < channels; c++) {
                int base = c * plane;
                for (int y = 0; y < height; y++) {
                    int sy = y + dy;
                    boolean rowInside = sy >= 0 && sy < height;
                    if (!rowInside && reflect) sy = reflectIndex(sy, height);
                    int o = base + y * width;
                    for (int x = 0; x < width; x++) {
                        int sx = (flip ? width - 1 - x : x) + dx;
                        float v;
                        if (sx >= 0 && sx < width) {
                            v = rowInside || reflect ? raw[base + sy * width + sx] : 0f;
                        } else if (reflect) {
                            v = raw[base + sy * width + reflectIndex(sx, width)];
                        } else {
                            v = 0f;
                        }
                        out[o + x] = (v - meanE[o + x]) / stdE[o + x];
                    }
                }
            }
        }

        /** Mirror index without repeating the edge: -1 -> 1, n -> n-2 (valid for |overshoot| < n). */
        static int reflectIndex(int i, int n) {
            if (i < 0) return -i;
            if (i >= n) return 2 * (n - 1) - i;
            return i;
        }

        /** SplitMix64's finaliser: a good 64-bit mix for deriving seeds. */
        static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
    }

    /** SplitMix64 whose state can be reset per sample, so no object is allocated per draw. */
    static final class SampleRandom implements RandomGenerator {
        private long state;

        void reset(long seed) {
            state = seed;
        }

        @Override
        public long nextLong() {
            state += 0x9e3779b97f4a7c15L;
            return Filler.mix(state);
        }
    }
}
