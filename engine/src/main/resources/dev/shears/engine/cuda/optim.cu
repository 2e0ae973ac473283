// Shears CUDA kernels: fused optimizer steps that re-apply the pruning mask, nn's Sgd and Adam (AdamW)
// in one pass each, with the engine's scalar formulas (ElementwiseScalar.sgdMomentum and .adam): with
// fmad off every operation rounds as the Java code does, so a step is the CPU's, bit for bit. mask may
// be null (no pruning). Pinned by CudaKernelsGpuTest.

#define FOR_EACH(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
                            i += (long long)gridDim.x * blockDim.x)

// One SGD step: g *= mask (when maskGrad); g += wd w; v = first ? g : mu v + (1-dampening) g;
// step = nesterov ? g + mu v : v (g when mu == 0, v then unused); w -= lr step; v *= mask (when
// maskGrad); w = +0 where mask == 0.
extern "C" __global__ void sgd_step(float* w, float* g, float* v, const float* mask, int n, float lr, float mu, float wd,
                                    int nesterov, float dampening, int first, int maskGrad) {
    float keep = 1.f - dampening;
    FOR_EACH(i, n) {
        float m = mask ? mask[i] : 1.f;
        float gi = g[i];
        if (mask && maskGrad) { gi = gi * m; g[i] = gi; }
        float wi = w[i];
        if (wd != 0.f) gi = gi + wd * wi;
        float step = gi;
        if (mu != 0.f) {
            float vi = first ? gi : mu * v[i] + keep * gi;
            if (mask && maskGrad) v[i] = vi * m; else v[i] = vi;
            step = nesterov ? gi + mu * vi : vi;
        }
        wi = wi - lr * step;
        w[i] = (mask && m == 0.f) ? 0.f : wi;
    }
}

// One Adam step (step counting from 1): g *= mask (when maskGrad); w *= shrink (AdamW's 1 - lr wd; 1 for
// Adam); g += l2 w; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= stepSize m / (sqrt(v) / bc2Sqrt + eps),
// stepSize = lr / (1 - b1^t) and bc2Sqrt = sqrt(1 - b2^t) computed by the host (AdamConstants);
// m, v *= mask (when maskGrad); w = +0 where mask == 0.
extern "C" __global__ void adam_step(float* w, float* g, float* m1, float* m2, const float* mask, int n, float shrink, float l2,
                                     float b1, float b2, float eps, float stepSize, float bc2Sqrt, int maskGrad) {
    float oneMinusB1 = 1.f - b1, oneMinusB2 = 1.f - b2;
    FOR_EACH(i, n) {
        float m = mask ? mask[i] : 1.f;
        float gi = g[i];
        if (mask && maskGrad) { gi = gi * m; g[i] = gi; }
        float wi = w[i];
        if (shrink != 1.f) wi = wi * shrink;
        if (l2 != 0.f) gi = gi + l2 * wi;
        float mi = b1 * m1[i] + oneMinusB1 * gi;
        float vi = b2 * m2[i] + oneMinusB2 * (gi * gi);
        float denom = sqrtf(vi) / bc2Sqrt + eps;
        wi = wi - stepSize * (mi / denom);
        if (mask && maskGrad) { mi = mi * m; vi = vi * m; }
        m1[i] = mi;
        m2[i] = vi;
        w[i] = (mask && m == 0.f) ? 0.f : wi;
    }
}
