package dev.shears.engine.kernels.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packs blocks of op(A) and op(B) into the contiguous heap slivers the micro-kernel reads:
 * op(A) rows in slivers of MR ({@code ap[p*MR + r]}), op(B) columns in slivers of NR
 * ({@code bp[p*NR + c]}), zero-padded past the matrix edge so the kernel never needs a tail.
 * Contiguous runs are copied a vector at a time; transposing ones move as L x L blocks transposed
 * in registers (16 x 16 on 512-bit vectors, gathers otherwise), ragged edges one float at a time.
 * Not a public API.
 * Pinned by GemmTest (through GemmSimd, every transpose and ragged edge).
 */
final class GemmPacking {
    private GemmPacking() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Float> S = GemmSimd.S;
    private static final int L = S.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final VectorSpecies<Float> HALF = FloatVector.SPECIES_256; // one 8-row sliver step
    private static final int[] COLUMN = new int[L]; // gather offsets of one column of an L x L block
    private static final FloatVector LO8, HI8, LO4, HI4, LO2, HI2, LO1, HI1; // two-vector lane selections, see transpose16

    static {
        for (int i = 0; i < L; i++) COLUMN[i] = i * L;
        FloatVector[] sel = new FloatVector[8];
        if (L == 16) {
            for (int st = 0, blk = 8; blk >= 1; st++, blk >>= 1) {
                float[] lo = new float[L], hi = new float[L];
                for (int l = 0; l < L; l++) {
                    lo[l] = (l & blk) == 0 ? l : L + l - blk;
                    hi[l] = (l & blk) == 0 ? l + blk : L + l;
                }
                sel[2 * st] = FloatVector.fromArray(S, lo, 0);
                sel[2 * st + 1] = FloatVector.fromArray(S, hi, 0);
            }
        }
        LO8 = sel[0]; HI8 = sel[1]; LO4 = sel[2]; HI4 = sel[3]; LO2 = sel[4]; HI2 = sel[5]; LO1 = sel[6]; HI1 = sel[7];
    }

    /**
     * Packs op(A) rows {@code [i0, i0+mc)} x k {@code [pc, pc+kc)} into {@code ceil(mc/mr)} slivers of
     * {@code kc*mr} floats from {@code ap[d0]}. Offsets and ld count floats.
     */
    static void packA(boolean transA, MemorySegment a, long aOff, int lda, int i0, int mc, int pc, int kc, float[] ap, int d0, int mr,
                      float[] scratch) {
        int start = 0;
        if (!transA && L == 16 && mr == 8) {
            // stored (m, k), two slivers (16 rows) at a time: 16 x 16 blocks transposed in registers,
            // each transposed row split into its two 8-float halves, one per sliver
            start = mc / 16 * 16;
            int kFull = kc / 16 * 16;
            for (int ir = 0; ir < start; ir += 16) {
                int d = d0 + ir * kc;
                long row0 = aOff + (long) (i0 + ir) * lda + pc;
                for (int p0 = 0; p0 < kFull; p0 += 16) {
                    transpose16(a, 4 * (row0 + p0), 4L * lda, scratch, 0, 16);
                    for (int q = 0; q < 16; q++) {
                        FloatVector.fromArray(HALF, scratch, q * 16).intoArray(ap, d + (p0 + q) * 8);
                        FloatVector.fromArray(HALF, scratch, q * 16 + 8).intoArray(ap, d + 8 * kc + (p0 + q) * 8);
                    }
                }
                for (int r = 0; r < 16; r++) {
                    long src = row0 + (long) r * lda;
                    int o = d + (r / 8) * 8 * kc + r % 8;
                    for (int p = kFull; p < kc; p++) ap[o + p * 8] = a.getAtIndex(F, src + p);
                }
            }
        }
        for (int ir = start, d = d0 + start * kc; ir < mc; ir += mr, d += kc * mr) {
            int rows = Math.min(mr, mc - ir);
            if (transA && rows == 8 && mr == 8) {
                copyRuns8(a, 4 * (aOff + (long) pc * lda + i0 + ir), 4L * lda, kc, ap, d);
            } else if (transA) {
                // stored (k, m): each k step reads `rows` contiguous floats
                for (int p = 0; p < kc; p++) {
                    long src = aOff + (long) (pc + p) * lda + i0 + ir;
                    int o = d + p * mr;
                    for (int r = 0; r < rows; r++) ap[o + r] = a.getAtIndex(F, src + r);
                    for (int r = rows; r < mr; r++) ap[o + r] = 0f;
                }
            } else if (rows == mr) {
                // stored (m, k): gather one float from each of the mr rows per k step; writes stay sequential
                long src = aOff + (long) (i0 + ir) * lda + pc;
                for (int p = 0; p < kc; p++) {
                    int o = d + p * mr;
                    for (int r = 0; r < mr; r++) ap[o + r] = a.getAtIndex(F, src + (long) r * lda + p);
                }
            } else {
                for (int r = 0; r < mr; r++) {
                    long src = aOff + (long) (i0 + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++) ap[d + p * mr + r] = r < rows ? a.getAtIndex(F, src + p) : 0f;
                }
            }
        }
    }

