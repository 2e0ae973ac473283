package dev.shears.engine.cuda;

/**
 * Test helper: dropout.cu's mask formula in Java, value by value (element i of a call is value
 * i % 16384 of the stream that starts at seed*G + call*C + i / 16384). DropoutStreamTest pins it to
 * java.util.SplittableRandom, which nn's Dropout draws from; CudaKernelsGpuTest pins the kernel to it.
 */
final class DropoutStream {
    static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L, CALL_MIX = 0xC2B2AE3D27D4EB4FL;
    static final int BLOCK = 1 << 14;

    private DropoutStream() {}

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The uniform [0, 1) value element {@code i} of call {@code call} draws. */
    static double uniform(long seed, long call, long i) {
        long start = seed * GOLDEN_GAMMA + call * CALL_MIX + i / BLOCK;
        return (mix64(start + (i % BLOCK + 1) * GOLDEN_GAMMA) >>> 11) * 0x1.0p-53;
    }

    static float mask(long seed, long call, long i, double p) {
        return uniform(seed, call, i) >= p ? (float) (1.0 / (1.0 - p)) : 0f;
    }
}
