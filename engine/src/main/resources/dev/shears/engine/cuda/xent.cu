// Shears CUDA kernels: softmax cross-entropy with label smoothing, the engine's SoftmaxScalar.crossEntropy
// formulas in double (loss = lse - (1-ls) x[label] - ls/cols sum x; dlogits = (p - target) / rows), one
// thread per row; and a one-block reduction that adds the batch's mean loss and its correct count to
// running totals on the device (fixed-order tree, no atomics), read by the host at the logging interval.
// Pinned by CudaKernelsGpuTest.

#define MAX_BLOCK 1024

// logits: (rows, cols), labels: (rows) -> rowLoss: (rows), rowCorrect: (rows) 1 when the first maximum is
// the label, dlogits: (rows, cols) or null
extern "C" __global__ void xent_rows(const float* logits, const int* labels, float* dlogits, double* rowLoss, int* rowCorrect,
                                     int rows, int cols, float labelSmoothing) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const float* xr = logits + (long long)r * cols;
    int label = labels[r];
    double ls = labelSmoothing;
    float mx = __int_as_float(0xff800000);
    int arg = 0;
    for (int k = 0; k < cols; k++) { if (xr[k] > mx) { mx = xr[k]; arg = k; } }
    double m = mx, sum = 0, sumX = 0;
    for (int k = 0; k < cols; k++) { double v = xr[k]; sumX += v; sum += exp(v - m); }
    double lse = m + log(sum);
    rowLoss[r] = lse - (1 - ls) * (double)xr[label] - ls / cols * sumX;
    rowCorrect[r] = arg == label ? 1 : 0;
    if (dlogits) {
        float* dr = dlogits + (long long)r * cols;
        double invRows = 1.0 / rows;
        for (int k = 0; k < cols; k++) {
            double p = exp((double)xr[k] - lse);
            double target = (k == label ? 1 - ls : 0) + ls / cols;
            dr[k] = (float)((p - target) * invRows);
        }
    }
}

// One block (blockDim a power of two <= MAX_BLOCK): lossTotal += mean(rowLoss), correctTotal += sum(rowCorrect)
extern "C" __global__ void xent_reduce(const double* rowLoss, const int* rowCorrect, int rows, double* lossTotal,
                                       long long* correctTotal) {
    __shared__ double sl[MAX_BLOCK];
    __shared__ long long sc[MAX_BLOCK];
    double l = 0;
    long long c = 0;
    for (int r = threadIdx.x; r < rows; r += blockDim.x) { l += rowLoss[r]; c += rowCorrect[r]; }
    sl[threadIdx.x] = l;
    sc[threadIdx.x] = c;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) { sl[threadIdx.x] += sl[threadIdx.x + s]; sc[threadIdx.x] += sc[threadIdx.x + s]; }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        *lossTotal = *lossTotal + sl[0] * (1.0 / rows);
        *correctTotal = *correctTotal + sc[0];
    }
}
