package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Row dots ({@code C += A . B^T}): the scalar spec against a double reference, the SIMD twin
 * against the spec on awkward sizes (block edges, k tails, strided rows, offsets), the facade's
 * threaded split against one call, and facade errors naming the shapes.
 */
class RowDotTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final RowDotKernel SCALAR = new RowDotScalar();
    private static final RowDotKernel SIMD = Twins.loadSimd(RowDotKernel.class, "RowDotSimd");

    @Test
    void twinsMatchDoubleReferenceOnAwkwardSizes() {
        SplittableRandom rng = new SplittableRandom(5);
        int[] sizes = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17};
        int[] ks = {1, 3, 15, 16, 17, 31, 33, 64, 100, 257};
        try (Arena arena = Arena.ofShared()) {
            for (int m : sizes) for (int n : sizes) for (int k : ks) {
                if ((m * 7 + n * 3 + k) % 3 != 0 && m != 4 && n != 4) continue; // a third of the grid, every block shape kept
                int lda = k + 3, ldb = k + 1, ldc = n + 2;
                float[] a = TestData.uniform(rng, m * lda, -1, 1), b = TestData.uniform(rng, n * ldb, -1, 1), c0 = TestData.uniform(rng, m * ldc, -1, 1);
                MemorySegment as = seg(arena, a, 1), bs = seg(arena, b, 2);
                for (RowDotKernel kernel : new RowDotKernel[] {SCALAR, SIMD}) {
                    MemorySegment cs = seg(arena, c0, 3);
                    kernel.accumulate(m, n, k, as, 1, lda, bs, 2, ldb, cs, 3, ldc);
                    for (int i = 0; i < m; i++) for (int j = 0; j < ldc; j++) {
                        double want = c0[i * ldc + j];
                        if (j < n) for (int p = 0; p < k; p++) want += (double) a[i * lda + p] * b[j * ldb + p];
                        assertEquals(want, cs.getAtIndex(F, 3 + i * ldc + j), TestData.sumTolerance(k),
                                kernel.getClass().getSimpleName() + " m=" + m + " n=" + n + " k=" + k + " at " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void facadeSplitGivesTheSameBitsAsOneCall() {
        SplittableRandom rng = new SplittableRandom(6);
        int m = 37, n = 29, k = 1000;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = seg(arena, TestData.uniform(rng, m * k, -1, 1), 0), b = seg(arena, TestData.uniform(rng, n * k, -1, 1), 0);
            MemorySegment whole = arena.allocate(4L * m * n, 64), split = arena.allocate(4L * m * n, 64);
            Twins.pick(RowDotKernel.class, "RowDotSimd", RowDotScalar::new).accumulate(m, n, k, a, 0, k, b, 0, k, whole, 0, n);
            RowDot.accumulate(m, n, k, a, 0, k, b, 0, k, split, 0, n);
            for (int i = 0; i < m * n; i++) assertEquals(whole.getAtIndex(F, i), split.getAtIndex(F, i), "entry " + i);
        }
    }

    @Test
    void facadeErrorsNameTheShapes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate(4 * 10);
            var e = assertThrows(IllegalArgumentException.class, () -> RowDot.accumulate(2, 3, 4, small, 0, 4, small, 0, 4, small, 0, 3));
            assertTrue(e.getMessage().contains("B(3, 4)") || e.getMessage().contains("A(2, 4)"), e.getMessage());
            var l = assertThrows(IllegalArgumentException.class, () -> RowDot.accumulate(1, 1, 4, small, 0, 3, small, 0, 4, small, 0, 1));
            assertTrue(l.getMessage().contains("lda=3"), l.getMessage());
        }
    }

    /** v copied after {@code at} floats of zeros. */
    private static MemorySegment seg(Arena arena, float[] v, int at) {
        MemorySegment s = arena.allocate(4L * (v.length + at), 64);
        MemorySegment.copy(v, 0, s, F, 4L * at, v.length);
        return s;
    }
}
