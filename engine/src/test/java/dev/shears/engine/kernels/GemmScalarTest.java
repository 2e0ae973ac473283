package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import org.junit.jupiter.api.Test;

/** The GEMM spec against a double-precision triple loop, every transpose, alpha and beta. */
class GemmScalarTest {
    @Test
    void matchesDoubleTripleLoop() {
        int[] sizes = {1, 2, 3, 5, 8, 13, 17};
        for (int m : sizes) for (int n : sizes) for (int k : sizes) for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            try (Tensor a = TestData.randomTensor(m * 31 + k, ta ? k : m, ta ? m : k);
                 Tensor b = TestData.randomTensor(n * 17 + k, tb ? n : k, tb ? k : n);
                 Tensor c = TestData.randomTensor(99, m, n)) {
                float[] c0 = c.toFloatArray();
                float alpha = 0.75f, beta = t == 3 ? 0f : -0.5f;
                new GemmScalar().sgemm(ta, tb, m, n, k, alpha, a.segment(), 0, a.dim(1), b.segment(), 0, b.dim(1), beta, c.segment(), 0, n);
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        acc += (double) a.get(ta ? (long) p * m + i : (long) i * k + p) * b.get(tb ? (long) j * k + p : (long) p * n + j);
                    }
                    double want = alpha * acc + beta * c0[i * n + j];
                    assertEquals(want, c.get((long) i * n + j), TestData.sumTolerance(k), "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb);
                }
            }
        }
    }

    @Test
    void betaZeroOverwritesNaN() {
        try (Tensor a = Tensor.of(new float[] {1, 2}, 1, 2); Tensor b = Tensor.of(new float[] {3, 4}, 2, 1);
             Tensor c = Tensor.of(new float[] {Float.NaN}, 1, 1)) {
            Gemm.sgemm(false, false, 1f, a, b, 0f, c);
            assertEquals(11f, c.get(0));
        }
    }

    @Test
    void facadeNamesBothShapes() {
        try (Tensor a = Tensor.allocate(dev.shears.engine.DType.F32, 2, 3); Tensor b = Tensor.allocate(dev.shears.engine.DType.F32, 4, 5);
             Tensor c = Tensor.allocate(dev.shears.engine.DType.F32, 2, 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemm(false, false, 1f, a, b, 0f, c));
            assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(4, 5)"), e.getMessage());
        }
    }
}
