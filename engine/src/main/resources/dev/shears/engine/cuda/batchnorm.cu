// Shears CUDA kernels: batch norm over NCHW, PyTorch's BatchNorm2d semantics as nn's BatchNorm2d has them
// (biased variance to normalise, unbiased for the running update, momentum weighting the new value).
// Per-channel sums in double, one block per channel, each thread a fixed stride of the channel, then a
// fixed-order tree in shared memory: the same bits every run (no atomics). The maps themselves are
// elementwise.cu's channel_affine/channel_affine2. Pinned by CudaKernelsGpuTest.

#define MAX_BLOCK 1024

// The block's sum of v, in a fixed tree order; blockDim.x must be a power of two <= MAX_BLOCK.
__device__ double block_sum(double v, double* sh) {
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

__device__ __forceinline__ long long at(int ch, long long e, int c, int p) {
    long long b = e / p, j = e % p;
    return (b * c + ch) * p + j;
}

// x: (N, C, P). Grid: C blocks. Training: mean and biased variance of the batch, running statistics
// updated; evaluation: the running statistics. Writes mean[c], invstd[c] (double, for backward) and the
// forward map y = fma(scale, x, shift): scale = gamma * invstd, shift = beta - mean * gamma * invstd.
extern "C" __global__ void bn_forward_stats(const float* x, int n, int c, int p, const float* gamma, const float* beta,
                                            float* running_mean, float* running_var, double momentum, double eps, int training,
                                            double* mean_out, double* invstd_out, float* scale_out, float* shift_out) {
    __shared__ double sh[MAX_BLOCK];
    int ch = blockIdx.x;
    long long count = (long long)n * p;
    double mu, var;
    if (training) {
        double s = 0;
        for (long long e = threadIdx.x; e < count; e += blockDim.x) s += x[at(ch, e, c, p)];
        mu = block_sum(s, sh) / count;
        double q = 0;
        for (long long e = threadIdx.x; e < count; e += blockDim.x) { double d = x[at(ch, e, c, p)] - mu; q += d * d; }
        double ss = block_sum(q, sh);
        var = ss / count;
        if (threadIdx.x == 0) {
            running_mean[ch] = (float)((1 - momentum) * running_mean[ch] + momentum * mu);
            running_var[ch] = (float)((1 - momentum) * running_var[ch] + momentum * ss / (count - 1));
        }
    } else {
        mu = running_mean[ch];
        var = running_var[ch];
    }
    if (threadIdx.x == 0) {
        double inv = 1.0 / sqrt(var + eps);
        double g = gamma[ch];
        mean_out[ch] = mu;
        invstd_out[ch] = inv;
        scale_out[ch] = (float)(g * inv);
        shift_out[ch] = (float)(beta[ch] - mu * g * inv);
    }
}

// dy, x: (N, C, P). Grid: C blocks. dgamma += sum dy * xhat, dbeta += sum dy, and the backward map
// dx = fma(b, x, fma(a, dy, k)): training a = gamma*invstd, b = -a*invstd*sum(dy xhat)/count,
// k = -a*sum(dy)/count - b*mean; evaluation b = k = 0.
extern "C" __global__ void bn_backward_stats(const float* dy, const float* x, int n, int c, int p, const double* mean,
                                             const double* invstd, const float* gamma, float* dgamma, float* dbeta, int training,
                                             float* a_out, float* b_out, float* k_out) {
    __shared__ double sh[MAX_BLOCK];
    int ch = blockIdx.x;
    long long count = (long long)n * p;
    double mu = mean[ch], inv = invstd[ch];
    double s = 0, q = 0;
    for (long long e = threadIdx.x; e < count; e += blockDim.x) {
        long long i = at(ch, e, c, p);
        double d = dy[i];
        s += d;
        q += d * (x[i] - mu);
    }
    double sumDy = block_sum(s, sh);
    double sumDyXhat = block_sum(q, sh) * inv;
    if (threadIdx.x == 0) {
        dgamma[ch] = dgamma[ch] + (float)sumDyXhat;
        dbeta[ch] = dbeta[ch] + (float)sumDy;
        double a = gamma[ch] * inv;
        double bx = training ? -a * inv * sumDyXhat / count : 0;
        double k = training ? -a * sumDy / count - bx * mu : 0;
        a_out[ch] = (float)a;
        b_out[ch] = (float)bx;
        k_out[ch] = (float)k;
    }
}

// x: (N, C, P). Grid: C blocks. out[c] += sum over N and P of x (bias gradients of conv and linear
// layers), in double with the fixed tree order.
extern "C" __global__ void channel_sum_acc(const float* x, int n, int c, int p, float* out) {
    __shared__ double sh[MAX_BLOCK];
    int ch = blockIdx.x;
    long long count = (long long)n * p;
    double s = 0;
    for (long long e = threadIdx.x; e < count; e += blockDim.x) s += x[at(ch, e, c, p)];
    double total = block_sum(s, sh);
    if (threadIdx.x == 0) out[ch] = out[ch] + (float)total;
}
