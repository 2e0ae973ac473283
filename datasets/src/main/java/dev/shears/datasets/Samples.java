package dev.shears.datasets;

import java.util.random.RandomGenerator;

/**
 * How a {@link Dataset} holds its samples: compact bytes or floats in memory, a lazily decoded
 * image folder, or a view (subset, sequence layout) over another holder. Package-private: users
 * see only {@link Dataset#read}. Reads are thread-safe (the loader reads on its own thread).
 * Pinned through DatasetTest and LoaderTest.
 */
sealed interface Samples permits Samples.Bytes, Samples.Floats, Samples.Subset, Samples.Layout, ImageFolderSamples {

    /** Number of samples. */
    int count();

    /**
     * Writes sample {@code i}'s raw values to {@code dst[off, off + sampleSize)}: uint8 data as
     * value / 255, float data as stored. {@code randomResizedCrop} (with its {@code rng}) only
     * matters to decoders that crop at decode time (image folders); the others ignore it.
     */
    void read(int i, float[] dst, int off, boolean randomResizedCrop, RandomGenerator rng);

    /** True when reading decodes a file (the loader then never caches). */
    default boolean lazy() {
        return false;
    }

    /** value / 255 for every byte value, computed once so every reader agrees bit for bit. */
    float[] UNIT = unitTable();

    private static float[] unitTable() {
        float[] t = new float[256];
        for (int v = 0; v < 256; v++) t[v] = v / 255f;
        return t;
    }

    /** uint8 samples, one after another: sample i is {@code data[i*sampleSize, (i+1)*sampleSize)}. */
    record Bytes(byte[] data, int sampleSize) implements Samples {
        @Override
        public int count() {
            return data.length / sampleSize;
        }

        @Override
        public void read(int i, float[] dst, int off, boolean randomResizedCrop, RandomGenerator rng) {
            int base = i * sampleSize; // fits: data.length is an int
            for (int k = 0; k < sampleSize; k++) dst[off + k] = UNIT[data[base + k] & 0xFF];
        }
    }

    /** float samples, one after another. */
    record Floats(float[] data, int sampleSize) implements Samples {
        @Override
        public int count() {
            return data.length / sampleSize;
        }

        @Override
        public void read(int i, float[] dst, int off, boolean randomResizedCrop, RandomGenerator rng) {
            System.arraycopy(data, i * sampleSize, dst, off, sampleSize);
        }
    }

    /** The samples at {@code indices} of another holder, in that order. */
    record Subset(Samples base, int[] indices) implements Samples {
        @Override
        public int count() {
            return indices.length;
        }

        @Override
        public void read(int i, float[] dst, int off, boolean randomResizedCrop, RandomGenerator rng) {
            base.read(indices[i], dst, off, randomResizedCrop, rng);
        }

        @Override
        public boolean lazy() {
            return base.lazy();
        }
    }

    /**
     * An image (C, H, W) read as a sequence: rows give (T = H, F = C*W) with row t's features
     * channel-major; pixels give (T = H*W, F = C). A pure reshape when C = 1 and rows are asked.
     */
    record Layout(Samples base, int channels, int height, int width, boolean pixels) implements Samples {
        @Override
        public int count() {
            return base.count();
        }

        @Override
        public void read(int i, float[] dst, int off, boolean randomResizedCrop, RandomGenerator rng) {
            if (channels == 1) { // (1, H, W) is already row-major rows and one-feature pixels
                base.read(i, dst, off, randomResizedCrop, rng);
                return;
            }
            int plane = height * width;
            float[] chw = new float[channels * plane];
            base.read(i, chw, 0, randomResizedCrop, rng);
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        int to = pixels ? (y * width + x) * channels + c : y * channels * width + c * width + x;
                        dst[off + to] = chw[c * plane + y * width + x];
                    }
                }
            }
        }

        @Override
        public boolean lazy() {
            return base.lazy();
        }
    }
}