    /**
     * {@code kc} runs of 8 floats, {@code ld} bytes apart from byte {@code src}, to {@code ap[d + 8p]}:
     * an A sliver stored (k, m), one 256-bit load and store per k step (1.06-1.2x on the dx GEMMs
     * W^T x dy, where K is short and packing A shows). Its own method so packA stays small for C2.
     */
    private static void copyRuns8(MemorySegment a, long src, long ld, int kc, float[] ap, int d) {
        for (int p = 0; p < kc; p++, src += ld) FloatVector.fromMemorySegment(HALF, a, src, NO).intoArray(ap, d + p * 8);
    }

    /**
     * Packs op(B) k {@code [pc, pc+kc)} x columns {@code [j0, j0+nc)} into {@code ceil(nc/nr)} slivers of
     * {@code kc*nr} floats from {@code bp[0]}, the last one zero-padded. Reads B in its storage order
     * (row by row), so the hardware prefetcher streams it even when rows are far apart.
     * {@code scratch} holds at least L*L floats.
     */
    static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int j0, int nc, float[] bp, int nr, float[] scratch) {
        int full = nc / nr, rest = nc - full * nr;
        int sliver = kc * nr;
        if (transB) {
            // stored (n, k): op(B) is the transpose of the stored block, moved as L x L blocks
            // transposed in registers; a scalar tail takes ragged rows and k steps
            int kFull = kc / L * L;
            long ldbB = 4L * ldb;
            for (int s = 0; s * nr < nc; s++) {
                int cols = Math.min(nr, nc - s * nr), d = s * sliver, blockRows = cols / L * L;
                long row0 = bOff + (long) (j0 + s * nr) * ldb + pc;
                for (int h = 0; h < blockRows; h += L) {
                    for (int p0 = 0; p0 < kFull; p0 += L) {
                        transpose(b, 4 * (row0 + (long) h * ldb + p0), ldbB, bp, d + p0 * nr + h, nr, scratch);
                    }
                }
                for (int c = 0; c < cols; c++) {
                    long src = row0 + (long) c * ldb;
                    for (int p = c < blockRows ? kFull : 0; p < kc; p++) bp[d + p * nr + c] = b.getAtIndex(F, src + p);
                }
                if (cols < nr) {
                    for (int p = 0; p < kc; p++) java.util.Arrays.fill(bp, d + p * nr + cols, d + p * nr + nr, 0f);
                }
            }
            return;
        }
        // stored (k, n): row p of the block is contiguous; whole vectors into each sliver
        for (int p = 0; p < kc; p++) {
            long src = 4 * (bOff + (long) (pc + p) * ldb + j0);
            int d = p * nr;
            for (int s = 0; s < full; s++, d += sliver) {
                long at = src + 4L * s * nr;
                for (int v = 0; v < nr; v += L) FloatVector.fromMemorySegment(S, b, at + 4L * v, NO).intoArray(bp, d + v);
            }
            if (rest > 0) {
                long at = bOff + (long) (pc + p) * ldb + j0 + (long) full * nr;
                for (int c = 0; c < rest; c++) bp[d + c] = b.getAtIndex(F, at + c);
                for (int c = rest; c < nr; c++) bp[d + c] = 0f;
            }
        }
    }

    /**
     * Writes the transpose of the L x L block at {@code src} (bytes; rows {@code ldbB} bytes apart) to
     * {@code dst[d + q*stride + r]}: 16 x 16 in registers on 512-bit vectors, else through gathers.
     */
    private static void transpose(MemorySegment b, long src, long ldbB, float[] dst, int d, int stride, float[] scratch) {
        if (L == 16) {
            transpose16(b, src, ldbB, dst, d, stride);
            return;
        }
        for (int r = 0; r < L; r++) FloatVector.fromMemorySegment(S, b, src + r * ldbB, NO).intoArray(scratch, r * L);
        for (int q = 0; q < L; q++) FloatVector.fromArray(S, scratch, q, COLUMN, 0).intoArray(dst, d + q * stride);
    }

    /**
     * 16 x 16 transpose in four stages: stage {@code blk} (8, 4, 2, 1) pairs rows i and i+blk and swaps
     * their off-diagonal blk x blk sub-blocks with two-vector selections (one vpermt2ps each), so after
     * the last stage row q holds column q. 64 selections for 256 floats, no memory round trip.
     */
    private static void transpose16(MemorySegment b, long o, long ld, float[] dst, int d, int stride) {
        FloatVector v0 = FloatVector.fromMemorySegment(S, b, o, NO), v1 = FloatVector.fromMemorySegment(S, b, o + ld, NO);
        FloatVector v2 = FloatVector.fromMemorySegment(S, b, o + 2 * ld, NO), v3 = FloatVector.fromMemorySegment(S, b, o + 3 * ld, NO);
        FloatVector v4 = FloatVector.fromMemorySegment(S, b, o + 4 * ld, NO), v5 = FloatVector.fromMemorySegment(S, b, o + 5 * ld, NO);
        FloatVector v6 = FloatVector.fromMemorySegment(S, b, o + 6 * ld, NO), v7 = FloatVector.fromMemorySegment(S, b, o + 7 * ld, NO);
        FloatVector v8 = FloatVector.fromMemorySegment(S, b, o + 8 * ld, NO), v9 = FloatVector.fromMemorySegment(S, b, o + 9 * ld, NO);
        FloatVector va = FloatVector.fromMemorySegment(S, b, o + 10 * ld, NO), vb = FloatVector.fromMemorySegment(S, b, o + 11 * ld, NO);
        FloatVector vc = FloatVector.fromMemorySegment(S, b, o + 12 * ld, NO), vd = FloatVector.fromMemorySegment(S, b, o + 13 * ld, NO);
        FloatVector ve = FloatVector.fromMemorySegment(S, b, o + 14 * ld, NO), vf = FloatVector.fromMemorySegment(S, b, o + 15 * ld, NO);
        FloatVector w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, wa, wb, wc, wd, we, wf;
        w0 = LO8.selectFrom(v0, v8); w8 = HI8.selectFrom(v0, v8); w1 = LO8.selectFrom(v1, v9); w9 = HI8.selectFrom(v1, v9);
        w2 = LO8.selectFrom(v2, va); wa = HI8.selectFrom(v2, va); w3 = LO8.selectFrom(v3, vb); wb = HI8.selectFrom(v3, vb);
        w4 = LO8.selectFrom(v4, vc); wc = HI8.selectFrom(v4, vc); w5 = LO8.selectFrom(v5, vd); wd = HI8.selectFrom(v5, vd);
        w6 = LO8.selectFrom(v6, ve); we = HI8.selectFrom(v6, ve); w7 = LO8.selectFrom(v7, vf); wf = HI8.selectFrom(v7, vf);
        v0 = LO4.selectFrom(w0, w4); v4 = HI4.selectFrom(w0, w4); v1 = LO4.selectFrom(w1, w5); v5 = HI4.selectFrom(w1, w5);
        v2 = LO4.selectFrom(w2, w6); v6 = HI4.selectFrom(w2, w6); v3 = LO4.selectFrom(w3, w7); v7 = HI4.selectFrom(w3, w7);
        v8 = LO4.selectFrom(w8, wc); vc = HI4.selectFrom(w8, wc); v9 = LO4.selectFrom(w9, wd); vd = HI4.selectFrom(w9, wd);
        va = LO4.selectFrom(wa, we); ve = HI4.selectFrom(wa, we); vb = LO4.selectFrom(wb, wf); vf = HI4.selectFrom(wb, wf);
        w0 = LO2.selectFrom(v0, v2); w2 = HI2.selectFrom(v0, v2); w1 = LO2.selectFrom(v1, v3); w3 = HI2.selectFrom(v1, v3);
        w4 = LO2.selectFrom(v4, v6); w6 = HI2.selectFrom(v4, v6); w5 = LO2.selectFrom(v5, v7); w7 = HI2.selectFrom(v5, v7);
        w8 = LO2.selectFrom(v8, va); wa = HI2.selectFrom(v8, va); w9 = LO2.selectFrom(v9, vb); wb = HI2.selectFrom(v9, vb);
        wc = LO2.selectFrom(vc, ve); we = HI2.selectFrom(vc, ve); wd = LO2.selectFrom(vd, vf); wf = HI2.selectFrom(vd, vf);
        LO1.selectFrom(w0, w1).intoArray(dst, d); HI1.selectFrom(w0, w1).intoArray(dst, d + stride);
        LO1.selectFrom(w2, w3).intoArray(dst, d + 2 * stride); HI1.selectFrom(w2, w3).intoArray(dst, d + 3 * stride);
        LO1.selectFrom(w4, w5).intoArray(dst, d + 4 * stride); HI1.selectFrom(w4, w5).intoArray(dst, d + 5 * stride);
        LO1.selectFrom(w6, w7).intoArray(dst, d + 6 * stride); HI1.selectFrom(w6, w7).intoArray(dst, d + 7 * stride);
        LO1.selectFrom(w8, w9).intoArray(dst, d + 8 * stride); HI1.selectFrom(w8, w9).intoArray(dst, d + 9 * stride);
        LO1.selectFrom(wa, wb).intoArray(dst, d + 10 * stride); HI1.selectFrom(wa, wb).intoArray(dst, d + 11 * stride);
        LO1.selectFrom(wc, wd).intoArray(dst, d + 12 * stride); HI1.selectFrom(wc, wd).intoArray(dst, d + 13 * stride);
        LO1.selectFrom(we, wf).intoArray(dst, d + 14 * stride); HI1.selectFrom(we, wf).intoArray(dst, d + 15 * stride);
    }
}
