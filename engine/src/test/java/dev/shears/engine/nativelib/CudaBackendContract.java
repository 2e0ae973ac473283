package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.kernels.GemmScalar;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@code cuda} backend must do, run on the fake library (CudaGemmFakeTest, any machine
 * with a C compiler) and on a real GPU (CudaGemmGpuTest): row-major BLAS results equal to the scalar
 * spec in every transpose form, strides, offsets and beta; the size rule; kept weights uploaded once
 * per change; errors named with call and code.
 */
abstract class CudaBackendContract {
    private final List<CudaGemmBackend> opened = new ArrayList<>();
    private final Arena arena = Arena.ofShared();

    /** A fresh backend over the library under test. */
    abstract CudaGemmBackend create(CudaGemm.Options options);

    CudaGemmBackend open(boolean tf32, long minFlops) {
        CudaGemmBackend b = create(new CudaGemm.Options(tf32, minFlops, 0));
        opened.add(b);
        return b;
    }

    @AfterEach
    void closeBackends() {
        for (CudaGemmBackend b : opened) b.close();
        opened.clear();
        arena.close();
    }

    MemorySegment random(long floats, long seed) {
        MemorySegment s = arena.allocate(Math.max(1, floats) * 4, 64);
        SplittableRandom rng = new SplittableRandom(seed);
        for (long i = 0; i < floats; i++) s.setAtIndex(JAVA_FLOAT, i, (float) (rng.nextDouble() * 2 - 1));
        return s;
    }

    MemorySegment copy(MemorySegment s) {
        return arena.allocate(s.byteSize(), 64).copyFrom(s);
    }

    static void assertClose(MemorySegment want, MemorySegment got, long floats, double tol, String what) {
        for (long i = 0; i < floats; i++) {
            float w = want.getAtIndex(JAVA_FLOAT, i), g = got.getAtIndex(JAVA_FLOAT, i);
            if (!(Math.abs(w - g) <= tol)) throw new AssertionError(what + ": element " + i + " is " + g + ", the scalar spec says " + w + " (tolerance " + tol + ")");
        }
    }

