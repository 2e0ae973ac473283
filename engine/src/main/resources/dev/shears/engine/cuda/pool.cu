// Shears CUDA kernels: max, average and global average pooling over NCHW, forward and backward, with
// nn's semantics (max: -inf padding, the first maximum wins, a NaN wins; average: zero padding counted
// in the k*k divisor). Backward passes are gathers in the scalar layers' order (no atomics, the same
// sums as the CPU's scatter). Pinned by CudaKernelsGpuTest.

#define FOR_EACH(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
                            i += (long long)gridDim.x * blockDim.x)

// x: (planes, H, W) -> y: (planes, OH, OW), argmax: index within the input plane
extern "C" __global__ void maxpool_fwd(const float* x, float* y, int* argmax, int planes, int h, int w, int k, int stride,
                                       int pad, int oh, int ow) {
    long long total = (long long)planes * oh * ow;
    FOR_EACH(t, total) {
        int ox = (int)(t % ow), oy = (int)((t / ow) % oh);
        const float* xp = x + (t / ((long long)ow * oh)) * h * w;
        float best = __int_as_float(0xff800000); // -inf
        int at = -1;
        for (int i = 0; i < k; i++) {
            int iy = oy * stride - pad + i;
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < k; j++) {
                int ix = ox * stride - pad + j;
                if (ix < 0 || ix >= w) continue;
                float v = xp[iy * w + ix];
                if (v > best || at < 0 || v != v) {
                    best = v;
                    at = iy * w + ix;
                    if (v != v) break;
                }
            }
        }
        y[t] = best;
        argmax[t] = at;
    }
}

// dy: (planes, OH, OW), argmax -> dx: (planes, H, W) (overwritten): the dy of every window whose maximum
// this element was, in output order
extern "C" __global__ void maxpool_bwd(const float* dy, const int* argmax, float* dx, int planes, int h, int w, int k,
                                       int stride, int pad, int oh, int ow) {
    long long total = (long long)planes * h * w;
    FOR_EACH(t, total) {
        int ix = (int)(t % w), iy = (int)((t / w) % h);
        long long out = (t / ((long long)w * h)) * oh * ow;
        int self = iy * w + ix;
        float acc = 0.f;
        int oy0 = iy + pad - k + 1, ox0 = ix + pad - k + 1;
        oy0 = oy0 <= 0 ? 0 : (oy0 + stride - 1) / stride;
        ox0 = ox0 <= 0 ? 0 : (ox0 + stride - 1) / stride;
        for (int oy = oy0; oy < oh && oy * stride - pad <= iy; oy++) {
            for (int ox = ox0; ox < ow && ox * stride - pad <= ix; ox++) {
                long long o = out + (long long)oy * ow + ox;
                if (argmax[o] == self) acc = acc + dy[o];
            }
        }
        dx[t] = acc;
    }
}

// x: (planes, H, W) -> y: (planes, OH, OW) = (sum of the in-bounds window) * (1 / k^2)
extern "C" __global__ void avgpool_fwd(const float* x, float* y, int planes, int h, int w, int k, int stride, int pad,
                                       int oh, int ow) {
    float inv = 1.f / (k * k);
    long long total = (long long)planes * oh * ow;
    FOR_EACH(t, total) {
        int ox = (int)(t % ow), oy = (int)((t / ow) % oh);
        const float* xp = x + (t / ((long long)ow * oh)) * h * w;
        float s = 0.f;
        for (int i = 0; i < k; i++) {
            int iy = oy * stride - pad + i;
            if (iy < 0 || iy >= h) continue;
            for (int j = 0; j < k; j++) {
                int ix = ox * stride - pad + j;
                if (ix >= 0 && ix < w) s = s + xp[iy * w + ix];
            }
        }
        y[t] = s * inv;
    }
}

// dy: (planes, OH, OW) -> dx: (planes, H, W) (overwritten) = sum of dy * (1 / k^2) over the windows covering it
extern "C" __global__ void avgpool_bwd(const float* dy, float* dx, int planes, int h, int w, int k, int stride, int pad,
                                       int oh, int ow) {
    float inv = 1.f / (k * k);
    long long total = (long long)planes * h * w;
    FOR_EACH(t, total) {
        int ix = (int)(t % w), iy = (int)((t / w) % h);
        const float* dp = dy + (t / ((long long)w * h)) * oh * ow;
        float acc = 0.f;
        int oy0 = iy + pad - k + 1, ox0 = ix + pad - k + 1;
        oy0 = oy0 <= 0 ? 0 : (oy0 + stride - 1) / stride;
        ox0 = ox0 <= 0 ? 0 : (ox0 + stride - 1) / stride;
        for (int oy = oy0; oy < oh && oy * stride - pad <= iy; oy++) {
            for (int ox = ox0; ox < ow && ox * stride - pad <= ix; ox++) acc = acc + dp[oy * ow + ox] * inv;
        }
        dx[t] = acc;
    }
}

// x: (planes, P) -> y: (planes) = (float)(sum in double / P)
extern "C" __global__ void global_avgpool_fwd(const float* x, float* y, int planes, int p) {
    FOR_EACH(t, planes) {
        const float* xp = x + t * p;
        double s = 0;
        for (int i = 0; i < p; i++) s += xp[i];
        y[t] = (float)(s / p);
    }
}

// dy: (planes) -> dx: (planes, P) = dy / P
extern "C" __global__ void global_avgpool_bwd(const float* dy, float* dx, int planes, int p) {
    long long total = (long long)planes * p;
    FOR_EACH(t, total) dx[t] = dy[t / p] / (float)p;
}
