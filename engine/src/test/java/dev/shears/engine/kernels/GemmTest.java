package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import dev.shears.engine.Parallel;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SIMD GEMM twin against the scalar spec and a double-precision triple loop: awkward sizes
 * (1..13, 2^k+-1, primes, one dimension of 4098, the blocking edges), every transpose, alpha/beta
 * (beta 0 over NaN), offsets and padded leading dimensions, 1 thread vs all. The SIMD twin is
 * loaded whatever the probe says, so the scalar pass tests it too.
 */
class GemmTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static GemmKernel simd;
    private static GemmKernel simdOneThread;

    @BeforeAll
    static void loadTwin() {
        Assumptions.assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "module jdk.incubator.vector absent: the SIMD GEMM twin cannot load (run with --add-modules jdk.incubator.vector)");
        simd = Twins.loadSimd(GemmKernel.class, "GemmSimd");
        try {
            simdOneThread = (GemmKernel) simd.getClass().getConstructor(int.class).newInstance(1);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("GemmSimd(int threads) constructor missing", e);
        }
    }

    /** One GEMM problem: operands stored with the given offsets and row padding, in native memory. */
    record Case(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, int pad, long off, boolean nanC) {
        int aRows() { return ta ? k : m; }
        int aCols() { return ta ? m : k; }
        int bRows() { return tb ? n : k; }
        int bCols() { return tb ? k : n; }
        int lda() { return aCols() + pad; }
        int ldb() { return bCols() + 2 * pad; }
        int ldc() { return n + 3 * pad; }

        @Override
        public String toString() {
            return "m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb + " alpha=" + alpha + " beta=" + beta
                    + " pad=" + pad + " off=" + off + (nanC ? " (C filled with NaN)" : "");
        }
    }

    /** Operands of a case, filled from a seed; the padding and offset gaps hold a sentinel. */
    static final class Operands implements AutoCloseable {
        static final float SENTINEL = 12345f;
        final Arena arena = Arena.ofShared();
        final Case cs;
        final MemorySegment a, b, c;
        final float[] c0;

        Operands(Case cs, long seed) {
            this.cs = cs;
            SplittableRandom rng = new SplittableRandom(seed);
            a = fill(rng, cs.off + (long) Math.max(1, cs.aRows()) * cs.lda(), cs.aRows(), cs.aCols(), cs.lda(), false);
            b = fill(rng, cs.off + (long) Math.max(1, cs.bRows()) * cs.ldb(), cs.bRows(), cs.bCols(), cs.ldb(), false);
            c = fill(rng, cs.off + (long) Math.max(1, cs.m) * cs.ldc(), cs.m, cs.n, cs.ldc(), cs.nanC);
            c0 = c.toArray(F);
        }

        private MemorySegment fill(SplittableRandom rng, long floats, int rows, int cols, int ld, boolean nan) {
            MemorySegment s = arena.allocate(4 * floats, 64);
            for (long i = 0; i < floats; i++) s.setAtIndex(F, i, SENTINEL);
            for (int r = 0; r < rows; r++) {
                for (int q = 0; q < cols; q++) s.setAtIndex(F, cs.off + (long) r * ld + q, nan ? Float.NaN : (float) (rng.nextDouble() * 2 - 1));
            }
            return s;
        }

        void run(GemmKernel kernel) {
            kernel.sgemm(cs.ta, cs.tb, cs.m, cs.n, cs.k, cs.alpha, a, cs.off, cs.lda(), b, cs.off, cs.ldb(), cs.beta, c, cs.off, cs.ldc());
        }

        double expected(int i, int j) {
            double acc = 0;
            for (int p = 0; p < cs.k; p++) {
                double av = a.getAtIndex(F, cs.off + (cs.ta ? (long) p * cs.lda() + i : (long) i * cs.lda() + p));
                double bv = b.getAtIndex(F, cs.off + (cs.tb ? (long) j * cs.ldb() + p : (long) p * cs.ldb() + j));
                acc += av * bv;
            }
            double old = cs.beta == 0f ? 0 : cs.beta * (double) c0[(int) (cs.off + (long) i * cs.ldc() + j)];
            return cs.alpha * acc + old;
        }

        float got(int i, int j) {
            return c.getAtIndex(F, cs.off + (long) i * cs.ldc() + j);
        }

        /** Every C element within tolerance of the double loop; every float outside C untouched. */
        void assertMatchesDouble(String who) {
            double tol = TestData.sumTolerance(cs.k) * (Math.abs(cs.alpha) + 1) + (cs.beta == 0f ? 0 : 1e-6);
            for (int i = 0; i < cs.m; i++) {
                for (int j = 0; j < cs.n; j++) {
                    double want = expected(i, j);
                    float g = got(i, j);
                    if (!(Math.abs(want - g) <= tol)) fail(who + " C[" + i + "][" + j + "] = " + g + ", double loop says " + want + " (tol " + tol + ") for " + cs);
                }
            }
            assertOutsideUntouched(who);
        }

        void assertOutsideUntouched(String who) {
            long size = c.byteSize() / 4;
            for (long x = 0; x < size; x++) {
                long rel = x - cs.off;
                boolean inside = rel >= 0 && rel / cs.ldc() < cs.m && rel % cs.ldc() < cs.n;
                if (!inside && Float.floatToRawIntBits(c.getAtIndex(F, x)) != Float.floatToRawIntBits(c0[(int) x])) {
                    fail(who + " wrote outside C at float " + x + " for " + cs);
                }
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private static void checkAgainstDouble(Case cs, long seed) {
        try (Operands o = new Operands(cs, seed)) {
            o.run(simd);
            o.assertMatchesDouble("GemmSimd");
        }
    }

    @Test
    void awkwardSizesEveryTransposeMatchDoubleLoop() {
        int[] sizes = TestData.AWKWARD_SMALL;
        long seed = 1;
        for (int m : sizes) for (int n : sizes) for (int k : sizes) {
            int t = (int) (seed++ % 4);
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            checkAgainstDouble(new Case(ta, tb, m, n, k, 0.75f, -0.5f, 0, 0, false), seed);
        }
    }

    @Test
    void blockingEdgesAndLargeDimensionsMatchDoubleLoop() {
        // MR/NR tiles, MC/KC/NC blocks and the small-path threshold are crossed on purpose
        int[][] shapes = {
            {4098, 3, 5}, {3, 4098, 7}, {5, 6, 4098}, // one dimension of 4098; A packed once for all B panels
            {129, 4097, 2}, // several M blocks (MC) and B panels (NC)
            {9, 500, 513}, {129, 17, 513}, {9, 33, 1025}, {23, 40, 511}, // K blocks; L2-sized panels with A kept
            {65, 63, 31}, {31, 33, 33}, {33, 31, 32}, {61, 101, 37}, // around the small-path threshold
            {16, 144, 130}, {144, 130, 16}, // conv-like
            {13, 97, 200}, {5, 64, 512}, // few rows of C: B read in place (ragged row sliver, ragged last columns, K = KC)
            {57, 97, 700}, {64, 40, 300}, // B in place up to 64 rows, K past KC in one pass
            {17, 2046, 200}, {40, 1022, 600}, // B in place with K blocks: row strides of 2048 and 1024 floats alias in L2
            {200, 100, 40}, {131, 70, 64}, {100, 1022, 30}, // short K: B in place for any M (not at a row stride of 1024 floats)
            {1, 1000, 300}, {1, 37, 2000}, {1, 4097, 9}, {300, 1, 700}, {1025, 1, 40}, {1, 70, 1023}, // matrix-vector (one row or column of C)
        };
        long seed = 100;
        for (int[] s : shapes) for (int t = 0; t < 4; t++) {
            checkAgainstDouble(new Case((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 1.25f, 0.5f, 1, 3, false), seed++);
        }
    }

    @Test
    void simdTwinMatchesScalarSpecOnAwkwardSizes() {
        int[] sizes = {1, 2, 3, 5, 7, 8, 9, 13, 15, 17, 31, 33, 63, 65, 97, 129};
        long seed = 7;
        for (int[] s : new int[][] {{1, 513, 300}, {1, 100, 1000}, {257, 1, 333}, {600, 1, 70}}) for (int t = 0; t < 4; t++) { // matrix-vector paths
            Case cs = new Case((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 0.5f, -1f, 1, 3, false);
            try (Operands spec = new Operands(cs, seed); Operands twin = new Operands(cs, seed++)) {
                spec.run(new GemmScalar());
                twin.run(simd);
                for (int i = 0; i < s[0]; i++) for (int j = 0; j < s[1]; j++) {
                    assertEquals(spec.got(i, j), twin.got(i, j), TestData.sumTolerance(s[2]) * 4, "SIMD vs scalar at C[" + i + "][" + j + "] for " + cs);
                }
                twin.assertOutsideUntouched("GemmSimd");
            }
        }
        for (int m : sizes) for (int n : sizes) {
            int k = sizes[(int) (seed % sizes.length)];
            int t = (int) (seed++ % 4);
            Case cs = new Case((t & 1) != 0, (t & 2) != 0, m, n, k, -1.5f, 2f, 2, 5, false);
            try (Operands spec = new Operands(cs, seed); Operands twin = new Operands(cs, seed)) {
                spec.run(new GemmScalar());
                twin.run(simd);
                double tol = TestData.sumTolerance(k) * 4;
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                    assertEquals(spec.got(i, j), twin.got(i, j), tol, "SIMD vs scalar at C[" + i + "][" + j + "] for " + cs);
                }
                twin.assertOutsideUntouched("GemmSimd");
            }
        }
    }

    @Test
    void betaZeroOverwritesNaNAndKZeroScalesC() {
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            for (int[] s : new int[][] {{3, 5, 4}, {70, 90, 40}, {9, 33, 600}}) {
                checkAgainstDouble(new Case(ta, tb, s[0], s[1], s[2], 1f, 0f, 1, 2, true), 11 + t);
                checkAgainstDouble(new Case(ta, tb, s[0], s[1], s[2], 0.5f, 1f, 0, 0, false), 21 + t);
            }
            checkAgainstDouble(new Case(ta, tb, 1, 700, 90, 1f, 0f, 1, 2, true), 41 + t); // matrix-vector paths overwrite NaN too
            checkAgainstDouble(new Case(ta, tb, 700, 1, 90, 1f, 0f, 1, 2, true), 51 + t);
            // k = 0: C = beta * C, and beta = 0 clears NaN
            checkAgainstDouble(new Case(ta, tb, 7, 40, 0, 1f, 0f, 1, 1, true), 31);
            checkAgainstDouble(new Case(ta, tb, 7, 40, 0, 1f, -2f, 1, 1, false), 32);
        }
    }

    @Test
    void emptyOutputTouchesNothing() {
        Case cs = new Case(false, false, 0, 5, 3, 1f, 0f, 1, 1, true);
        try (Operands o = new Operands(cs, 1)) {
            o.run(simd);
            o.assertOutsideUntouched("GemmSimd");
        }
    }

    @Test
    void oneThreadAndAllThreadsGiveIdenticalBits() {
        // the static split gives each C element the same arithmetic whatever the thread count
        int[][] shapes = {{80, 100, 40}, {16, 144, 130}, {130, 40, 60}, {48, 130, 400}, {24, 254, 300}};
        for (int[] s : shapes) for (int t = 0; t < 4; t++) {
            Case cs = new Case((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 0.9f, -0.3f, 1, 4, false);
            try (Operands one = new Operands(cs, 5); Operands all = new Operands(cs, 5)) {
                one.run(simdOneThread);
                all.run(simd);
                for (int i = 0; i < cs.m; i++) for (int j = 0; j < cs.n; j++) {
                    assertEquals(Float.floatToRawIntBits(one.got(i, j)), Float.floatToRawIntBits(all.got(i, j)),
                            "1 thread vs " + Parallel.threads() + " at C[" + i + "][" + j + "] for " + cs);
                }
            }
        }
    }

    @Test
    void heapSegmentsWorkToo() {
        int m = 37, n = 45, k = 29;
        float[] a = TestData.uniform(new SplittableRandom(3), m * k, -1, 1), b = TestData.uniform(new SplittableRandom(4), k * n, -1, 1);
        float[] c = new float[m * n];
        simd.sgemm(false, false, m, n, k, 1f, MemorySegment.ofArray(a), 0, k, MemorySegment.ofArray(b), 0, n, 0f, MemorySegment.ofArray(c), 0, n);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) acc += (double) a[i * k + p] * b[p * n + j];
            assertEquals(acc, c[i * n + j], TestData.sumTolerance(k), "C[" + i + "][" + j + "]");
        }
    }

    @Test
    void randomShapesTransposesAndStridesMatchDoubleLoop() {
        qt().withExamples(50).withFixedSeed(2024).forAll(
                integers().between(1, 100), integers().between(1, 100), integers().between(0, 600), integers().between(0, 63))
            .checkAssert((m, n, k, bits) -> {
                boolean ta = (bits & 1) != 0, tb = (bits & 2) != 0;
                float beta = (bits & 4) != 0 ? 0f : (bits & 8) != 0 ? 1f : -0.25f;
                int pad = (bits >> 4) & 3;
                checkAgainstDouble(new Case(ta, tb, m, n, k, (bits & 8) != 0 ? -1f : 0.5f, beta, pad, pad * 3L, beta == 0f), bits + 31L * m + n);
            });
    }
}