    @Test
    void everyTransposeFormMatchesTheScalarSpec() {
        CudaGemmBackend cuda = open(false, 0);
        GemmScalar spec = new GemmScalar();
        int[] sizes = {1, 2, 3, 7, 16, 17, 33};
        long seed = 1;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int m : sizes) {
                    for (int n : sizes) {
                        for (int k : new int[] {1, 5, 31}) {
                            int lda = ta ? m : k, ldb = tb ? k : n;
                            MemorySegment a = random((long) m * k, seed++), b = random((long) k * n, seed++), c = random((long) m * n, seed++);
                            MemorySegment want = copy(c);
                            float alpha = 1.5f, beta = (m + n) % 2 == 0 ? 0f : -0.5f;
                            spec.sgemm(ta, tb, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, want, 0, n);
                            cuda.sgemm(ta, tb, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, n);
                            assertClose(want, c, (long) m * n, 2 * TestData.sumTolerance(k),
                                    (ta ? "T" : "N") + (tb ? "T" : "N") + " m=" + m + " n=" + n + " k=" + k + " beta=" + beta);
                        }
                    }
                }
            }
        }
        assertEquals(0, cuda.traffic().javaCalls(), "with minFlops 0 every GEMM runs on the device");
    }

    @Test
    void stridesAndOffsetsAreHonouredAndGapsInCSurvive() {
        CudaGemmBackend cuda = open(false, 0);
        GemmScalar spec = new GemmScalar();
        int m = 19, n = 23, k = 29, lda = k + 5, ldb = n + 3, ldc = n + 7;
        long ao = 11, bo = 3, co = 5;
        for (float beta : new float[] {0f, 0.75f}) {
            MemorySegment a = random(ao + (long) m * lda, 40), b = random(bo + (long) k * ldb, 41);
            MemorySegment c = random(co + (long) m * ldc, 42);
            for (int i = 0; i < m; i++) {
                for (int j = n; j < ldc; j++) c.setAtIndex(JAVA_FLOAT, co + (long) i * ldc + j, 42f); // the gaps
            }
            MemorySegment want = copy(c);
            spec.sgemm(false, false, m, n, k, 2f, a, ao, lda, b, bo, ldb, beta, want, co, ldc);
            cuda.sgemm(false, false, m, n, k, 2f, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
            assertClose(want, c, co + (long) m * ldc, 4 * TestData.sumTolerance(k), "strided, beta=" + beta);
        }
    }

    @Test
    void betaZeroOverwritesCEvenWhenItHoldsNaN() {
        CudaGemmBackend cuda = open(false, 0);
        int m = 9, n = 10, k = 11;
        MemorySegment a = random((long) m * k, 1), b = random((long) k * n, 2), c = arena.allocate((long) m * n * 4, 64);
        for (long i = 0; i < (long) m * n; i++) c.setAtIndex(JAVA_FLOAT, i, Float.NaN);
        MemorySegment want = arena.allocate(c.byteSize(), 64);
        new GemmScalar().sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, want, 0, n);
        cuda.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        assertClose(want, c, (long) m * n, 2 * TestData.sumTolerance(k), "beta 0 over NaN");
    }

    @Test
    void heapSegmentsAreStagedThroughNativeMemory() {
        CudaGemmBackend cuda = open(false, 0);
        int m = 12, n = 14, k = 16, ldc = n + 2;
        float[] a = TestData.uniform(new SplittableRandom(3), m * k, -1, 1), b = TestData.uniform(new SplittableRandom(4), k * n, -1, 1);
        float[] c = new float[m * ldc];
        java.util.Arrays.fill(c, 7f);
        float[] want = c.clone();
        new GemmScalar().sgemm(true, false, m, n, k, 1f, MemorySegment.ofArray(a), 0, m, MemorySegment.ofArray(b), 0, n, 0f, MemorySegment.ofArray(want), 0, ldc);
        cuda.sgemm(true, false, m, n, k, 1f, MemorySegment.ofArray(a), 0, m, MemorySegment.ofArray(b), 0, n, 0f, MemorySegment.ofArray(c), 0, ldc);
        for (int i = 0; i < c.length; i++) {
            assertEquals(want[i], c[i], 2 * TestData.sumTolerance(k), "heap C element " + i + (i % ldc >= n ? " (a gap)" : ""));
        }
    }

    @Test
    void smallGemmsStayOnTheCpu() {
        CudaGemmBackend cuda = open(false, 64L * 64 * 64);
        MemorySegment a = random(64 * 64, 5), b = random(64 * 64, 6), c = random(64 * 64, 7), want = copy(c);
        cuda.sgemm(false, false, 63, 64, 64, 1f, a, 0, 64, b, 0, 64, 0f, c, 0, 64);
        CudaGemmBackend.Traffic t = cuda.traffic();
        assertEquals(1, t.javaCalls());
        assertEquals(0, t.deviceCalls());
        assertEquals(0, t.uploadedBytes() + t.downloadedBytes(), "a CPU GEMM moves nothing");
        new GemmScalar().sgemm(false, false, 63, 64, 64, 1f, a, 0, 64, b, 0, 64, 0f, want, 0, 64);
        assertClose(want, c, 64 * 64, 2 * TestData.sumTolerance(64), "CPU path");
        cuda.sgemm(false, false, 64, 64, 64, 1f, a, 0, 64, b, 0, 64, 0f, c, 0, 64);
        assertEquals(1, cuda.traffic().deviceCalls(), "m*n*k at the threshold runs on the device");
    }

    @Test
    void keptWeightsAreUploadedOncePerChange() {
        CudaGemmBackend cuda = open(false, 0);
        GemmScalar spec = new GemmScalar();
        int mOut = 8, kIn = 24, cols = 40;                      // Y(8,40) = W(8,24) X(24,40)
        MemorySegment w = random((long) mOut * kIn, 10), x = random((long) kIn * cols, 11);
        MemorySegment y = arena.allocate((long) mOut * cols * 4, 64), want = arena.allocate(y.byteSize(), 64);
        long wBytes = w.byteSize(), xBytes = x.byteSize();
        try (CudaGemmBackend.Resident kept = cuda.keepOnDevice(w)) {
            long before = cuda.traffic().uploadedBytes();
            cuda.sgemm(false, false, mOut, cols, kIn, 1f, w, 0, kIn, x, 0, cols, 0f, y, 0, cols);
            cuda.sgemm(false, false, mOut, cols, kIn, 1f, w, 0, kIn, x, 0, cols, 0f, y, 0, cols);
            assertEquals(wBytes + 2 * xBytes, cuda.traffic().uploadedBytes() - before, "W once, X each call");

            // dX(24,40) = W^T dY reads W transposed, from the same kept copy: only dY goes up.
            MemorySegment dx = arena.allocate((long) kIn * cols * 4, 64);
            long mid = cuda.traffic().uploadedBytes();
            cuda.sgemm(true, false, kIn, cols, mOut, 1f, w, 0, kIn, y, 0, cols, 0f, dx, 0, cols);
            assertEquals(y.byteSize(), cuda.traffic().uploadedBytes() - mid);

            for (long i = 0; i < (long) mOut * kIn; i++) w.setAtIndex(JAVA_FLOAT, i, w.getAtIndex(JAVA_FLOAT, i) * -2f); // an optimizer step
            long version = kept.version();
            kept.hostChanged();
            assertEquals(version + 1, kept.version());
            long after = cuda.traffic().uploadedBytes();
            cuda.sgemm(false, false, mOut, cols, kIn, 1f, w, 0, kIn, x, 0, cols, 0f, y, 0, cols);
            assertEquals(wBytes + xBytes, cuda.traffic().uploadedBytes() - after, "W again after hostChanged");
            spec.sgemm(false, false, mOut, cols, kIn, 1f, w, 0, kIn, x, 0, cols, 0f, want, 0, cols);
            assertClose(want, y, (long) mOut * cols, 2 * TestData.sumTolerance(kIn), "with the changed weights");

            // A GEMM that writes into the kept segment marks it changed by itself.
            long v = kept.version();
            MemorySegment small = random(4, 12);
            cuda.sgemm(false, false, 2, 2, 1, 1f, small, 0, 1, small, 0, 2, 0f, w, 0, kIn);
            assertEquals(v + 1, kept.version());
        }
        assertThrows(IllegalArgumentException.class, () -> cuda.keepOnDevice(MemorySegment.ofArray(new float[4])));
    }

    @Test
    void overlappingKeptSegmentsAreRefused() {
        CudaGemmBackend cuda = open(false, 0);
        MemorySegment w = random(64, 1);
        try (CudaGemmBackend.Resident kept = cuda.keepOnDevice(w.asSlice(0, 128))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cuda.keepOnDevice(w.asSlice(64, 128)));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
        }
        cuda.keepOnDevice(w.asSlice(64, 128)).close(); // free again once the first is closed
    }

    @Test
    void tf32IsUsedWhenAllowedAndStaysWithinItsBound() {
        CudaGemmBackend strict = open(false, 0), tf32 = open(true, 0);
        CudaCheck.Case c = new CudaCheck.Case("tf32", false, true, 64, 96, 256, false);
        List<CudaCheck.Accuracy> acc = CudaCheck.compare(List.of(strict, tf32), new GemmScalarBackend(), c, 9);
        assertTrue(acc.get(0).ok(), "fp32 " + acc.get(0));
        assertTrue(acc.get(1).ok(), "tf32 " + acc.get(1));
        assertTrue(acc.get(1).worstRelative() > 10 * acc.get(0).worstRelative(),
                "TF32 should be visibly less exact than FP32 (is the option reaching cuBLAS?): " + acc);
    }

    @Test
    void failuresNameTheCallTheCodeAndItsName() {
        CudaGemmBackend cuda = open(false, 0);
        CudaException oom = assertThrows(CudaException.class, () -> cuda.runtime().malloc(1L << 50));
        assertEquals(2, oom.code());
        assertEquals("cudaErrorMemoryAllocation", oom.codeName());
        assertTrue(oom.call().startsWith("cudaMalloc"), oom.call());
        assertTrue(oom.getMessage().contains("cudaMalloc") && oom.getMessage().contains("(2)"), oom.getMessage());

        long d = cuda.runtime().malloc(4096);
        try {
            CudaException bad = assertThrows(CudaException.class,
                    () -> cuda.deviceGemm(false, false, 4, 4, 4, 1f, d, 0, d, 4, 0f, d, 4)); // lda 0 < k
            assertEquals(7, bad.code());
            assertEquals("CUBLAS_STATUS_INVALID_VALUE", bad.codeName());
            assertTrue(bad.getMessage().startsWith("cublasSgemm_v2 failed: CUBLAS_STATUS_INVALID_VALUE (7)"), bad.getMessage());
        } finally {
            cuda.runtime().free(d);
        }
        cuda.close();
        assertThrows(IllegalStateException.class, () -> cuda.sgemm(false, false, 64, 64, 64, 1f,
                random(4096, 1), 0, 64, random(4096, 2), 0, 64, 0f, random(4096, 3), 0, 64));
    }

    /** The scalar spec as a backend, the reference for {@link CudaCheck#compare} here. */
    static final class GemmScalarBackend implements dev.shears.engine.kernels.GemmBackend {
        private final GemmScalar spec = new GemmScalar();

        @Override
        public String name() {
            return "scalar";
        }

        @Override
        public void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, MemorySegment a, long ao, int lda,
                          MemorySegment b, long bo, int ldb, float beta, MemorySegment c, long co, int ldc) {
            spec.sgemm(ta, tb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
        }
    }

    @Test
    void tf32AndStrictResultsDiffer() {
        // Guards the test above against a library that ignores the compute type: same inputs, different bits.
        CudaGemmBackend strict = open(false, 0), tf32 = open(true, 0);
        MemorySegment a = random(32 * 128, 20), b = random(128 * 32, 21);
        MemorySegment c1 = arena.allocate(32 * 32 * 4, 64), c2 = arena.allocate(32 * 32 * 4, 64);
        strict.sgemm(false, false, 32, 32, 128, 1f, a, 0, 128, b, 0, 32, 0f, c1, 0, 32);
        tf32.sgemm(false, false, 32, 32, 128, 1f, a, 0, 128, b, 0, 32, 0f, c2, 0, 32);
        assertNotEquals(-1, c1.mismatch(c2), "TF32 and FP32 gave identical bits");
    }
}
