package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.RnnKernel;
import dev.shears.engine.kernels.RnnScalar;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of RnnScalar. Matrix products: broadcast-FMA register tiles over rows of C, 4 rows x
 * 2 vectors (8 independent accumulators: enough to hide the FMA latency, and with the 2 loads of B
 * and a broadcast they fit AVX2's 16 registers); leftover rows take 1 row x 4 vectors (batch-1
 * inference is all leftover rows: 4 chains keep the FMA unit busy), then single vectors, then a
 * masked vector tail (also the whole row when n is below a vector: no scalar guard, the masked
 * lanes cost what the scalar loop would). Products sum in p order with FMA, as the spec does. Gate math: one vector
 * of units per step, masked tail, sigmoid and tanh through {@code lanewise(EXP / TANH)} (accurate
 * to about an ulp, not bit-identical to the spec; a tanh made of one EXP measured no faster here). Shorter than a vector: the spec (guard).
 * Pinned by RnnKernelTest.
 */
public final class RnnSimd implements RnnKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final RnnKernel SCALAR = new RnnScalar();

    private static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER);
    }

    private static FloatVector load(MemorySegment s, long index, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER, m);
    }

    private static void store(FloatVector v, MemorySegment s, long index) {
        v.intoMemorySegment(s, index * 4, ORDER);
    }

    private static void store(FloatVector v, MemorySegment s, long index, VectorMask<Float> m) {
        v.intoMemorySegment(s, index * 4, ORDER, m);
    }

    private static float at(MemorySegment s, long index) {
        return s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, index);
    }

    private static FloatVector sigmoid(FloatVector x, FloatVector one) {
        return one.div(x.neg().lanewise(VectorOperators.EXP).add(one));
    }

    // ------------------------------------------------------------------ matrix products

    @Override
    public void matmulAdd(int rows, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                          MemorySegment d, long dOffset, int ldd, MemorySegment c, long cOffset, int ldc) {
        tiles(rows, n, k, a, aOffset, lda, 1, b, bOffset, ldb, d, dOffset, ldd, c, cOffset, ldc);
    }

    @Override
    public void matmulTransAAdd(int m, int n, int k, MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                                MemorySegment c, long cOffset, int ldc) {
        tiles(m, n, k, a, aOffset, 1, lda, b, bOffset, ldb, c, cOffset, ldc, c, cOffset, ldc);
    }

    /** C = D + A B where A[i][p] is at {@code aOffset + i * ai + p * ap} (so A^T is a stride swap). */
    private static void tiles(int rows, int n, int k, MemorySegment a, long aOffset, long ai, long ap, MemorySegment b, long bOffset, int ldb,
                              MemorySegment d, long dOffset, int ldd, MemorySegment c, long cOffset, int ldc) {
        if (d == null) { // C = 0 + A B as C += A B on a zeroed C: one code path for the tiles (a null branch in them once cost 10x, see tile4x2)
            zero(c, cOffset, ldc, rows, n);
            d = c;
            dOffset = cOffset;
            ldd = ldc;
        }
        int i = 0;
        for (; i + 4 <= rows; i += 4) rows4(i, n, k, a, aOffset, ai, ap, b, bOffset, ldb, d, dOffset, ldd, c, cOffset, ldc);
        for (; i < rows; i++) row1(i, n, k, a, aOffset, ai, ap, b, bOffset, ldb, d, dOffset, ldd, c, cOffset, ldc);
    }

    private static void zero(MemorySegment c, long cOffset, int ldc, int rows, int n) {
        FloatVector z = FloatVector.zero(S);
        for (int i = 0; i < rows; i++) {
            long row = cOffset + (long) i * ldc;
            int j = 0;
            for (; j + L <= n; j += L) store(z, c, row + j);
            if (j < n) store(z, c, row + j, S.indexInRange(j, n));
        }
    }

    /** Rows i..i+3 of C. */
    private static void rows4(int i, int n, int k, MemorySegment a, long aOffset, long ai, long ap, MemorySegment b, long bOffset, int ldb,
                              MemorySegment d, long dOffset, int ldd, MemorySegment c, long cOffset, int ldc) {
        long a0 = aOffset + i * ai;
        long d0 = dOffset + (long) i * ldd, c0 = cOffset + (long) i * ldc;
        int j = 0;
        for (; j + 2 * L <= n; j += 2 * L) tile4x2(k, a, a0, ai, ap, b, bOffset + j, ldb, d, d0 + j, ldd, c, c0 + j, ldc);
        if (j < n) rows4Tail(j, n, k, a, a0, a0 + ai, a0 + 2 * ai, a0 + 3 * ai, ap, b, bOffset, ldb, d, d0, d0 + ldd, d0 + 2L * ldd, d0 + 3L * ldd,
                c, c0, c0 + ldc, c0 + 2L * ldc, c0 + 3L * ldc);
    }

    /**
     * The body: a 4 x 2-vector tile of C, its 8 accumulators over the whole k loop. A method of its
     * own, small and the same for every caller, so C2 compiles the vector loop once, whole. D is
     * never null here: a null-D branch merging a zero vector with loaded ones, once compiled after
     * the input projection (D null, k = 9), left the recurrent product 10x slower.
     */
    private static void tile4x2(int k, MemorySegment a, long a0, long ai, long ap, MemorySegment b, long bp, int ldb,
                                MemorySegment d, long d0, int ldd, MemorySegment c, long c0, int ldc) {
        long a1 = a0 + ai, a2 = a1 + ai, a3 = a2 + ai;
        long d1 = d0 + ldd, d2 = d1 + ldd, d3 = d2 + ldd;
        FloatVector x00 = load(d, d0), x01 = load(d, d0 + L), x10 = load(d, d1), x11 = load(d, d1 + L);
        FloatVector x20 = load(d, d2), x21 = load(d, d2 + L), x30 = load(d, d3), x31 = load(d, d3 + L);
        for (int p = 0; p < k; p++, bp += ldb, a0 += ap, a1 += ap, a2 += ap, a3 += ap) {
            FloatVector b0 = load(b, bp), b1 = load(b, bp + L);
            FloatVector v0 = FloatVector.broadcast(S, at(a, a0));
            x00 = b0.fma(v0, x00);
            x01 = b1.fma(v0, x01);
            FloatVector v1 = FloatVector.broadcast(S, at(a, a1));
            x10 = b0.fma(v1, x10);
            x11 = b1.fma(v1, x11);
            FloatVector v2 = FloatVector.broadcast(S, at(a, a2));
            x20 = b0.fma(v2, x20);
            x21 = b1.fma(v2, x21);
            FloatVector v3 = FloatVector.broadcast(S, at(a, a3));
            x30 = b0.fma(v3, x30);
            x31 = b1.fma(v3, x31);
        }
        long c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        store(x00, c, c0); store(x01, c, c0 + L);
        store(x10, c, c1); store(x11, c, c1 + L);
        store(x20, c, c2); store(x21, c, c2 + L);
        store(x30, c, c3); store(x31, c, c3 + L);
    }

    /** Rows i..i+3 of C from column j on, one vector at a time, the last one masked (its own method: C2 inlines small ones whole). */
    private static void rows4Tail(int j, int n, int k, MemorySegment a, long a0, long a1, long a2, long a3, long ap, MemorySegment b, long bOffset, int ldb,
                                  MemorySegment d, long d0, long d1, long d2, long d3, MemorySegment c, long c0, long c1, long c2, long c3) {
        for (; j < n; j += L) { // one vector, the last one masked
            VectorMask<Float> m = S.indexInRange(j, n);
            boolean full = j + L <= n;
            FloatVector x0 = full ? load(d, d0 + j) : load(d, d0 + j, m), x1 = full ? load(d, d1 + j) : load(d, d1 + j, m);
            FloatVector x2 = full ? load(d, d2 + j) : load(d, d2 + j, m), x3 = full ? load(d, d3 + j) : load(d, d3 + j, m);
            long bp = bOffset + j, pa = 0;
            for (int p = 0; p < k; p++, bp += ldb, pa += ap) {
                FloatVector bv = full ? load(b, bp) : load(b, bp, m);
                x0 = bv.fma(FloatVector.broadcast(S, at(a, a0 + pa)), x0);
                x1 = bv.fma(FloatVector.broadcast(S, at(a, a1 + pa)), x1);
                x2 = bv.fma(FloatVector.broadcast(S, at(a, a2 + pa)), x2);
                x3 = bv.fma(FloatVector.broadcast(S, at(a, a3 + pa)), x3);
            }
            if (full) {
                store(x0, c, c0 + j); store(x1, c, c1 + j); store(x2, c, c2 + j); store(x3, c, c3 + j);
            } else {
                store(x0, c, c0 + j, m); store(x1, c, c1 + j, m); store(x2, c, c2 + j, m); store(x3, c, c3 + j, m);
            }
        }
    }

    /** Row i of C. */
    private static void row1(int i, int n, int k, MemorySegment a, long aOffset, long ai, long ap, MemorySegment b, long bOffset, int ldb,
                             MemorySegment d, long dOffset, int ldd, MemorySegment c, long cOffset, int ldc) {
        long a0 = aOffset + i * ai, d0 = dOffset + (long) i * ldd, c0 = cOffset + (long) i * ldc;
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) tile1x4(k, a, a0, ap, b, bOffset + j, ldb, d, d0 + j, c, c0 + j);
        if (j < n) row1Tail(j, n, k, a, a0, ap, b, bOffset, ldb, d, d0, c, c0);
    }

    /** The body of a single row: 1 x 4 vectors, 4 accumulators over the whole k loop (its own method, as tile4x2). */
    private static void tile1x4(int k, MemorySegment a, long a0, long ap, MemorySegment b, long bp, int ldb, MemorySegment d, long d0, MemorySegment c, long c0) {
        FloatVector x0 = load(d, d0), x1 = load(d, d0 + L), x2 = load(d, d0 + 2 * L), x3 = load(d, d0 + 3 * L);
        for (int p = 0; p < k; p++, bp += ldb, a0 += ap) {
            FloatVector v = FloatVector.broadcast(S, at(a, a0));
            x0 = load(b, bp).fma(v, x0);
            x1 = load(b, bp + L).fma(v, x1);
            x2 = load(b, bp + 2 * L).fma(v, x2);
            x3 = load(b, bp + 3 * L).fma(v, x3);
        }
        store(x0, c, c0); store(x1, c, c0 + L); store(x2, c, c0 + 2 * L); store(x3, c, c0 + 3 * L);
    }

    /** Row i of C from column j on, one vector at a time, the last one masked. */
    private static void row1Tail(int j, int n, int k, MemorySegment a, long a0, long ap, MemorySegment b, long bOffset, int ldb,
                                 MemorySegment d, long d0, MemorySegment c, long c0) {
        for (; j < n; j += L) { // one vector, the last one masked
            VectorMask<Float> m = S.indexInRange(j, n);
            boolean full = j + L <= n;
            FloatVector x = full ? load(d, d0 + j) : load(d, d0 + j, m);
            long bp = bOffset + j, pa = a0;
            for (int p = 0; p < k; p++, bp += ldb, pa += ap) {
                x = (full ? load(b, bp) : load(b, bp, m)).fma(FloatVector.broadcast(S, at(a, pa)), x);
            }
            if (full) store(x, c, c0 + j);
            else store(x, c, c0 + j, m);
        }
    }

    // ------------------------------------------------------------------ FastGRNN gates

    @Override
    public void fastgrnnForward(int h, MemorySegment pre, long preOffset, MemorySegment bz, long bzOffset, MemorySegment bh, long bhOffset,
                                float zeta, float nu, MemorySegment hPrev, long hPrevOffset,
                                MemorySegment z, long zOffset, MemorySegment c, long cOffset, MemorySegment hNew, long hNewOffset) {
        if (h < L) { // guard
            SCALAR.fastgrnnForward(h, pre, preOffset, bz, bzOffset, bh, bhOffset, zeta, nu, hPrev, hPrevOffset, z, zOffset, c, cOffset, hNew, hNewOffset);
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f), vz = FloatVector.broadcast(S, zeta), vn = FloatVector.broadcast(S, nu);
        for (int j = 0; j < h; j += L) { // body; the last vector masked
            if (j + L <= h) {
                FloatVector p = load(pre, preOffset + j);
                FloatVector zj = sigmoid(p.add(load(bz, bzOffset + j)), one);
                FloatVector cj = p.add(load(bh, bhOffset + j)).lanewise(VectorOperators.TANH);
                FloatVector hn = zj.mul(load(hPrev, hPrevOffset + j)).add(vz.mul(one.sub(zj)).add(vn).mul(cj));
                store(zj, z, zOffset + j);
                store(cj, c, cOffset + j);
                store(hn, hNew, hNewOffset + j);
            } else {
                VectorMask<Float> m = S.indexInRange(j, h);
                FloatVector p = load(pre, preOffset + j, m);
                FloatVector zj = sigmoid(p.add(load(bz, bzOffset + j, m)), one);
                FloatVector cj = p.add(load(bh, bhOffset + j, m)).lanewise(VectorOperators.TANH);
                FloatVector hn = zj.mul(load(hPrev, hPrevOffset + j, m)).add(vz.mul(one.sub(zj)).add(vn).mul(cj));
                store(zj, z, zOffset + j, m);
                store(cj, c, cOffset + j, m);
                store(hn, hNew, hNewOffset + j, m);
            }
        }
    }

    @Override
    public void fastgrnnBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset,
                                 MemorySegment z, long zOffset, MemorySegment c, long cOffset, float zeta, float nu,
                                 MemorySegment dPre, long dPreOffset, MemorySegment dhPrev, long dhPrevOffset, MemorySegment acc, long accOffset) {
        if (h < L) {
            SCALAR.fastgrnnBackward(h, dh, dhOffset, hPrev, hPrevOffset, z, zOffset, c, cOffset, zeta, nu, dPre, dPreOffset, dhPrev, dhPrevOffset, acc, accOffset);
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f), vz = FloatVector.broadcast(S, zeta), vn = FloatVector.broadcast(S, nu);
        FloatVector sumZeta = FloatVector.zero(S), sumNu = FloatVector.zero(S);
        for (int j = 0; j < h; j += L) { // body; the last vector masked (masked-off lanes read and add zeros)
            VectorMask<Float> m = S.indexInRange(j, h);
            boolean full = j + L <= h;
            FloatVector g = full ? load(dh, dhOffset + j) : load(dh, dhOffset + j, m);
            FloatVector zj = full ? load(z, zOffset + j) : load(z, zOffset + j, m);
            FloatVector cj = full ? load(c, cOffset + j) : load(c, cOffset + j, m);
            FloatVector hp = full ? load(hPrev, hPrevOffset + j) : load(hPrev, hPrevOffset + j, m);
            FloatVector oneMinusZ = one.sub(zj);
            FloatVector dz = g.mul(hp.sub(vz.mul(cj)));
            FloatVector dc = g.mul(vz.mul(oneMinusZ).add(vn));
            FloatVector dPreZ = dz.mul(zj.mul(oneMinusZ));
            FloatVector dPreC = dc.mul(one.sub(cj.mul(cj)));
            sumZeta = sumZeta.add(g.mul(oneMinusZ.mul(cj)));
            sumNu = sumNu.add(g.mul(cj));
            if (full) {
                store(dPreZ.add(dPreC), dPre, dPreOffset + j);
                store(g.mul(zj), dhPrev, dhPrevOffset + j);
                store(load(acc, accOffset + j).add(dPreZ), acc, accOffset + j);
                store(load(acc, accOffset + h + j).add(dPreC), acc, accOffset + h + j);
            } else {
                store(dPreZ.add(dPreC), dPre, dPreOffset + j, m);
                store(g.mul(zj), dhPrev, dhPrevOffset + j, m);
                store(load(acc, accOffset + j, m).add(dPreZ), acc, accOffset + j, m);
                store(load(acc, accOffset + h + j, m).add(dPreC), acc, accOffset + h + j, m);
            }
        }
        long s = accOffset + 2L * h;
        acc.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, s, at(acc, s) + KernelSpecies.sumLanes(sumZeta));
        acc.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, s + 1, at(acc, s + 1) + KernelSpecies.sumLanes(sumNu));
    }

    // ------------------------------------------------------------------ GRU gates

    @Override
    public void gruForward(int h, MemorySegment gx, long gxOffset, MemorySegment gh, long ghOffset, MemorySegment hPrev, long hPrevOffset,
                           MemorySegment gates, long gatesOffset, MemorySegment hNew, long hNewOffset) {
        if (h < L) {
            SCALAR.gruForward(h, gx, gxOffset, gh, ghOffset, hPrev, hPrevOffset, gates, gatesOffset, hNew, hNewOffset);
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int j = 0; j < h; j += L) {
            VectorMask<Float> m = S.indexInRange(j, h);
            boolean full = j + L <= h;
            FloatVector xr = full ? load(gx, gxOffset + j) : load(gx, gxOffset + j, m);
            FloatVector xz = full ? load(gx, gxOffset + h + j) : load(gx, gxOffset + h + j, m);
            FloatVector xn = full ? load(gx, gxOffset + 2L * h + j) : load(gx, gxOffset + 2L * h + j, m);
            FloatVector hr = full ? load(gh, ghOffset + j) : load(gh, ghOffset + j, m);
            FloatVector hz = full ? load(gh, ghOffset + h + j) : load(gh, ghOffset + h + j, m);
            FloatVector hn = full ? load(gh, ghOffset + 2L * h + j) : load(gh, ghOffset + 2L * h + j, m);
            FloatVector hp = full ? load(hPrev, hPrevOffset + j) : load(hPrev, hPrevOffset + j, m);
            FloatVector r = sigmoid(xr.add(hr), one);
            FloatVector zv = sigmoid(xz.add(hz), one);
            FloatVector n = xn.add(r.mul(hn)).lanewise(VectorOperators.TANH);
            FloatVector out = one.sub(zv).mul(n).add(zv.mul(hp));
            if (full) {
                store(r, gates, gatesOffset + j);
                store(zv, gates, gatesOffset + h + j);
                store(n, gates, gatesOffset + 2L * h + j);
                store(out, hNew, hNewOffset + j);
            } else {
                store(r, gates, gatesOffset + j, m);
                store(zv, gates, gatesOffset + h + j, m);
                store(n, gates, gatesOffset + 2L * h + j, m);
                store(out, hNew, hNewOffset + j, m);
            }
        }
    }

    @Override
    public void gruBackward(int h, MemorySegment dh, long dhOffset, MemorySegment hPrev, long hPrevOffset, MemorySegment gates, long gatesOffset,
                            MemorySegment gh, long ghOffset, MemorySegment dGx, long dGxOffset, MemorySegment dGh, long dGhOffset,
                            MemorySegment dhPrev, long dhPrevOffset) {
        if (h < L) {
            SCALAR.gruBackward(h, dh, dhOffset, hPrev, hPrevOffset, gates, gatesOffset, gh, ghOffset, dGx, dGxOffset, dGh, dGhOffset, dhPrev, dhPrevOffset);
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int j = 0; j < h; j += L) {
            VectorMask<Float> m = S.indexInRange(j, h);
            boolean full = j + L <= h;
            FloatVector g = full ? load(dh, dhOffset + j) : load(dh, dhOffset + j, m);
            FloatVector hp = full ? load(hPrev, hPrevOffset + j) : load(hPrev, hPrevOffset + j, m);
            FloatVector r = full ? load(gates, gatesOffset + j) : load(gates, gatesOffset + j, m);
            FloatVector zv = full ? load(gates, gatesOffset + h + j) : load(gates, gatesOffset + h + j, m);
            FloatVector n = full ? load(gates, gatesOffset + 2L * h + j) : load(gates, gatesOffset + 2L * h + j, m);
            FloatVector ghn = full ? load(gh, ghOffset + 2L * h + j) : load(gh, ghOffset + 2L * h + j, m);
            FloatVector dPreN = g.mul(one.sub(zv)).mul(one.sub(n.mul(n)));
            FloatVector dPreZ = g.mul(hp.sub(n)).mul(zv.mul(one.sub(zv)));
            FloatVector dPreR = dPreN.mul(ghn).mul(r.mul(one.sub(r)));
            if (full) {
                store(dPreR, dGx, dGxOffset + j);
                store(dPreZ, dGx, dGxOffset + h + j);
                store(dPreN, dGx, dGxOffset + 2L * h + j);
                store(dPreR, dGh, dGhOffset + j);
                store(dPreZ, dGh, dGhOffset + h + j);
                store(dPreN.mul(r), dGh, dGhOffset + 2L * h + j);
                store(g.mul(zv), dhPrev, dhPrevOffset + j);
            } else {
                store(dPreR, dGx, dGxOffset + j, m);
                store(dPreZ, dGx, dGxOffset + h + j, m);
                store(dPreN, dGx, dGxOffset + 2L * h + j, m);
                store(dPreR, dGh, dGhOffset + j, m);
                store(dPreZ, dGh, dGhOffset + h + j, m);
                store(dPreN.mul(r), dGh, dGhOffset + 2L * h + j, m);
                store(g.mul(zv), dhPrev, dhPrevOffset + j, m);
            }
        }
    }
}
