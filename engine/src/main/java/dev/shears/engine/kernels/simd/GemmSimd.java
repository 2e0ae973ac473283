package dev.shears.engine.kernels.simd;

import dev.shears.engine.Parallel;
import dev.shears.engine.kernels.GemmKernel;
import dev.shears.engine.simd.SimdProbe;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of GemmScalar: a packed, cache-blocked, register-blocked, threaded SGEMM (the
 * BLIS loop nest). Threads own disjoint blocks of C (static split, no reduction across threads);
 * each packs its own panels into per-thread heap buffers that are reused across calls. Not a
 * general BLAS: single precision, row-major only. Pinned by GemmTest; timed by jmh GemmBench.
 */
public final class GemmSimd implements GemmKernel {
    /** The probe's width when SIMD is on, else the CPU's preferred width (tests load this twin anyway). */
    static final VectorSpecies<Float> S = SimdWidth.floatSpecies(
            SimdProbe.decision().enabled() ? SimdProbe.decision().bits() : SimdWidth.preferredBits());
    private static final int L = S.length();
    /** Micro-tile rows: 8 where AVX-512 gives 32 vector registers, 6 with AVX2's 16 (see GemmMicroKernel). */
    static final int MR = SimdWidth.preferredBits() >= 512 ? 8 : 6;
    /** Micro-tile columns: two vectors. */
    static final int NR = 2 * L;
    /** K block: an A sliver (MR x KC, 16 KB) sits in L1 while B slivers stream past; larger KC halves C traffic. */
    static final int KC = 512;
    /** M block: the packed A block (MC x KC = 256 KB at MR 8) stays in the 1 MB L2. */
    static final int MC = MR * 16;
    /** N block: the packed B panel (KC x NC, 8 MB) lives in L3, reused by every M block. */
    static final int NC = 4096;
    /** An M block of A up to this many floats (4 MB) is packed once for all B panels. */
    static final long KEEP_A_FLOATS = 1 << 20;
    /** B panel size (floats) when only one M block uses it: 512 KB, half of L2. */
    static final int PANEL_FLOATS = 128 * 1024;
    /** Below this many multiply-adds the small path skips packing and tiling. */
    static final long SMALL = 32 * 32 * 32;
    /**
     * Up to this many rows of C, B stored (k, n) is read in place instead of packed: each packed float
     * would feed only m/L vector FMAs, so packing took 20-40% of a convolution's forward GEMM (16, 32
     * or 64 rows: W x columns, jmh GemmBench). In place, 32 x 288 x 768 and 64 x 576 x 448 ran
     * 1.3-1.6x faster; at 96 and 128 rows the two were level, so larger M keeps the packed path.
     */
    static final int UNPACKED_B_MAX_M = 64;
    /**
     * Up to this K, B stored (k, n) is read in place for any M as well: a strip of B (k rows x NR) then
     * sits in L1 for every row sliver of C, and packing B was pure overhead (the dx GEMMs W^T x dy,
     * K = 32 or 64 output channels: 1.07-1.12x). Not when the rows alias in L1 (see {@link #l1Rows}).
     */
    static final int SHORT_K = 64;
    /** The L1 data cache the short-K rule plans for: 64 sets of 64-byte lines, 12 ways (48 KiB). */
    static final int L1_SETS = 64, L1_WAYS = 12;
    /** The L2 the in-place path plans for (2 MiB, 16-way, 64-byte lines: this project's Xeon; Zen 4 has 1 MiB 8-way, the same sets). */
    static final int L2_SETS = 2048, L2_WAYS = 16;
    /** Below this many multiply-adds one thread is faster than a hand-off to the pool. */
    static final long PARALLEL_MIN = 64 * 64 * 64;

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final int threads;

    /** Uses every thread of {@link Parallel}. */
    public GemmSimd() {
        this(Parallel.threads());
    }

    /** Uses at most {@code threads} threads of {@link Parallel} (benchmarks compare 1 and 2). */
    public GemmSimd(int threads) {
        if (threads < 1) throw new IllegalArgumentException("GemmSimd: threads must be >= 1, got " + threads);
        this.threads = Math.min(threads, Parallel.threads());
    }

