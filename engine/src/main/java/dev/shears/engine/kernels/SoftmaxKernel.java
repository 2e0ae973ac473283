package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Row-wise softmax, log-softmax and the fused softmax cross-entropy over (rows, cols) row-major
 * floats; offsets count floats (labels: ints). Every row is shifted by its maximum first, so
 * large logits neither overflow nor underflow to NaN. Outputs may alias inputs.
 * Implementations: SoftmaxScalar (the spec: Math.exp and Math.log in double) and the SIMD twin;
 * callers go through {@link Softmax}.
 */
public interface SoftmaxKernel {
    /** {@code y[r, k] = exp(x[r, k] - max_r) / sum_j exp(x[r, j] - max_r)}. */
    void softmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols);

    /** {@code y[r, k] = x[r, k] - max_r - log(sum_j exp(x[r, j] - max_r))}. */
    void logSoftmaxRows(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int rows, int cols);

    /**
     * Mean softmax cross-entropy with label smoothing {@code ls} (PyTorch's
     * {@code label_smoothing}): the target of row r is {@code (1 - ls) onehot(label_r) + ls / K}
     * with K = cols, and the loss is {@code mean_r sum_k -target_k log softmax(x_r)_k}. When
     * {@code dLogits} is not null it receives {@code (softmax - target) / rows} (it may alias
     * logits). Labels must lie in [0, cols) (the facade checks).
     */
    double crossEntropy(MemorySegment logits, long logitsOffset, MemorySegment labels, long labelsOffset, int rows, int cols,
                        float labelSmoothing, MemorySegment dLogits, long dLogitsOffset);
}
