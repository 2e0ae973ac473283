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
 * Contiguous sources are copied a vector at a time; strided ones gather. Not a public API.
 * Pinned by GemmTest (through GemmSimd, every transpose and ragged edge).
 */
final class GemmPacking {
    private GemmPacking() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Float> S = GemmSimd.S;
    private static final int L = S.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    /**
     * Packs op(A) rows {@code [i0, i0+mc)} x k {@code [pc, pc+kc)} into {@code ceil(mc/mr)} slivers of
     * {@code kc*mr} floats from {@code ap[0]}. Offsets and ld count floats.
     */
    static void packA(boolean transA, MemorySegment a, long aOff, int lda, int i0, int mc, int pc, int kc, float[] ap, int mr) {
        for (int ir = 0, d = 0; ir < mc; ir += mr, d += kc * mr) {
            int rows = Math.min(mr, mc - ir);
            if (transA) {
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
     * Packs op(B) k {@code [pc, pc+kc)} x columns {@code [j0, j0+nc)} into {@code ceil(nc/nr)} slivers of
     * {@code kc*nr} floats from {@code bp[0]}, the last one zero-padded. Reads B in its storage order
     * (row by row), so the hardware prefetcher streams it even when rows are far apart.
     */
    static void packB(boolean transB, MemorySegment b, long bOff, int ldb, int pc, int kc, int j0, int nc, float[] bp, int nr) {
        int full = nc / nr, rest = nc - full * nr;
        int sliver = kc * nr;
        if (transB) {
            // stored (n, k): each column of op(B) is a contiguous run of a row of B
            for (int j = 0; j < nc; j++) {
                long src = bOff + (long) (j0 + j) * ldb + pc;
                int d = (j / nr) * sliver + j % nr;
                for (int p = 0; p < kc; p++) bp[d + p * nr] = b.getAtIndex(F, src + p);
            }
            if (rest > 0) {
                int d = full * sliver;
                for (int p = 0; p < kc; p++) java.util.Arrays.fill(bp, d + p * nr + rest, d + p * nr + nr, 0f);
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
}
