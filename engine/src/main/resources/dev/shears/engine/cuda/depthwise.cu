// Shears CUDA kernels: depthwise convolution (groups == in == out channels, one kh x kw filter per
// channel) over NCHW, forward and both backward passes. Forward and data gradient: one thread per output
// (input) element, taps summed in (i, j) order; the weight gradient: one block per (channel, i, j) tap,
// summed in double with a fixed-order tree. No atomics anywhere. Pinned by CudaKernelsGpuTest.

#define FOR_EACH(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
                            i += (long long)gridDim.x * blockDim.x)
#define MAX_BLOCK 1024

// x: (N, C, H, W), wt: (C, 1, kh, kw), bias: (C) or null -> y: (N, C, OH, OW)
extern "C" __global__ void dw_fwd(const float* x, const float* wt, const float* bias, float* y, int n, int c, int h, int w,
                                  int kh, int kw, int stride, int pad, int oh, int ow) {
    long long total = (long long)n * c * oh * ow;
    FOR_EACH(t, total) {
        int ox = (int)(t % ow), oy = (int)((t / ow) % oh);
        long long plane = t / ((long long)ow * oh);
        int ch = (int)(plane % c);
        const float* xp = x + plane * h * w;
        const float* wp = wt + (long long)ch * kh * kw;
        float acc = 0.f;
        for (int i = 0; i < kh; i++) {
            int iy = oy * stride - pad + i;
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < kw; j++) {
                int ix = ox * stride - pad + j;
                if (ix < 0 || ix >= w) continue;
                acc = fmaf(wp[i * kw + j], xp[iy * w + ix], acc);
            }
        }
        y[t] = bias ? acc + bias[ch] : acc;
    }
}

// dy: (N, C, OH, OW), wt -> dx: (N, C, H, W) (overwritten), a gather over the outputs each input feeds
extern "C" __global__ void dw_bwd_data(const float* dy, const float* wt, float* dx, int n, int c, int h, int w,
                                       int kh, int kw, int stride, int pad, int oh, int ow) {
    long long total = (long long)n * c * h * w;
    FOR_EACH(t, total) {
        int ix = (int)(t % w), iy = (int)((t / w) % h);
        long long plane = t / ((long long)w * h);
        int ch = (int)(plane % c);
        const float* dp = dy + plane * oh * ow;
        const float* wp = wt + (long long)ch * kh * kw;
        float acc = 0.f;
        for (int i = 0; i < kh; i++) {
            int ny = iy + pad - i;
            if (ny < 0 || ny % stride != 0 || ny / stride >= oh) continue;
            for (int j = 0; j < kw; j++) {
                int nx = ix + pad - j;
                if (nx < 0 || nx % stride != 0 || nx / stride >= ow) continue;
                acc = fmaf(wp[i * kw + j], dp[(ny / stride) * ow + nx / stride], acc);
            }
        }
        dx[t] = acc;
    }
}

__device__ double dw_block_sum(double v, double* sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

// dy: (N, C, OH, OW), x: (N, C, H, W) -> dwt: (C, 1, kh, kw) += sum over N, OH, OW of dy * x at the tap.
// Grid: C*kh*kw blocks; blockDim a power of two <= MAX_BLOCK.
extern "C" __global__ void dw_bwd_weight(const float* dy, const float* x, float* dwt, int n, int c, int h, int w,
                                         int kh, int kw, int stride, int pad, int oh, int ow) {
    __shared__ double sh[MAX_BLOCK];
    int tap = blockIdx.x;
    int j = tap % kw, i = (tap / kw) % kh, ch = tap / (kw * kh);
    long long pixels = (long long)oh * ow, count = (long long)n * pixels;
    double s = 0;
    for (long long e = threadIdx.x; e < count; e += blockDim.x) {
        long long b = e / pixels;
        int pix = (int)(e % pixels), oy = pix / ow, ox = pix % ow;
        int iy = oy * stride - pad + i, ix = ox * stride - pad + j;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        long long plane = b * c + ch;
        s += (double)dy[plane * pixels + pix] * x[(plane * h + iy) * w + ix];
    }
    double total = dw_block_sum(s, sh);
    if (threadIdx.x == 0) dwt[tap] = dwt[tap] + (float)total;
}
