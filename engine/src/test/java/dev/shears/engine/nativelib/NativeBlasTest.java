package dev.shears.engine.nativelib;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.kernels.GemmScalar;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * OpenBLAS through FFM against the scalar spec (when the library is installed; CI installs it),
 * and the lookup's behaviour when it is not: bogus paths give null, never an exception.
 */
class NativeBlasTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Test
    void bogusPathIsAbsentNotACrash() {
        assertNull(OpenBlasGemm.open("/nonexistent/dir/libopenblas.so.0"));
        assertNull(OpenBlasGemm.open("libshears-no-such-blas.so.7"));
        List<String> tried = new ArrayList<>();
        assertNull(OpenBlasGemm.find(List.of("/nonexistent/libopenblas.so", "no-such-blas-at-all"), tried));
        assertEquals(List.of("/nonexistent/libopenblas.so", "no-such-blas-at-all"), tried);
    }

    @Test
    void libraryWithoutSgemmIsAbsent() {
        // libm loads fine but has no cblas_sgemm
        assertNull(OpenBlasGemm.open("libm.so.6"));
    }

    @Test
    void describeIsOneLineEitherWay() {
        String d = OpenBlasGemm.describe();
        assertTrue(d.startsWith("openblas: ") && !d.contains("\n"), d);
        if (OpenBlasGemm.load() == null) assertTrue(d.contains("java path") && d.contains("libopenblas.so.0"), d);
        else assertTrue(d.contains(OpenBlasGemm.load().path()), d);
    }

    @Test
    void matchesScalarSpecOnShapesAndTransposes() {
        OpenBlasGemm blas = OpenBlasGemm.load();
        Assumptions.assumeTrue(blas != null, "OpenBLAS not installed here: " + OpenBlasGemm.describe());
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 48, 129}, {5, 130, 3}, {100, 1, 40}};
        long seed = 1;
        for (int[] s : shapes) for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            int m = s[0], n = s[1], k = s[2], pad = t, off = 2 * t;
            float alpha = 0.5f + t, beta = t == 2 ? 0f : -0.75f;
            int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
            try (Arena arena = Arena.ofShared()) {
                SplittableRandom rng = new SplittableRandom(seed++);
                MemorySegment a = random(arena, rng, off + (long) (ta ? k : m) * lda);
                MemorySegment b = random(arena, rng, off + (long) (tb ? n : k) * ldb);
                MemorySegment c1 = random(arena, rng, off + (long) m * ldc);
                if (beta == 0f) c1.fill((byte) 0xff); // NaN everywhere: beta 0 must not read it
                MemorySegment c2 = arena.allocate(c1.byteSize(), 64).copyFrom(c1);
                new GemmScalar().sgemm(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c1, off, ldc);
                blas.sgemm(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c2, off, ldc);
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                    long at = off + (long) i * ldc + j;
                    assertEquals(c1.getAtIndex(F, at), c2.getAtIndex(F, at), TestData.sumTolerance(k) * (1 + alpha),
                            "OpenBLAS vs scalar at C[" + i + "][" + j + "] m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb);
                }
            }
        }
    }

    @Test
    void heapSegmentsAndThreadCount() {
        OpenBlasGemm blas = OpenBlasGemm.load();
        Assumptions.assumeTrue(blas != null, "OpenBLAS not installed here: " + OpenBlasGemm.describe());
        float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = new float[4];
        blas.sgemm(false, false, 2, 2, 2, 1f, MemorySegment.ofArray(a), 0, 2, MemorySegment.ofArray(b), 0, 2, 0f, MemorySegment.ofArray(c), 0, 2);
        assertArrayEquals(new float[] {19, 22, 43, 50}, c);
        int before = blas.threads();
        blas.setThreads(1);
        assertEquals(1, blas.threads());
        if (before > 0) blas.setThreads(before);
    }

    @Test
    void outOfBoundsIsAnErrorNotACrash() {
        OpenBlasGemm blas = OpenBlasGemm.load();
        Assumptions.assumeTrue(blas != null, "OpenBLAS not installed here: " + OpenBlasGemm.describe());
        MemorySegment small = MemorySegment.ofArray(new float[4]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> blas.sgemm(false, false, 3, 3, 3, 1f, small, 0, 3, small, 0, 3, 0f, small, 0, 3));
        assertTrue(e.getMessage().contains("A (3, 3)"), e.getMessage());
    }

    private static MemorySegment random(Arena arena, SplittableRandom rng, long floats) {
        MemorySegment s = arena.allocate(4 * Math.max(1, floats), 64);
        for (long i = 0; i < floats; i++) s.setAtIndex(F, i, (float) (rng.nextDouble() * 2 - 1));
        return s;
    }
}
