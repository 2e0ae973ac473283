package dev.shears.engine.kernels.simd;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked GEMM micro-kernels: {@code MR x NR} of C (NR = two vectors) accumulated in
 * registers over a packed sliver of op(A) ({@code ap[p*MR + r]}) and of op(B) ({@code bp[p*NR + c]}),
 * one broadcast-FMA per accumulator per k step. Not a GEMM by itself: {@link GemmSimd} packs,
 * blocks and threads around it. Pinned by GemmTest (through GemmSimd).
 */
final class GemmMicroKernel {
    private GemmMicroKernel() {}

    static final VectorSpecies<Float> S = GemmSimd.S;
    static final int L = S.length();
    static final int NR = GemmSimd.NR;
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    /**
     * 8 x NR: 16 accumulators. Why 16: FMA latency (4 cycles) times FMA throughput (two 512-bit per
     * cycle on the Xeon below) needs at least 8 independent chains; 16 leaves slack and, with 2 B
     * vectors and 1 broadcast, uses 19 of the 32 AVX-512 registers. 8 rows also tile the channel
     * counts of conv layers (16, 32, 64, 144, ...) with no ragged edge. C2 compiles each broadcast to
     * {@code vbroadcastss zmm, m32} (a load-port uop, not a port-5 shuffle; read in the disassembly),
     * and the loop body is 2 loads, 8 broadcasts and 16 FMAs with no bounds check. Kernel lab on the
     * project's Xeon (family 6 model 167, 2 x 512-bit FMA, peak 208 GFLOP/s/core measured with 16
     * independent FMA chains), A and B slivers in L1 (k = 256): 8 x 2 vectors 165-184 GFLOP/s (80-88%
     * of peak); 12 x 2 the same within noise; 14 x 2, 8 x 3, 6 x 4, 16 x 1, and 8 x 2 with k unrolled
     * by 2 no faster; 4 x 4 and 4 x 6 ~120; 8 x 3 unrolled by 2 spills (60). B read from a 64-byte
     * aligned segment instead of the heap array gained nothing measurable. What a GEMM loses past
     * this is packing and the cache misses around the kernel, not the kernel (see GemmSimd).
     * Leaves the sums in {@code tile} (row-major MR x NR); the caller scales them into C. (Storing to C
     * here would need 8 more inlined vector helpers, past C2's inlining node budget: the accumulators
     * would then be boxed, at a 6x cost.)
     */
    static void kernel8(int kc, float[] ap, int ao, float[] bp, int bo, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        // body: indexes linear in p so C2 hoists every bounds check out of the loop
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ai]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ai + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ai + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[ai + 6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[ai + 7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        toTile(c00, c01, tile, 0); toTile(c10, c11, tile, 1);
        toTile(c20, c21, tile, 2); toTile(c30, c31, tile, 3);
        toTile(c40, c41, tile, 4); toTile(c50, c51, tile, 5);
        toTile(c60, c61, tile, 6); toTile(c70, c71, tile, 7);
    }

    /**
     * 6 x NR: 12 accumulators, for CPUs with 16 vector registers (AVX2): 12 + 2 B vectors + 1
     * broadcast = 15, the most that fits without spilling, and still 12 >= 8 independent chains.
     */
    static void kernel6(int kc, float[] ap, int ao, float[] bp, int bo, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR, ai = ao + p * 6;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ai]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ai + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ai + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        toTile(c00, c01, tile, 0); toTile(c10, c11, tile, 1);
        toTile(c20, c21, tile, 2); toTile(c30, c31, tile, 3);
        toTile(c40, c41, tile, 4); toTile(c50, c51, tile, 5);
    }

    /**
     * kernel8 with B read in place: row p of the B sliver at byte {@code bo + p * ldbBytes} of a
     * segment (stored (k, n), NR contiguous floats per row), for few rows of C where packing B
     * would cost as much as the multiply-adds it feeds (see GemmSimd.unpackedB).
     */
    static void kernel8Direct(int kc, float[] ap, int ao, MemorySegment b, long bo, long ldbBytes, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        long lBytes = 4L * L;
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * 8;
            long bi = bo + p * ldbBytes;
            FloatVector b0 = FloatVector.fromMemorySegment(S, b, bi, NO), b1 = FloatVector.fromMemorySegment(S, b, bi + lBytes, NO);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ai]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ai + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ai + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[ai + 6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[ai + 7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        toTile(c00, c01, tile, 0); toTile(c10, c11, tile, 1);
        toTile(c20, c21, tile, 2); toTile(c30, c31, tile, 3);
        toTile(c40, c41, tile, 4); toTile(c50, c51, tile, 5);
        toTile(c60, c61, tile, 6); toTile(c70, c71, tile, 7);
    }

    /** kernel6 with B read in place (see kernel8Direct). */
    static void kernel6Direct(int kc, float[] ap, int ao, MemorySegment b, long bo, long ldbBytes, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        long lBytes = 4L * L;
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * 6;
            long bi = bo + p * ldbBytes;
            FloatVector b0 = FloatVector.fromMemorySegment(S, b, bi, NO), b1 = FloatVector.fromMemorySegment(S, b, bi + lBytes, NO);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ai]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ai + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ai + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        toTile(c00, c01, tile, 0); toTile(c10, c11, tile, 1);
        toTile(c20, c21, tile, 2); toTile(c30, c31, tile, 3);
        toTile(c40, c41, tile, 4); toTile(c50, c51, tile, 5);
    }

    private static void toTile(FloatVector x0, FloatVector x1, float[] tile, int row) {
        x0.intoArray(tile, row * NR);
        x1.intoArray(tile, row * NR + L);
    }
}
