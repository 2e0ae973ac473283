package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The transforms of Winograd F(2x2, 3x3) over NCHW planes (see {@link Winograd}): 4x4 input
 * tiles at stride 2 cover 2x2 output tiles; element e = 4*row + column of the 4x4 transform
 * domain. Transformed data is stored element-major: {@code v[(e*channels + c)*ld + t0 + q]}
 * with q = ty*tilesX + tx, so each element's (channels, tiles) matrix is a GEMM operand.
 * The element-wise products (batched GEMMs) are the facade's. Not a convolution by itself.
 * Implementations: WinogradScalar (the spec) and the SIMD twin; pinned by WinogradTest.
 */
public interface WinogradKernel {
    /**
     * Floats of heap work space one call needs for an (oh, ow) output (input planes at most
     * (oh + 2, ow + 2)): eight tile grids, one plane, one padded row and a last-vector buffer,
     * each with slack for two 64-lane vectors.
     */
    static int workFloats(int oh, int ow) {
        int ty = (oh + 1) / 2, tx = (ow + 1) / 2;
        return 8 * gridFloats(ty, tx) + planeFloats(oh, ow) + rowFloats(tx) + 16 * 64;
    }

    /** The SIMD twin's heap plane: an input plane of at most (oh + 2, ow + 2) and slack. */
    static int planeFloats(int oh, int ow) {
        return (oh + 2) * (ow + 2) + 128;
    }

    /** The SIMD twin's padded row: 2 * tilesX + 2 columns and slack. */
    static int rowFloats(int tilesX) {
        return 2 * tilesX + 136;
    }

    /** One tile grid of the SIMD twin: (tilesY + 1, tilesX) and slack for the last vector's reads. */
    static int gridFloats(int tilesY, int tilesX) {
        return (tilesY + 1) * tilesX + 128;
    }

    /**
     * x: (channels, h, w) at xOff, zero padded by {@code pad}, tiles of the (oh, ow) output ->
     * v[(e*channels + c)*ldv + t0 + q] = (B^T d B)[e] of the tile's 4x4 input d.
     */
    void inputTransform(MemorySegment x, long xOff, int channels, int h, int w, int pad, int oh, int ow,
                        MemorySegment v, long vOff, int ldv, int t0, float[] work);

    /**
     * m[(e*out + o)*ldm + t0 + q] -> y: (out, oh, ow) at yOff, y = A^T m A (+ bias[o], bias may be null);
     * ragged edge tiles write only their pixels inside (oh, ow).
     */
    void outputTransform(MemorySegment m, long mOff, int out, int ldm, int t0, int oh, int ow,
                         MemorySegment bias, MemorySegment y, long yOff, float[] work);

    /**
     * dy: (out, oh, ow) at dyOff -> z[(e*out + o)*ldz + t0 + q] = (A g A^T)[e] of the tile's 2x2 dy g
     * (zero outside (oh, ow)): the weight gradient's transform (F(3x3, 2x2), see {@link Winograd}).
     */
    void gradientTransform(MemorySegment dy, long dyOff, int out, int oh, int ow, MemorySegment z, long zOff, int ldz, int t0, float[] work);
}
