package dev.shears.datasets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * One split of a classification dataset, held compactly (uint8 images stay bytes: Fashion-MNIST
 * train is 47 MB, CIFAR-10 train 154 MB; image folders decode lazily). A sample has shape
 * (C, H, W) for images or (T, F) for sequences; labels are 0..classes-1. Each dataset carries the
 * per-channel mean and std the loader normalises with (the training split's, for both splits).
 * Not a loader: batching, shuffling and augmentation are {@link Loader}'s. Pinned by DatasetTest.
 */
public final class Dataset {
    private final String name;
    private final int[] sampleShape;     // (C, H, W) or (T, F) or (F)
    private final List<String> classNames; // one per class
    private final int[] labels;          // (N), each in [0, classes)
    private final Samples samples;
    private final float[] mean;          // (channels)
    private final float[] std;           // (channels), each > 0
    private final int channelStride;     // element k of a sample belongs to channel (k / stride) % channels

    Dataset(String name, int[] sampleShape, List<String> classNames, int[] labels, Samples samples,
            float[] mean, float[] std, int channelStride) {
        this.name = name;
        this.sampleShape = sampleShape.clone();
        this.classNames = List.copyOf(classNames);
        this.labels = labels;
        this.samples = samples;
        this.mean = mean.clone();
        this.std = std.clone();
        this.channelStride = channelStride;
        if (samples.count() != labels.length) {
            throw new IllegalArgumentException("dataset '" + name + "': " + samples.count() + " samples but " + labels.length + " labels");
        }
        if (mean.length != std.length || mean.length < 1) {
            throw new IllegalArgumentException("dataset '" + name + "': " + mean.length + " means for " + std.length + " stds");
        }
        for (float s : std) {
            if (!(s > 0) || !Float.isFinite(s)) throw new IllegalArgumentException("dataset '" + name + "': std " + Arrays.toString(std) + " must be positive and finite");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new IllegalArgumentException("dataset '" + name + "': label " + labels[i] + " of sample " + i + " outside 0.." + (classNames.size() - 1));
            }
        }
    }

    /**
     * uint8 samples (values 0..255, read as value/255) laid out one after another; per-channel
     * statistics are computed from these samples. Channels are axis 0 of a rank-3 shape, else the
     * last axis.
     */
    public static Dataset ofBytes(String name, int[] sampleShape, List<String> classNames, byte[] data, int[] labels) {
        int sampleSize = checkLayout(name, sampleShape, data.length, labels.length);
        Samples s = new Samples.Bytes(data, sampleSize);
        int channels = defaultChannels(sampleShape);
        int stride = defaultStride(sampleShape);
        float[][] stats = Stats.ofBytes(data, sampleSize, channels, stride);
        return new Dataset(name, sampleShape, classNames, labels.clone(), s, stats[0], stats[1], stride);
    }

    /** float samples laid out one after another; statistics computed from them. */
    public static Dataset ofFloats(String name, int[] sampleShape, List<String> classNames, float[] data, int[] labels) {
        int sampleSize = checkLayout(name, sampleShape, data.length, labels.length);
        Samples s = new Samples.Floats(data, sampleSize);
        int channels = defaultChannels(sampleShape);
        int stride = defaultStride(sampleShape);
        float[][] stats = Stats.ofFloats(data, sampleSize, channels, stride);
        return new Dataset(name, sampleShape, classNames, labels.clone(), s, stats[0], stats[1], stride);
    }

    private static int checkLayout(String name, int[] shape, long values, int count) {
        if (shape.length < 1 || shape.length > 3) {
            throw new IllegalArgumentException("dataset '" + name + "': sample shape " + Arrays.toString(shape) + " must have rank 1, 2 or 3");
        }
        long size = 1;
        for (int d : shape) {
            if (d < 1) throw new IllegalArgumentException("dataset '" + name + "': sample shape " + Arrays.toString(shape) + " has a dimension below 1");
            size *= d;
        }
        if (size * count != values) {
            throw new IllegalArgumentException("dataset '" + name + "': " + values + " values are not " + count + " samples of " + Arrays.toString(shape));
        }
        return (int) size;
    }

    static int defaultChannels(int[] shape) {
        return shape.length == 3 ? shape[0] : shape[shape.length - 1];
    }

    static int defaultStride(int[] shape) {
        return shape.length == 3 ? shape[1] * shape[2] : 1;
    }

    public String name() { return name; }

    /** (C, H, W) for images, (T, F) for sequences. */
    public int[] sampleShape() { return sampleShape.clone(); }

    /** Values per sample. */
    public int sampleSize() {
        int n = 1;
        for (int d : sampleShape) n *= d;
        return n;
    }

    public int size() { return labels.length; }
    public int classes() { return classNames.size(); }
    public List<String> classNames() { return classNames; }
    public int label(int i) { return labels[i]; }

    /** Samples per class, indexed by label. */
    public int[] classCounts() {
        int[] counts = new int[classes()];
        for (int l : labels) counts[l]++;
        return counts;
    }

    /** Per-channel mean of the raw values (value/255 for uint8 data) used for normalisation. */
    public float[] mean() { return mean.clone(); }

    /** Per-channel standard deviation used for normalisation. */
    public float[] std() { return std.clone(); }

    public int channels() { return mean.length; }

    /** The normalisation channel of element {@code k} of a sample. */
    public int channelOf(int k) {
        return (k / channelStride) % mean.length;
    }

    /** True for image folders: every read decodes a file. */
    public boolean lazy() { return samples.lazy(); }

    /** Sample {@code i}'s raw values (uint8 as value/255, un-normalised, evaluation decode) into {@code dst[off..]}. */
    public void read(int i, float[] dst, int off) {
        checkRead(i, dst, off);
        samples.read(i, dst, off, false, null);
    }

    /** Sample {@code i} normalised: (raw - mean[c]) / std[c]. */
    public void readNormalized(int i, float[] dst, int off) {
        read(i, dst, off);
        int n = sampleSize();
        for (int k = 0; k < n; k++) {
            int c = channelOf(k);
            dst[off + k] = (dst[off + k] - mean[c]) / std[c];
        }
    }

    void readForLoader(int i, float[] dst, int off, boolean randomResizedCrop, RandomGenerator rng) {
        samples.read(i, dst, off, randomResizedCrop, rng);
    }

    private void checkRead(int i, float[] dst, int off) {
        if (i < 0 || i >= size()) throw new IllegalArgumentException("sample " + i + " outside dataset '" + name + "' of " + size());
        if (off < 0 || dst.length - off < sampleSize()) {
            throw new IllegalArgumentException("buffer of " + dst.length + " floats at offset " + off + " cannot hold a sample of " + sampleSize());
        }
    }

    /** The same data under another name. */
    public Dataset named(String newName) {
        return new Dataset(newName, sampleShape, classNames, labels, samples, mean, std, channelStride);
    }

    /** The same data normalised with other per-channel statistics (the training split's, or published constants). */
    public Dataset withNormalization(float[] newMean, float[] newStd) {
        if (newMean.length != mean.length || newStd.length != mean.length) {
            throw new IllegalArgumentException("dataset '" + name + "' has " + mean.length + " channels; got " + newMean.length + " means and " + newStd.length + " stds");
        }
        return new Dataset(name, sampleShape, classNames, labels, samples, newMean, newStd, channelStride);
    }

    /** The samples at {@code indices}, in that order (indices may repeat). */
    public Dataset subset(String newName, int[] indices) {
        int[] sub = new int[indices.length];
        for (int j = 0; j < indices.length; j++) {
            if (indices[j] < 0 || indices[j] >= size()) {
                throw new IllegalArgumentException("subset index " + indices[j] + " outside dataset '" + name + "' of " + size());
            }
            sub[j] = labels[indices[j]];
        }
        return new Dataset(newName, sampleShape, classNames, sub, new Samples.Subset(samples, indices.clone()), mean, std, channelStride);
    }

    /**
     * An image dataset (C, H, W) as a sequence of its rows: (T = H, F = C*W), row t holding
     * channel 0's pixels of that row, then channel 1's... Fashion-MNIST becomes 28 steps of 28
     * features (the FastGRNN paper's row-MNIST task). Normalisation stays per image channel.
     */
    public Dataset rowSequence() {
        requireImage("rowSequence");
        int c = sampleShape[0], h = sampleShape[1], w = sampleShape[2];
        return new Dataset(name + "-rows", new int[] {h, c * w}, classNames, labels, new Samples.Layout(samples, c, h, w, false), mean, std, w);
    }

    /** An image dataset (C, H, W) as a sequence of pixels: (T = H*W, F = C) (pixel-MNIST). */
    public Dataset pixelSequence() {
        requireImage("pixelSequence");
        int c = sampleShape[0], h = sampleShape[1], w = sampleShape[2];
        return new Dataset(name + "-pixels", new int[] {h * w, c}, classNames, labels, new Samples.Layout(samples, c, h, w, true), mean, std, 1);
    }

    private void requireImage(String what) {
        if (sampleShape.length != 3) {
            throw new IllegalArgumentException(what + " needs image samples (C, H, W); dataset '" + name + "' has samples " + Arrays.toString(sampleShape));
        }
    }

    static List<String> numberedClasses(int n) {
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) names.add(Integer.toString(i));
        return names;
    }

    @Override
    public String toString() {
        return "Dataset[" + name + ", " + size() + " x " + Arrays.toString(sampleShape) + ", " + classes() + " classes]";
    }

    /** Per-channel mean and std (population), accumulated in double / exact integer sums. */
    static final class Stats {
        private Stats() {}

        static float[][] ofBytes(byte[] data, int sampleSize, int channels, int stride) {
            long[][] hist = new long[channels][256];
            int n = data.length / Math.max(1, sampleSize);
            for (int s = 0; s < n; s++) {
                int base = s * sampleSize;
                for (int run = 0; run < sampleSize; run += stride) { // a run of stride elements shares a channel
                    long[] h = hist[(run / stride) % channels];
                    int end = base + Math.min(run + stride, sampleSize);
                    for (int k = base + run; k < end; k++) h[data[k] & 0xFF]++;
                }
            }
            float[] mean = new float[channels], std = new float[channels];
            for (int c = 0; c < channels; c++) {
                long count = 0;
                double sum = 0, sq = 0;
                for (int v = 0; v < 256; v++) {
                    count += hist[c][v];
                    double x = v / 255.0;
                    sum += hist[c][v] * x;
                    sq += hist[c][v] * x * x;
                }
                fill(mean, std, c, count, sum, sq);
            }
            return new float[][] {mean, std};
        }

        static float[][] ofFloats(float[] data, int sampleSize, int channels, int stride) {
            double[] sum = new double[channels], sq = new double[channels];
            long[] count = new long[channels];
            int n = data.length / Math.max(1, sampleSize);
            for (int s = 0; s < n; s++) {
                int base = s * sampleSize;
                for (int k = 0; k < sampleSize; k++) {
                    int c = (k / stride) % channels;
                    double x = data[base + k];
                    sum[c] += x;
                    sq[c] += x * x;
                    count[c]++;
                }
            }
            float[] mean = new float[channels], std = new float[channels];
            for (int c = 0; c < channels; c++) fill(mean, std, c, count[c], sum[c], sq[c]);
            return new float[][] {mean, std};
        }

        private static void fill(float[] mean, float[] std, int c, long count, double sum, double sq) {
            if (count == 0) {
                mean[c] = 0;
                std[c] = 1;
                return;
            }
            double m = sum / count;
            double var = Math.max(0, sq / count - m * m);
            mean[c] = (float) m;
            // A constant channel would divide by zero; 1 leaves it centred and unscaled.
            std[c] = var > 1e-12 ? (float) Math.sqrt(var) : 1f;
        }
    }
}
