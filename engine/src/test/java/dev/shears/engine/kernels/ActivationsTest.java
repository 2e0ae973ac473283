package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Activations: the SIMD twin against the spec on awkward sizes and misaligned offsets (relu bit
 * for bit, specials included; exp/tanh within a few ulps), the spec against double formulas and
 * finite differences, in-place and threaded facade calls, facade errors.
 */
class ActivationsTest {
    private static final ActivationKernel SCALAR = new ActivationScalar();
    private static final ActivationKernel SIMD = Twins.loadSimd(ActivationKernel.class, "ActivationSimd");
    private static final float[] SPECIALS = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-40f};

    /** n values in [-6, 6] after {@code off} floats, with specials sprinkled in when asked. */
    private static Tensor input(int n, int off, long seed, boolean specials) {
        Tensor t = TestData.randomTensor(seed, n + off);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < n + off; i++) t.set(i, t.get(i) * 6);
        if (specials) for (int i = 0; i < n; i += 7) t.set(off + i, SPECIALS[rng.nextInt(SPECIALS.length)]);
        return t;
    }

    @Test
    void reluTwinsAgreeBitForBit() {
        for (int n : TestData.AWKWARD) {
            int off = n % 5;
            try (Tensor x = input(n, off, n, true); Tensor dy = input(n, off, n + 1, true);
                 Tensor y1 = Tensor.allocate(DType.F32, n + off); Tensor y2 = Tensor.allocate(DType.F32, n + off)) {
                SCALAR.reluForward(x.segment(), off, y1.segment(), off, n);
                SIMD.reluForward(x.segment(), off, y2.segment(), off, n);
                Im2colTest.assertBitsEqual(y1, y2, "reluForward n=" + n);
                for (int i = 0; i < n; i++) {
                    float v = x.get(off + i), r = y1.get(off + i);
                    assertTrue(Float.isNaN(v) ? Float.isNaN(r) : r == Math.max(v, 0f), "relu(" + v + ") = " + r);
                }
                SCALAR.reluBackward(x.segment(), off, dy.segment(), off, y1.segment(), off, n);
                SIMD.reluBackward(x.segment(), off, dy.segment(), off, y2.segment(), off, n);
                Im2colTest.assertBitsEqual(y1, y2, "reluBackward n=" + n);
                for (int i = 0; i < n; i++) {
                    float want = x.get(off + i) > 0 ? dy.get(off + i) : 0f;
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y1.get(off + i)), "reluBackward at " + i);
                }
            }
        }
    }

    /** The fused residual steps equal their two-kernel compositions (add then relu; add then relu backward) bit for bit, twins and facade. */
    @Test
    void addReluEqualsAddThenReluBitForBit() {
        for (int n : TestData.AWKWARD) {
            int off = n % 3;
            try (Tensor a = input(n, off, 3L * n, true); Tensor b = input(n, off, 3L * n + 1, true); Tensor x = input(n, off, 3L * n + 2, true);
                 Tensor want = Tensor.allocate(DType.F32, n + off); Tensor got = Tensor.allocate(DType.F32, n + off)) {
                Elementwise.add(a.segment(), off, b.segment(), off, want.segment(), off, n);
                SCALAR.reluForward(want.segment(), off, want.segment(), off, n);
                for (ActivationKernel k : new ActivationKernel[] {SCALAR, SIMD}) {
                    k.addReluForward(a.segment(), off, b.segment(), off, got.segment(), off, n);
                    Im2colTest.assertBitsEqual(want, got, k.getClass().getSimpleName() + " addReluForward n=" + n);
                }
                Elementwise.add(a.segment(), off, b.segment(), off, want.segment(), off, n);
                SCALAR.reluBackward(x.segment(), off, want.segment(), off, want.segment(), off, n);
                for (ActivationKernel k : new ActivationKernel[] {SCALAR, SIMD}) {
                    k.addReluBackward(x.segment(), off, a.segment(), off, b.segment(), off, got.segment(), off, n);
                    Im2colTest.assertBitsEqual(want, got, k.getClass().getSimpleName() + " addReluBackward n=" + n);
                }
                // facade, in place into a (as Residual does)
                Activations.addReluBackward(x.segment(), off, a.segment(), off, b.segment(), off, a.segment(), off, n);
                for (int i = off; i < n + off; i++) {
                    assertEquals(Float.floatToRawIntBits(want.get(i)), Float.floatToRawIntBits(a.get(i)), "Activations.addReluBackward in place n=" + n + " at " + i);
                }
            }
        }
        try (Tensor t = Tensor.allocate(DType.F32, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Activations.addReluForward(t.segment(), 0, t.segment(), 0, t.segment(), 0, 5));
            assertTrue(e.getMessage().contains("addReluForward"), e.getMessage());
        }
    }

    @Test
    void clampTwinsAgreeBitForBit() {
        float[][] bounds = {{0f, 6f}, {-1.5f, 2.25f}, {0f, Float.POSITIVE_INFINITY}, {3f, 3f}};
        for (float[] b : bounds) {
            float lo = b[0], hi = b[1];
            for (int n : TestData.AWKWARD) {
                int off = n % 3;
                try (Tensor x = input(n, off, 5L * n, true); Tensor dy = input(n, off, 5L * n + 1, true);
                     Tensor y1 = Tensor.allocate(DType.F32, n + off); Tensor y2 = Tensor.allocate(DType.F32, n + off)) {
                    SCALAR.clampForward(x.segment(), off, lo, hi, y1.segment(), off, n);
                    SIMD.clampForward(x.segment(), off, lo, hi, y2.segment(), off, n);
                    Im2colTest.assertBitsEqual(y1, y2, "clampForward [" + lo + ", " + hi + "] n=" + n);
                    for (int i = 0; i < n; i++) {
                        float v = x.get(off + i), r = y1.get(off + i);
                        assertTrue(Float.isNaN(v) ? Float.isNaN(r) : r >= lo && r <= hi && (r == v || r == lo || r == hi),
                                "clamp(" + v + ") to [" + lo + ", " + hi + "] = " + r);
                    }
                    SCALAR.clampBackward(x.segment(), off, lo, hi, dy.segment(), off, y1.segment(), off, n);
                    SIMD.clampBackward(x.segment(), off, lo, hi, dy.segment(), off, y2.segment(), off, n);
                    Im2colTest.assertBitsEqual(y1, y2, "clampBackward [" + lo + ", " + hi + "] n=" + n);
                    for (int i = 0; i < n; i++) {
                        float v = x.get(off + i), want = v > lo && v < hi ? dy.get(off + i) : 0f;
                        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y1.get(off + i)), "clampBackward at " + i);
                    }
                }
            }
        }
    }

    @Test
    void sigmoidAndTanhTwinsAgreeWithinUlps() {
        for (int n : TestData.AWKWARD) {
            int off = (n * 3) % 7;
            try (Tensor x = input(n, off, 3 * n, false); Tensor dy = input(n, off, 3 * n + 1, false);
                 Tensor y1 = Tensor.allocate(DType.F32, n + off); Tensor y2 = Tensor.allocate(DType.F32, n + off);
                 Tensor d1 = Tensor.allocate(DType.F32, n + off); Tensor d2 = Tensor.allocate(DType.F32, n + off)) {
                SCALAR.sigmoidForward(x.segment(), off, y1.segment(), off, n);
                SIMD.sigmoidForward(x.segment(), off, y2.segment(), off, n);
                assertClose(y1, y2, off, n, "sigmoidForward");
                SCALAR.sigmoidBackward(y1.segment(), off, dy.segment(), off, d1.segment(), off, n);
                SIMD.sigmoidBackward(y1.segment(), off, dy.segment(), off, d2.segment(), off, n);
                assertClose(d1, d2, off, n, "sigmoidBackward");
                SCALAR.tanhForward(x.segment(), off, y1.segment(), off, n);
                SIMD.tanhForward(x.segment(), off, y2.segment(), off, n);
                assertClose(y1, y2, off, n, "tanhForward");
                SCALAR.tanhBackward(y1.segment(), off, dy.segment(), off, d1.segment(), off, n);
                SIMD.tanhBackward(y1.segment(), off, dy.segment(), off, d2.segment(), off, n);
                assertClose(d1, d2, off, n, "tanhBackward");
            }
        }
    }

    private static void assertClose(Tensor a, Tensor b, int off, int n, String what) {
        for (int i = off; i < off + n; i++) {
            float u = a.get(i), v = b.get(i);
            assertEquals(u, v, 4 * Math.ulp(Math.max(Math.abs(u), Math.abs(v))) + 1e-7f, what + " n=" + n + " at " + (i - off));
        }
    }

    @Test
    void specMatchesDoubleFormulasAndFiniteDifferences() {
        int n = 257;
        for (ActivationKernel k : new ActivationKernel[] {SCALAR, SIMD}) {
            try (Tensor x = input(n, 0, 5, false); Tensor y = Tensor.allocate(DType.F32, n); Tensor ones = Tensor.allocate(DType.F32, n);
                 Tensor dx = Tensor.allocate(DType.F32, n)) {
                for (int i = 0; i < n; i++) ones.set(i, 1f);
                k.sigmoidForward(x.segment(), 0, y.segment(), 0, n);
                k.sigmoidBackward(y.segment(), 0, ones.segment(), 0, dx.segment(), 0, n);
                for (int i = 0; i < n; i++) {
                    double v = x.get(i), h = 1e-4;
                    assertEquals(1 / (1 + Math.exp(-v)), y.get(i), 1e-6, "sigmoid(" + v + ")");
                    double fd = (1 / (1 + Math.exp(-(v + h))) - 1 / (1 + Math.exp(-(v - h)))) / (2 * h);
                    assertEquals(fd, dx.get(i), 1e-5, "sigmoid'(" + v + ")");
                }
                k.tanhForward(x.segment(), 0, y.segment(), 0, n);
                k.tanhBackward(y.segment(), 0, ones.segment(), 0, dx.segment(), 0, n);
                for (int i = 0; i < n; i++) {
                    double v = x.get(i), h = 1e-4;
                    assertEquals(Math.tanh(v), y.get(i), 1e-6, "tanh(" + v + ")");
                    assertEquals((Math.tanh(v + h) - Math.tanh(v - h)) / (2 * h), dx.get(i), 1e-5, "tanh'(" + v + ")");
                }
            }
        }
    }

    @Test
    void saturatesWithoutNaN() {
        float[] big = {-1000f, -100f, -89f, 89f, 100f, 1000f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        for (ActivationKernel k : new ActivationKernel[] {SCALAR, SIMD}) {
            for (int rep : new int[] {1, 9}) { // short (the guard) and long (the vector path)
                float[] vals = new float[big.length * rep];
                for (int i = 0; i < vals.length; i++) vals[i] = big[i % big.length];
                try (Tensor x = Tensor.of(vals, vals.length); Tensor y = Tensor.allocate(DType.F32, vals.length)) {
                    k.sigmoidForward(x.segment(), 0, y.segment(), 0, vals.length);
                    for (int i = 0; i < vals.length; i++) assertEquals(vals[i] > 0 ? 1f : 0f, y.get(i), 1e-30f, k + " sigmoid(" + vals[i] + ")");
                    k.tanhForward(x.segment(), 0, y.segment(), 0, vals.length);
                    for (int i = 0; i < vals.length; i++) assertEquals(Math.signum(vals[i]), y.get(i), 0f, k + " tanh(" + vals[i] + ")");
                }
            }
        }
    }

    @Test
    void facadeInPlaceAndThreadedEqualsSpec() {
        int n = 200_003; // above the split threshold, odd
        try (Tensor x = input(n, 0, 9, true); Tensor want = Tensor.allocate(DType.F32, n); Tensor dy = input(n, 0, 10, false);
             Tensor dwant = Tensor.allocate(DType.F32, n)) {
            SCALAR.reluForward(x.segment(), 0, want.segment(), 0, n);
            SCALAR.reluBackward(want.segment(), 0, dy.segment(), 0, dwant.segment(), 0, n);
            Activations.reluForward(x.segment(), 0, x.segment(), 0, n);
            Im2colTest.assertBitsEqual(want, x, "in-place relu");
            Activations.reluBackward(x.segment(), 0, dy.segment(), 0, dy.segment(), 0, n);
            Im2colTest.assertBitsEqual(dwant, dy, "in-place relu backward");
        }
    }

    @Test
    void facadeErrorsNameKernelAndOperand() {
        try (Tensor x = Tensor.allocate(DType.F32, 10); Tensor y = Tensor.allocate(DType.F32, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activations.reluForward(x.segment(), 0, y.segment(), 0, 10));
            assertTrue(e.getMessage().startsWith("reluForward: y (10)") && e.getMessage().contains("needs 40 bytes but its segment has 32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Activations.tanhBackward(x.segment(), 0, x.segment(), 3, y.segment(), 0, 8));
            assertTrue(e.getMessage().contains("dy (8) at offset 3"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Activations.sigmoidForward(x.segment(), 0, x.segment(), 0, -1));
        }
    }
}
