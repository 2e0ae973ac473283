// Shears CUDA kernels: elementwise ops (ReLU, ReLU6, add, scale, axpy, mul, fill, channel affine maps,
// the zero-pad shortcut). One thread per element, grid-stride loops. Compiled with fmad off, so each
// result is the same float operations, in the same order, as the engine's scalar twin (bit for bit).
// Not a reduction file: nothing here sums across elements. Pinned by CudaKernelsGpuTest.

#define FOR_EACH(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
                            i += (long long)gridDim.x * blockDim.x)

// y = x < 0 ? 0 : x (NaN passes through, as ActivationScalar.reluForward)
extern "C" __global__ void relu_fwd(const float* x, float* y, int n) {
    FOR_EACH(i, n) { float v = x[i]; y[i] = v < 0.f ? 0.f : v; }
}

// dx = x > 0 ? dy : 0
extern "C" __global__ void relu_bwd(const float* x, const float* dy, float* dx, int n) {
    FOR_EACH(i, n) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
}

// y = min(max(x, 0), 6)
extern "C" __global__ void relu6_fwd(const float* x, float* y, int n) {
    FOR_EACH(i, n) { float v = x[i]; y[i] = v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }
}

// dx = 0 < x < 6 ? dy : 0
extern "C" __global__ void relu6_bwd(const float* x, const float* dy, float* dx, int n) {
    FOR_EACH(i, n) { float v = x[i]; dx[i] = (v > 0.f && v < 6.f) ? dy[i] : 0.f; }
}

// out = a + b (out may be a or b: the residual add)
extern "C" __global__ void add(const float* a, const float* b, float* out, int n) {
    FOR_EACH(i, n) out[i] = a[i] + b[i];
}

// out = relu(a + b): the residual add fused with the block's last ReLU
extern "C" __global__ void add_relu(const float* a, const float* b, float* out, int n) {
    FOR_EACH(i, n) { float v = a[i] + b[i]; out[i] = v < 0.f ? 0.f : v; }
}

// a *= s
extern "C" __global__ void scale(float* a, float s, int n) {
    FOR_EACH(i, n) a[i] = a[i] * s;
}

// y = fma(alpha, x, y)
extern "C" __global__ void axpy(float alpha, const float* x, float* y, int n) {
    FOR_EACH(i, n) y[i] = fmaf(alpha, x[i], y[i]);
}

// out = a * b (gradient masks, dropout backward)
extern "C" __global__ void mul(const float* a, const float* b, float* out, int n) {
    FOR_EACH(i, n) out[i] = a[i] * b[i];
}

// a = value
extern "C" __global__ void fill(float* a, float value, int n) {
    FOR_EACH(i, n) a[i] = value;
}

// x: (N, C, P) -> y = fma(scale[c], x, shift[c]) (batch norm's forward map; y may be x)
extern "C" __global__ void channel_affine(const float* x, float* y, const float* scale, const float* shift, int n, int c, int p) {
    long long total = (long long)n * c * p;
    FOR_EACH(i, total) { int ch = (int)((i / p) % c); y[i] = fmaf(scale[ch], x[i], shift[ch]); }
}

// out = fma(b[c], v, fma(a[c], u, k[c])) (batch norm's backward map, Elementwise.affine2's order; out may be u)
extern "C" __global__ void channel_affine2(const float* a, const float* u, const float* b, const float* v, const float* k,
                                           float* out, int n, int c, int p) {
    long long total = (long long)n * c * p;
    FOR_EACH(i, total) { int ch = (int)((i / p) % c); out[i] = fmaf(b[ch], v[i], fmaf(a[ch], u[i], k[ch])); }
}

// Option-A shortcut. x: (N, C, H, W) -> y: (N, OC, OH, OW) = x[:, :, ::s, ::s], channels shifted by front, zeros elsewhere
extern "C" __global__ void zero_pad_shortcut_fwd(const float* x, float* y, int n, int c, int h, int w, int oc, int oh, int ow,
                                                 int stride, int front) {
    long long total = (long long)n * oc * oh * ow;
    FOR_EACH(i, total) {
        int ox = (int)(i % ow), oy = (int)((i / ow) % oh), och = (int)((i / ((long long)ow * oh)) % oc);
        long long b = i / ((long long)ow * oh * oc);
        int ch = och - front;
        y[i] = (ch >= 0 && ch < c) ? x[((b * c + ch) * h + (long long)oy * stride) * w + (long long)ox * stride] : 0.f;
    }
}

// dy: (N, OC, OH, OW) -> dx: (N, C, H, W), one thread per input element (a gather: no atomics)
extern "C" __global__ void zero_pad_shortcut_bwd(const float* dy, float* dx, int n, int c, int h, int w, int oc, int oh, int ow,
                                                 int stride, int front) {
    long long total = (long long)n * c * h * w;
    FOR_EACH(i, total) {
        int ix = (int)(i % w), iy = (int)((i / w) % h), ch = (int)((i / ((long long)w * h)) % c);
        long long b = i / ((long long)w * h * c);
        int oy = iy / stride, ox = ix / stride;
        bool hit = iy % stride == 0 && ix % stride == 0 && oy < oh && ox < ow;
        dx[i] = hit ? dy[((b * oc + ch + front) * oh + oy) * ow + ox] : 0.f;
    }
}
