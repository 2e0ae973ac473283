package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The step kernels of the recurrent cells (FastGRNN, GRU): two small matrix products on a block
 * of batch rows and the fused gate math of one row, forward and backward. A layer runs every time
 * step of a block of rows on one thread (rows of a batch never depend on each other), so these
 * are single-threaded. Matrices are row-major; offsets and leading dimensions count floats.
 * Implementations: RnnScalar (the spec) and the SIMD twin; callers go through {@link Rnn}.
 */
public interface RnnKernel {
    /**
     * {@code C = D + A B}: {@code c[i][j] = d[i][j] + sum_p a[i][p] b[p][j]} for {@code i < rows},
     * {@code j < n}, {@code p < k}. A is (rows, k), B is (k, n), C and D are (rows, n). {@code d}
     * null means zero; {@code ldd == 0} broadcasts one row of D (a bias). D may be C itself
     * (same offset and leading dimension): C += A B. Products are summed in p order (the SIMD
     * twin with FMA).
     */
    void matmulAdd(int rows, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                   MemorySegment d, long dOffset, int ldd, MemorySegment c, long cOffset, int ldc);

    /**
     * {@code C += A^T B}: {@code c[i][j] += sum_p a[p][i] b[p][j]} for {@code i < m}, {@code j < n},
     * {@code p < k}. A is (k, m), B is (k, n), C is (m, n): a weight gradient over a block of rows.
     */
    void matmulTransAAdd(int m, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                         MemorySegment c, long cOffset, int ldc);

    /**
     * FastGRNN forward gates of one row of {@code h} units, from the pre-activation
     * {@code pre = W x + U hPrev}: {@code z = sigmoid(pre + bz)}, {@code c = tanh(pre + bh)},
     * {@code hNew = z hPrev + (zeta (1 - z) + nu) c}, where {@code zeta} and {@code nu} are already
     * through their sigmoid. z may be pre (same offset); nothing else may overlap.
     */
    void fastgrnnForward(int h, MemorySegment pre, long preOffset, MemorySegment bz, long bzOffset, MemorySegment bh, long bhOffset,
                         float zeta, float nu, MemorySegment hPrev, long hPrevOffset,
                         MemorySegment z, long zOffset, MemorySegment c, long cOffset, MemorySegment hNew, long hNewOffset);

    /**
     * FastGRNN backward of one row, given {@code dh = dL/dhNew}: writes {@code dPre = dL/dpre}
     * (the sum of the gate's and the update's parts) and {@code dhPrev = dh z} (the direct path;
     * the layer adds {@code dPre U}). Adds to {@code acc} (2h + 2 floats): {@code [0, h)} the gate
     * bias gradient {@code dpre_z}, {@code [h, 2h)} the update bias gradient {@code dpre_c},
     * {@code [2h]} {@code sum dh (1 - z) c} (dL/d sigmoid(zeta)), {@code [2h + 1]} {@code sum dh c}
     * (dL/d sigmoid(nu)). dPre may be z and dhPrev may be dh (same offsets).
     */
    void fastgrnnBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset,
                          MemorySegment z, long zOffset, MemorySegment c, long cOffset, float zeta, float nu,
                          MemorySegment dPre, long dPreOffset, MemorySegment dhPrev, long dhPrevOffset, MemorySegment acc, long accOffset);

    /**
     * GRU forward gates of one row (PyTorch's equations and gate order r, z, n): from
     * {@code gx = W_ih x + b_ih} and {@code gh = W_hh hPrev + b_hh}, each 3h floats,
     * {@code r = sigmoid(gx_r + gh_r)}, {@code z = sigmoid(gx_z + gh_z)},
     * {@code n = tanh(gx_n + r gh_n)}, {@code hNew = (1 - z) n + z hPrev}. Writes r, z, n to
     * {@code gates} (3h floats; may be gx).
     */
    void gruForward(int h, MemorySegment gx, long gxOffset, MemorySegment gh, long ghOffset, MemorySegment hPrev, long hPrevOffset,
                    MemorySegment gates, long gatesOffset, MemorySegment hNew, long hNewOffset);

    /**
     * GRU backward of one row, given {@code dh = dL/dhNew}, the forward's gates (r, z, n) and gh:
     * writes {@code dGx = dL/dgx} and {@code dGh = dL/dgh} (3h floats each; they differ in the n
     * part, {@code dGh_n = dGx_n r}) and {@code dhPrev = dh z} (the direct path; the layer adds
     * {@code dGh W_hh}). dGx may be gates, dGh may be gh, dhPrev may be dh (same offsets).
     */
    void gruBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset, MemorySegment gates, long gatesOffset,
                     MemorySegment gh, long ghOffset, MemorySegment dGx, long dGxOffset, MemorySegment dGh, long dGhOffset,
                     MemorySegment dhPrev, long dhPrevOffset);
}
