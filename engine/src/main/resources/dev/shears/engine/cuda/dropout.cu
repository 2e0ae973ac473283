// Shears CUDA kernel: inverted dropout with nn's mask stream. The CPU layer draws each block of 16384
// values from java.util.SplittableRandom seeded with seed*G + call*C + block; SplittableRandom is
// counter based (value k of a stream is mix64(start + (k+1)*GOLDEN_GAMMA)), so each thread computes its
// own value and the mask is the CPU's, bit for bit. Pinned by DropoutStreamTest (the formula against
// SplittableRandom, on the CPU) and CudaKernelsGpuTest (the kernel against that formula).

#define FOR_EACH(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
                            i += (long long)gridDim.x * blockDim.x)
#define BLOCK 16384LL
#define GOLDEN_GAMMA 0x9E3779B97F4A7C15ULL
#define CALL_MIX 0xC2B2AE3D27D4EB4FULL

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// x -> mask = (u >= p ? keep : 0), y = x * mask; u uniform in [0, 1) with 53 bits, as nextDouble()
extern "C" __global__ void dropout_fwd(const float* x, float* mask, float* y, long long n, double p, float keep,
                                       unsigned long long seed, unsigned long long call) {
    FOR_EACH(i, n) {
        unsigned long long block = (unsigned long long)(i / BLOCK), k = (unsigned long long)(i % BLOCK);
        unsigned long long start = seed * GOLDEN_GAMMA + call * CALL_MIX + block;
        unsigned long long bits = mix64(start + (k + 1) * GOLDEN_GAMMA);
        double u = (double)(bits >> 11) * 0x1.0p-53;
        float m = u >= p ? keep : 0.f;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}
