package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The dense direct convolution kernel over the padded "wide row" layout (see {@link DirectConv}):
 * an implicit GEMM in which reduction index j (input channel x tap) reads the input at a fixed
 * offset {@code offset[j]} from the output position q, so no im2col matrix is built. A dense
 * weight is packed in blocks of {@link #ROWS} output channels; a depthwise one is (channels, taps).
 * Epilogue fused: + bias, + residual, ReLU, zeros where {@code valid[q]} is false. Kernels trust
 * their arguments: the facade checks. Implementations: DirectConvScalar (the spec) and the SIMD
 * twin. Pinned by DirectConvTest.
 */
public interface DirectConvKernel {
    /** Output channels per packed weight block (the SIMD twin keeps ROWS x 3 vectors in registers). */
    int ROWS = 4;

    /**
     * For o in [ocFrom, ocTo) and q in [qFrom, qTo):
     * {@code v = bias[o] + sum_{j<kn} packed[((o / ROWS) * kn + j) * ROWS + o % ROWS] * x[xOffset + offset[j] + q]};
     * {@code v += res[resOffset + o * ldr + q]} when res is not null; {@code v = max(v, 0)} when relu;
     * {@code v = 0} when valid is not null and {@code !valid[q]}; {@code y[yOffset + o * ldy + q] = v}.
     * ocFrom is a multiple of ROWS. X, Y and res must not overlap (the SIMD twin stores raw sums first).
     * A twin may read (never write) x and y up to 48 floats past the last position of a row: the
     * padded layout's slack leaves that room.
     */
    void dense(float[] packed, int kn, int[] offset, float[] bias, int ocFrom, int ocTo, int qFrom, int qTo,
               MemorySegment x, long xOffset, MemorySegment y, long yOffset, int ldy,
               MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid);

    /**
     * For channel ch in [cFrom, cTo) and q in [qFrom, qTo):
     * {@code v = bias[ch] + sum_{t<kk} taps[ch * kk + t] * x[xOffset + ch * ldx + offset[t] + q]},
     * then the epilogue of {@link #dense} with row ch.
     */
    void depthwise(float[] taps, int kk, int[] offset, float[] bias, int cFrom, int cTo, int qFrom, int qTo,
                   MemorySegment x, long xOffset, long ldx, MemorySegment y, long yOffset, int ldy,
                   MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid);

    /**
     * The epilogue alone, in place (after a GEMM wrote the sums): for r in [rowFrom, rowTo) and q
     * in [qFrom, qTo): {@code v = y[yOffset + r * ldy + q] + bias[r]}, then residual, ReLU and
     * valid as in {@link #dense}.
     */
    void epilogue(float[] bias, int rowFrom, int rowTo, int qFrom, int qTo, MemorySegment y, long yOffset, int ldy,
                  MemorySegment res, long resOffset, int ldr, boolean relu, boolean[] valid);
}