    /** A line for logs and benchmarks: width and blocking. */
    public static String describe() {
        return "GemmSimd " + S.vectorBitSize() + "-bit, micro-tile " + MR + "x" + NR + ", KC " + KC + ", MC " + MC + ", NC " + NC;
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        // guard: empty output, empty reduction (C = beta*C), tiny problems
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(m, n, beta, c, cOffset, ldc);
            return;
        }
        long volume = (long) m * n * k;
        if (volume <= SMALL) {
            small(SCRATCH.get(), transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            return;
        }
        if (m == 1 || n == 1) {
            gemv(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            return;
        }
        boolean shortK = k <= SHORT_K && k <= l1Rows(ldb);
        if (!transB && (m <= UNPACKED_B_MAX_M || shortK) && n >= NR && (long) ceilDiv(m, MR) * MR * k <= KEEP_A_FLOATS) {
            unpackedB(transA, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            return;
        }
        // split: threads take disjoint tile ranges of C along M or N, whichever balances better
        int mTiles = (m + MR - 1) / MR, nTiles = (n + NR - 1) / NR;
        int t = volume < PARALLEL_MIN ? 1 : Math.min(threads, Math.max(mTiles, nTiles));
        if (t == 1) {
            block(SCRATCH.get(), transA, transB, 0, m, 0, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            return;
        }
        boolean splitN = splitCost(ceilDiv(nTiles, t), NR, mTiles, m) <= splitCost(ceilDiv(mTiles, t), MR, nTiles, n); // ties: N
        int parts = t;
        Parallel.forEachChunk(parts, part -> {
            int tiles = splitN ? nTiles : mTiles, unit = splitN ? NR : MR, len = splitN ? n : m;
            int from = (int) Math.min(len, (long) tiles * part / parts * unit);
            int to = (int) Math.min(len, (long) tiles * (part + 1) / parts * unit);
            if (from >= to) return;
            Scratch s = SCRATCH.get();
            if (splitN) block(s, transA, transB, 0, m, from, to, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            else block(s, transA, transB, from, to, 0, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        });
    }

    /**
     * Matrix-vector products (one row or one column of C, e.g. a linear layer at batch 1): packing
     * would copy the whole matrix per call for one use of each element, so the matrix is read in
     * place. Either each output is a dot product of a contiguous matrix row with the vector ("dot
     * form"), or the output accumulates vector[p] times contiguous matrix row p ("axpy form").
     * The vector (k floats) is gathered into scratch first; threads own disjoint outputs.
     */
    private void gemv(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                      float beta, MemorySegment c, long cOff, int ldc) {
        // m == 1: y = C row 0 (stride 1), x = op(A) row 0, matrix op(B); n == 1: y = C column 0 (stride ldc), x = op(B) column 0, matrix op(A)
        boolean row = m == 1;
        int len = row ? n : m;
        long cStride = row ? 1 : ldc;
        float[] x = new float[k];
        for (int p = 0; p < k; p++) {
            x[p] = row ? a.getAtIndex(F, aOff + (transA ? (long) p * lda : p)) : b.getAtIndex(F, bOff + (transB ? p : (long) p * ldb));
        }
        MemorySegment mat = row ? b : a;
        long matOff = row ? bOff : aOff;
        int ld = row ? ldb : lda;
        boolean dot = row ? transB : !transA; // the matrix's rows run along k
        long volume = (long) len * k;
        int t = volume < PARALLEL_MIN ? 1 : Math.min(threads, Math.max(1, len / L));
        if (t == 1) {
            gemvRange(dot, mat, matOff, ld, k, x, 0, len, alpha, beta, c, cOff, cStride);
            return;
        }
        Parallel.forEachChunk(t, part -> {
            int from = (int) ((long) len * part / t), to = (int) ((long) len * (part + 1) / t);
            if (from < to) gemvRange(dot, mat, matOff, ld, k, x, from, to, alpha, beta, c, cOff, cStride);
        });
    }

    /** Outputs [from, to) of a matrix-vector product; see {@link #gemv}. */
    private static void gemvRange(boolean dot, MemorySegment mat, long matOff, int ld, int k, float[] x, int from, int to,
                                  float alpha, float beta, MemorySegment c, long cOff, long cStride) {
        float[] y = new float[to - from];
        int kb = S.loopBound(k);
        if (dot) {
            int j = from;
            // body: four rows share each load of x; tail rows one at a time; each row's last k % L entries scalar
            for (; j + 4 <= to; j += 4) {
                long r0 = (matOff + (long) j * ld) * 4, r1 = r0 + (long) ld * 4, r2 = r1 + (long) ld * 4, r3 = r2 + (long) ld * 4;
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int p = 0; p < kb; p += L) {
                    FloatVector xv = FloatVector.fromArray(S, x, p);
                    long o = (long) p * 4;
                    s0 = FloatVector.fromMemorySegment(S, mat, r0 + o, NO).fma(xv, s0);
                    s1 = FloatVector.fromMemorySegment(S, mat, r1 + o, NO).fma(xv, s1);
                    s2 = FloatVector.fromMemorySegment(S, mat, r2 + o, NO).fma(xv, s2);
                    s3 = FloatVector.fromMemorySegment(S, mat, r3 + o, NO).fma(xv, s3);
                }
                float t0 = KernelSpecies.sumLanes(s0), t1 = KernelSpecies.sumLanes(s1), t2 = KernelSpecies.sumLanes(s2), t3 = KernelSpecies.sumLanes(s3);
                for (int p = kb; p < k; p++) {
                    long o = (long) p * 4;
                    t0 = Math.fma(mat.get(F, r0 + o), x[p], t0);
                    t1 = Math.fma(mat.get(F, r1 + o), x[p], t1);
                    t2 = Math.fma(mat.get(F, r2 + o), x[p], t2);
                    t3 = Math.fma(mat.get(F, r3 + o), x[p], t3);
                }
                y[j - from] = t0;
                y[j - from + 1] = t1;
                y[j - from + 2] = t2;
                y[j - from + 3] = t3;
            }
            for (; j < to; j++) {
                long r = (matOff + (long) j * ld) * 4;
                FloatVector s0 = FloatVector.zero(S);
                for (int p = 0; p < kb; p += L) s0 = FloatVector.fromMemorySegment(S, mat, r + (long) p * 4, NO).fma(FloatVector.fromArray(S, x, p), s0);
                float t0 = KernelSpecies.sumLanes(s0);
                for (int p = kb; p < k; p++) t0 = Math.fma(mat.get(F, r + (long) p * 4), x[p], t0);
                y[j - from] = t0;
            }
        } else {
            int w = to - from, wb = S.loopBound(w);
            // body: y += x[p] * row p over whole vectors of the range; tail: the last w % L columns
            for (int p = 0; p < k; p++) {
                float xp = x[p];
                if (xp == 0f) continue;
                FloatVector xv = FloatVector.broadcast(S, xp);
                long r = (matOff + (long) p * ld + from) * 4;
                int q = 0;
                for (; q < wb; q += L) FloatVector.fromMemorySegment(S, mat, r + (long) q * 4, NO).fma(xv, FloatVector.fromArray(S, y, q)).intoArray(y, q);
                for (; q < w; q++) y[q] = Math.fma(xp, mat.get(F, r + (long) q * 4), y[q]);
            }
        }
        for (int j = from; j < to; j++) {
            long at = cOff + j * cStride;
            float v = alpha * y[j - from];
            c.setAtIndex(F, at, beta == 0f ? v : v + beta * c.getAtIndex(F, at));
        }
    }

    /**
     * Few rows of C, B stored (k, n): A packed once (m x k, at most 4 MB), B slivers read in place by
     * the micro-kernel, each NR-column strip of C done for all its row slivers while the B strip is
     * in cache, K in blocks of {@link #inPlaceKBlock} rows (C accumulates across them); the last
     * n % NR columns through the packed path. Threads take disjoint column strips.
     */
    private void unpackedB(boolean transA, int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                           MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        int strips = n / NR, mPad = ceilDiv(m, MR) * MR;
        long volume = (long) m * n * k;
        int t = volume < PARALLEL_MIN ? 1 : Math.min(threads, strips);
        Parallel.forEachChunk(t, part -> {
            Scratch s = SCRATCH.get();
            float[] ap = s.a(mPad * k);
            GemmPacking.packA(transA, a, aOff, lda, 0, m, 0, k, ap, 0, MR, s.tile);
            int from = (int) ((long) strips * part / t), to = (int) ((long) strips * (part + 1) / t);
            int kb = inPlaceKBlock(k, ldb);
            for (int js = from; js < to; js++) {
                int jr = js * NR;
                for (int pc = 0; pc < k; pc += kb) {
                    int kc = Math.min(kb, k - pc);
                    float betaK = pc == 0 ? beta : 1f; // later K blocks accumulate onto the first
                    long bAt = 4 * (bOff + (long) pc * ldb + jr);
                    for (int ir = 0; ir < m; ir += MR) {
                        // sliver ir of A holds p*MR + r over all k: block pc starts MR*pc floats in
                        if (MR == 8) GemmMicroKernel.kernel8Direct(kc, ap, ir * k + pc * MR, b, bAt, 4L * ldb, s.tile);
                        else GemmMicroKernel.kernel6Direct(kc, ap, ir * k + pc * MR, b, bAt, 4L * ldb, s.tile);
                        storeTile(s.tile, Math.min(MR, m - ir), NR, c, cOff + (long) ir * ldc + jr, ldc, alpha, betaK);
                    }
                }
            }
        });
        if (strips * NR < n) block(SCRATCH.get(), transA, false, 0, m, strips * NR, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /**
     * K rows per pass of the in-place B path. Every row sliver of C re-reads the same strip of B (NR
     * floats of each of k rows, ldb floats apart). When that stride is a multiple of a large power of
     * two the rows fall into few L2 sets and evict each other before the next sliver reads them
     * (64 x 576 x 1024 ran at 0.68x the packed path); K is then cut into equal blocks of at most the
     * rows those sets hold, and C accumulates across the blocks (at ldb 1024: blocks of <= 170 rows).
     */
    static int inPlaceKBlock(int k, int ldb) {
        long stride = 4L * ldb;
        if (stride % 64 != 0) return k; // rows start at shifting line offsets: no set aliasing
        int step = (int) (stride / 64 % L2_SETS);
        int sets = L2_SETS / gcd(step == 0 ? L2_SETS : step, L2_SETS); // distinct sets the rows start in
        int linesPerRow = 4 * NR / 64 + 1; // a strip row straddles this many lines at worst
        int rows = Math.max(64, sets * L2_WAYS / linesPerRow);
        return k <= rows ? k : ceilDiv(k, ceilDiv(k, rows));
    }

    /**
     * How many rows of a B strip, ldb floats apart, L1 holds at once: the rows start in
     * L1_SETS / gcd(line step, L1_SETS) distinct sets, each L1_WAYS deep (ldb 1024: 12 rows;
     * 768: 48; 448: 192; a stride that is no multiple of a line shifts the sets: unbounded).
     */
    static int l1Rows(int ldb) {
        long stride = 4L * ldb;
        if (stride % 64 != 0) return Integer.MAX_VALUE;
        int step = (int) (stride / 64 % L1_SETS);
        return L1_SETS / gcd(step == 0 ? L1_SETS : step, L1_SETS) * L1_WAYS;
    }

    private static int gcd(int x, int y) {
        while (y != 0) {
            int r = x % y;
            x = y;
            y = r;
        }
        return x;
    }

    /** C rows [m0, m1) x columns [n0, n1): the blocked loop nest on one thread. */
    private static void block(Scratch s, boolean transA, boolean transB, int m0, int m1, int n0, int n1, int k, float alpha,
                              MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                              float beta, MemorySegment c, long cOff, int ldc) {
        // loopBound: NC x KC panels of B, MC x KC blocks of A, MR x NR tiles of C
        // one M block uses each B panel once: keep the panel L2-sized so it is still there when used,
        // and pack that M block of A once for all panels when it is small
        boolean oneMBlock = m1 - m0 <= MC;
        int kStep = ceilDiv(k, ceilDiv(k, KC)); // equal K blocks: no short last block paying a whole C pass
        int ncMax = oneMBlock ? Math.clamp(PANEL_FLOATS / kStep / NR * NR, NR, NC) : NC;
        int mPad = ceilDiv(m1 - m0, MR) * MR;
        boolean keepA = oneMBlock && n1 - n0 > ncMax && (long) mPad * k <= KEEP_A_FLOATS;
        if (keepA) {
            float[] ap = s.a(mPad * k);
            for (int pc = 0; pc < k; pc += kStep) GemmPacking.packA(transA, a, aOff, lda, m0, m1 - m0, pc, Math.min(kStep, k - pc), ap, pc * mPad, MR, s.tile);
        }
        for (int jc = n0; jc < n1; jc += ncMax) {
            int nc = Math.min(ncMax, n1 - jc);
            for (int pc = 0; pc < k; pc += kStep) {
                int kc = Math.min(kStep, k - pc);
                float betaK = pc == 0 ? beta : 1f; // later K blocks accumulate onto the first
                float[] bp = s.b(ceilDiv(nc, NR) * NR * kc);
                GemmPacking.packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp, NR, s.tile);
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    float[] ap;
                    int a0 = 0;
                    if (keepA) {
                        ap = s.a(0);
                        a0 = pc * mPad;
                    } else {
                        ap = s.a(ceilDiv(mc, MR) * MR * kc);
                        GemmPacking.packA(transA, a, aOff, lda, ic, mc, pc, kc, ap, 0, MR, s.tile);
                    }
                    // each MR-row strip of C left to right: its A sliver stays in L1, B slivers stream
                    // from L2/L3, and C is written as row streams (what matters when K is short; for
                    // long K this order measured as fast as B-sliver-outer)
                    for (int ir = 0; ir < mc; ir += MR) {
                        for (int jr = 0; jr < nc; jr += NR) tile(s, kc, ap, a0, ir, bp, jr, mc, nc, c, cOff + (long) (ic + ir) * ldc + jc + jr, ldc, alpha, betaK);
                    }
                }
            }
        }
    }

    /** One MR x NR tile of C: body (the micro-kernel), then tail (its sums scaled into C; ragged edges lane by lane). */
    private static void tile(Scratch s, int kc, float[] ap, int a0, int ir, float[] bp, int jr, int mc, int nc,
                             MemorySegment c, long ci, int ldc, float alpha, float beta) {
        kernel(kc, ap, a0 + ir * kc, bp, jr * kc, s.tile);
        storeTile(s.tile, Math.min(MR, mc - ir), Math.min(NR, nc - jr), c, ci, ldc, alpha, beta);
    }

    private static void kernel(int kc, float[] ap, int ao, float[] bp, int bo, float[] tile) {
        if (MR == 8) GemmMicroKernel.kernel8(kc, ap, ao, bp, bo, tile);
        else GemmMicroKernel.kernel6(kc, ap, ao, bp, bo, tile);
    }

    /**
     * C tile = alpha*sums (beta 0), + C (beta 1), or + beta*C (fused), a vector at a time for a full
     * tile and lane by lane with the same arithmetic for a ragged one, so no C element depends on
     * how the work was split.
     */
    private static void storeTile(float[] tile, int rows, int cols, MemorySegment c, long ci, int ldc, float alpha, float beta) {
        if (rows == MR && cols == NR) {
            FloatVector va = FloatVector.broadcast(S, alpha), vb = FloatVector.broadcast(S, beta);
            for (int r = 0; r < MR; r++) {
                long row = 4 * (ci + (long) r * ldc);
                for (int v = 0; v < NR; v += L) {
                    FloatVector y = FloatVector.fromArray(S, tile, r * NR + v).mul(va);
                    long at = row + 4L * v;
                    if (beta != 0f) {
                        FloatVector old = FloatVector.fromMemorySegment(S, c, at, NO);
                        y = beta == 1f ? y.add(old) : old.fma(vb, y);
                    }
                    y.intoMemorySegment(c, at, NO);
                }
            }
            return;
        }
        for (int r = 0; r < rows; r++) {
            for (int q = 0; q < cols; q++) {
                long at = ci + (long) r * ldc + q;
                float y = tile[r * NR + q] * alpha;
                c.setAtIndex(F, at, beta == 0f ? y : beta == 1f ? y + c.getAtIndex(F, at) : Math.fma(c.getAtIndex(F, at), beta, y));
            }
        }
    }

    /** C = beta*C (beta 0 writes zeros, so NaN in C does not survive). */
    private static void scale(int m, int n, float beta, MemorySegment c, long cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long at = cOff + (long) i * ldc + j;
                c.setAtIndex(F, at, beta == 0f ? 0f : beta * c.getAtIndex(F, at));
            }
        }
    }

    /**
     * Small-size path: op(A) and op(B) copied row-major into scratch (any transpose), then each row
     * of C accumulated as broadcast(a[i][p]) * B row p, a vector at a time, with a scalar tail.
     */
    private static void small(Scratch s, boolean transA, boolean transB, int m, int n, int k, float alpha,
                              MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                              float beta, MemorySegment c, long cOff, int ldc) {
        float[] as = s.smallA(m * k), bs = s.smallB(k * n), row = s.row(n);
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) as[i * k + p] = a.getAtIndex(F, aOff + (transA ? (long) p * lda + i : (long) i * lda + p));
        }
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) bs[p * n + j] = b.getAtIndex(F, bOff + (transB ? (long) j * ldb + p : (long) p * ldb + j));
        }
        int bound = S.loopBound(n); // loopBound: whole vectors of a C row
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(row, 0, n, 0f);
            for (int p = 0; p < k; p++) {
                float av = as[i * k + p];
                FloatVector va = FloatVector.broadcast(S, av);
                int j = 0;
                // body: one accumulator per vector of the row (the row lives in L1: no register blocking
                // pays at these sizes); tail: the last n % L columns one by one
                for (; j < bound; j += L) {
                    FloatVector.fromArray(S, bs, p * n + j).fma(va, FloatVector.fromArray(S, row, j)).intoArray(row, j);
                }
                for (; j < n; j++) row[j] = Math.fma(av, bs[p * n + j], row[j]);
            }
            long ci = cOff + (long) i * ldc;
            for (int j = 0; j < n; j++) {
                float v = alpha * row[j];
                c.setAtIndex(F, ci + j, beta == 0f ? v : v + beta * c.getAtIndex(F, ci + j));
            }
        }
    }

    /**
     * Per-thread work per unit of k when each thread takes {@code ownTiles} tiles ({@code unit} wide)
     * of the split dimension: its vector FMAs plus the floats it packs, its own share of the split
     * operand and all of the other one ({@code otherLen}). Packing a float costs about one FMA.
     */
    private static long splitCost(int ownTiles, int unit, int otherTiles, int otherLen) {
        return (long) ownTiles * otherTiles * MR * NR / L + (long) ownTiles * unit + otherLen;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    /** Per-thread packing buffers: grown to the largest call seen, then reused (no allocation per call). */
    private static final class Scratch {
        private float[] a = new float[0], b = new float[0], smallA = new float[0], smallB = new float[0], row = new float[0];
        final float[] tile = new float[MR * NR];

        float[] a(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }

        float[] smallA(int size) {
            if (smallA.length < size) smallA = new float[size];
            return smallA;
        }

        float[] smallB(int size) {
            if (smallB.length < size) smallB = new float[size];
            return smallB;
        }

        float[] row(int size) {
            if (row.length < size) row = new float[size];
            return row;
        }
    }
}
