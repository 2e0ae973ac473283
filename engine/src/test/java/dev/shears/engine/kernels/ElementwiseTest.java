package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Elementwise and optimizer kernels: the twins agree bit for bit on awkward sizes (the same float
 * operations per element), each operation matches its one-line definition, SGD and Adam match a
 * double reference of PyTorch's formulas over several steps, the facade splits and checks.
 */
class ElementwiseTest {
    private static final ElementwiseKernel SCALAR = new ElementwiseScalar();
    private static final ElementwiseKernel SIMD = Twins.loadSimd(ElementwiseKernel.class, "ElementwiseSimd");

    private static Tensor rnd(long seed, int n) {
        return TestData.randomTensor(seed, Math.max(1, n));
    }

    private static Tensor copyOf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    @Test
    void twinsAgreeBitForBitAndMatchDefinitions() {
        for (int n : TestData.AWKWARD) {
            int off = n % 3, size = n + off;
            try (Tensor a = rnd(n, size); Tensor b = rnd(n + 7, size);
                 Tensor o1 = Tensor.allocate(DType.F32, size); Tensor o2 = Tensor.allocate(DType.F32, size)) {
                MemorySegment as = a.segment(), bs = b.segment();
                SCALAR.add(as, off, bs, off, o1.segment(), off, n);
                SIMD.add(as, off, bs, off, o2.segment(), off, n);
                same(o1, o2, "add", n);
                for (int i = off; i < size; i++) assertEquals(a.get(i) + b.get(i), o1.get(i), 0f);
                SCALAR.mul(as, off, bs, off, o1.segment(), off, n);
                SIMD.mul(as, off, bs, off, o2.segment(), off, n);
                same(o1, o2, "mul", n);
                for (int i = off; i < size; i++) assertEquals(a.get(i) * b.get(i), o1.get(i), 0f);
                SCALAR.affine(as, off, 0.75f, -1.25f, o1.segment(), off, n);
                SIMD.affine(as, off, 0.75f, -1.25f, o2.segment(), off, n);
                same(o1, o2, "affine", n);
                for (int i = off; i < size; i++) assertEquals(Math.fma(0.75f, a.get(i), -1.25f), o1.get(i), 0f);
                SCALAR.affine2(-0.6f, as, off, 1.7f, bs, off, 0.3f, o1.segment(), off, n);
                SIMD.affine2(-0.6f, as, off, 1.7f, bs, off, 0.3f, o2.segment(), off, n);
                same(o1, o2, "affine2", n);
                for (int i = off; i < size; i++) assertEquals(Math.fma(1.7f, b.get(i), Math.fma(-0.6f, a.get(i), 0.3f)), o1.get(i), 0f);
                for (ElementwiseKernel k : new ElementwiseKernel[] {SCALAR, SIMD}) {
                    try (Tensor u = copyOf(a)) { // out aliasing u: element i is read before it is written
                        k.affine2(-0.6f, u.segment(), off, 1.7f, bs, off, 0.3f, u.segment(), off, n);
                        for (int i = off; i < size; i++) {
                            assertEquals(Float.floatToRawIntBits(o1.get(i)), Float.floatToRawIntBits(u.get(i)), k.getClass().getSimpleName() + " affine2 in place n=" + n);
                        }
                    }
                }
                for (ElementwiseKernel k : new ElementwiseKernel[] {SCALAR, SIMD}) {
                    try (Tensor x = copyOf(a)) {
                        k.addInPlace(x.segment(), off, bs, off, n);
                        k.scale(x.segment(), off, -0.37f, n);
                        k.axpy(1.5f, bs, off, x.segment(), off, n);
                        k.mulInPlace(x.segment(), off, bs, off, n);
                        for (int i = off; i < size; i++) {
                            float want = Math.fma(1.5f, b.get(i), (a.get(i) + b.get(i)) * -0.37f) * b.get(i);
                            assertEquals(want, x.get(i), 0f, k.getClass().getSimpleName() + " chain n=" + n + " at " + i);
                        }
                        assertEquals(a.get(0), off > 0 ? x.get(0) : a.get(0), 0f, "before the offset is untouched");
                        k.copy(bs, off, x.segment(), off, n);
                        for (int i = off; i < size; i++) assertEquals(b.get(i), x.get(i), 0f);
                        k.fill(x.segment(), off, 2.5f, n);
                        for (int i = off; i < size; i++) assertEquals(2.5f, x.get(i), 0f);
                    }
                }
            }
        }
    }

    @Test
    void maskMultiplyZeroesExactlyTheMaskedWeights() {
        for (int n : TestData.AWKWARD) {
            try (Tensor w = rnd(n, n); Tensor mask = Tensor.allocate(DType.F32, n)) {
                for (int i = 0; i < n; i++) mask.set(i, (i * 7 + n) % 3 == 0 ? 0f : 1f);
                float[] before = w.toFloatArray();
                for (ElementwiseKernel k : new ElementwiseKernel[] {SCALAR, SIMD}) {
                    w.copyFrom(before);
                    k.maskMultiply(w.segment(), 0, mask.segment(), 0, n);
                    for (int i = 0; i < n; i++) assertEquals(mask.get(i) == 0f ? 0f : before[i], w.get(i), 0f, "n=" + n + " at " + i);
                }
            }
        }
    }

    /** SGD configurations: momentum, weight decay, nesterov, dampening. */
    private static final float[][] SGD = {{0f, 0f, 0, 0f}, {0f, 1e-2f, 0, 0f}, {0.9f, 5e-4f, 0, 0f}, {0.9f, 1e-3f, 1, 0f}, {0.8f, 0f, 0, 0.3f}};

    @Test
    void sgdMatchesDoubleReferenceOverSteps() {
        int n = 129, steps = 6;
        float lr = 0.05f;
        for (float[] cfg : SGD) {
            float mom = cfg[0], wd = cfg[1], damp = cfg[3];
            boolean nest = cfg[2] != 0;
            for (ElementwiseKernel k : new ElementwiseKernel[] {SCALAR, SIMD}) {
                try (Tensor w = rnd(1, n); Tensor v = Tensor.allocate(DType.F32, n)) {
                    double[] rw = toDouble(w), rv = new double[n];
                    for (int t = 0; t < steps; t++) {
                        try (Tensor g = rnd(100 + t, n)) {
                            k.sgdMomentum(w.segment(), 0, g.segment(), 0, v.segment(), 0, n, lr, mom, wd, nest, damp, t == 0);
                            for (int i = 0; i < n; i++) { // torch.optim.SGD, step by step
                                double d = g.get(i) + wd * rw[i];
                                if (mom != 0) {
                                    rv[i] = t == 0 ? d : mom * rv[i] + (1 - damp) * d;
                                    d = nest ? d + mom * rv[i] : rv[i];
                                }
                                rw[i] -= lr * d;
                            }
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        assertEquals(rw[i], w.get(i), 1e-5, k.getClass().getSimpleName() + " sgd " + java.util.Arrays.toString(cfg) + " w at " + i);
                        if (mom != 0) assertEquals(rv[i], v.get(i), 1e-5, "sgd v at " + i);
                    }
                }
            }
        }
    }

    @Test
    void adamMatchesDoubleReferenceOverSteps() {
        int n = 65, steps = 7;
        for (float wd : new float[] {0f, 1e-2f}) {
            float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
            for (ElementwiseKernel k : new ElementwiseKernel[] {SCALAR, SIMD}) {
                try (Tensor w = rnd(2, n); Tensor m = Tensor.allocate(DType.F32, n); Tensor v = Tensor.allocate(DType.F32, n)) {
                    double[] rw = toDouble(w), rm = new double[n], rv = new double[n];
                    for (int t = 1; t <= steps; t++) {
                        try (Tensor g = rnd(200 + t, n)) {
                            k.adam(w.segment(), 0, g.segment(), 0, m.segment(), 0, v.segment(), 0, n, lr, b1, b2, eps, wd, t);
                            double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
                            for (int i = 0; i < n; i++) { // torch.optim.Adam (amsgrad off, L2 decay)
                                double d = g.get(i) + wd * rw[i];
                                rm[i] = b1 * rm[i] + (1 - b1) * d;
                                rv[i] = b2 * rv[i] + (1 - b2) * d * d;
                                rw[i] -= lr / bc1 * rm[i] / (Math.sqrt(rv[i]) / Math.sqrt(bc2) + eps);
                            }
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        assertEquals(rw[i], w.get(i), 2e-5, k.getClass().getSimpleName() + " adam wd=" + wd + " w at " + i);
                        assertEquals(rm[i], m.get(i), 1e-5, "adam m at " + i);
                        assertEquals(rv[i], v.get(i), 1e-6, "adam v at " + i);
                    }
                }
            }
        }
    }

    @Test
    void optimizerTwinsAgreeBitForBit() {
        for (int n : TestData.AWKWARD) {
            for (float[] cfg : SGD) {
                try (Tensor w1 = rnd(n, n); Tensor w2 = rnd(n, n); Tensor g = rnd(n + 1, n);
                     Tensor v1 = Tensor.allocate(DType.F32, n); Tensor v2 = Tensor.allocate(DType.F32, n)) {
                    for (int t = 0; t < 3; t++) {
                        SCALAR.sgdMomentum(w1.segment(), 0, g.segment(), 0, v1.segment(), 0, n, 0.1f, cfg[0], cfg[1], cfg[2] != 0, cfg[3], t == 0);
                        SIMD.sgdMomentum(w2.segment(), 0, g.segment(), 0, v2.segment(), 0, n, 0.1f, cfg[0], cfg[1], cfg[2] != 0, cfg[3], t == 0);
                    }
                    same(w1, w2, "sgd w", n);
                    same(v1, v2, "sgd v", n);
                }
            }
            try (Tensor w1 = rnd(n, n); Tensor w2 = rnd(n, n); Tensor g = rnd(n + 1, n); Tensor m1 = Tensor.allocate(DType.F32, n);
                 Tensor m2 = Tensor.allocate(DType.F32, n); Tensor v1 = Tensor.allocate(DType.F32, n); Tensor v2 = Tensor.allocate(DType.F32, n)) {
                for (int t = 1; t <= 3; t++) {
                    SCALAR.adam(w1.segment(), 0, g.segment(), 0, m1.segment(), 0, v1.segment(), 0, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                    SIMD.adam(w2.segment(), 0, g.segment(), 0, m2.segment(), 0, v2.segment(), 0, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                }
                same(w1, w2, "adam w", n);
                same(m1, m2, "adam m", n);
                same(v1, v2, "adam v", n);
            }
        }
    }

    @Test
    void facadeThreadedEqualsSpecAndSgdWithoutMomentumIgnoresV() {
        int n = 300_001;
        try (Tensor w1 = rnd(3, n); Tensor w2 = rnd(3, n); Tensor g = rnd(4, n)) {
            SCALAR.sgdMomentum(w1.segment(), 0, g.segment(), 0, MemorySegment.NULL, 0, n, 0.1f, 0f, 1e-4f, false, 0f, false);
            Elementwise.sgdMomentum(w2.segment(), 0, g.segment(), 0, MemorySegment.NULL, 0, n, 0.1f, 0f, 1e-4f, false, 0f, false);
            same(w1, w2, "sgd threaded", n);
            SCALAR.axpy(-2f, g.segment(), 0, w1.segment(), 0, n);
            Elementwise.axpy(-2f, g.segment(), 0, w2.segment(), 0, n);
            same(w1, w2, "axpy threaded", n);
            SCALAR.affine2(0.5f, g.segment(), 0, -1.5f, w1.segment(), 0, 0.25f, w1.segment(), 0, n);
            Elementwise.affine2(0.5f, g.segment(), 0, -1.5f, w2.segment(), 0, 0.25f, w2.segment(), 0, n);
            same(w1, w2, "affine2 threaded", n);
            SCALAR.affine(g.segment(), 0, 3f, -1f, w1.segment(), 0, n);
            Elementwise.affine(g.segment(), 0, 3f, -1f, w2.segment(), 0, n);
            same(w1, w2, "affine threaded", n);
        }
    }

    @Test
    void facadeErrorsNameKernelAndOperand() {
        try (Tensor a = Tensor.allocate(DType.F32, 16); Tensor b = Tensor.allocate(DType.F32, 12)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Elementwise.add(a.segment(), 0, b.segment(), 0, a.segment(), 0, 16));
            assertTrue(e.getMessage().startsWith("add: b (16) at offset 0 needs 64 bytes but its segment has 48"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Elementwise.sgdMomentum(a.segment(), 0, a.segment(), 0, MemorySegment.NULL, 0, 16, 0.1f, 0.9f, 0f, false, 0f, false));
            assertTrue(e.getMessage().startsWith("sgdMomentum: v (16)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Elementwise.sgdMomentum(a.segment(), 0, a.segment(), 0, a.segment(), 0, 16, 0.1f, 0.9f, 0f, true, 0.1f, false));
            assertTrue(e.getMessage().contains("Nesterov"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Elementwise.adam(a.segment(), 0, a.segment(), 0, a.segment(), 0, a.segment(), 0, 16, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 0));
            assertTrue(e.getMessage().contains("step counts from 1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Elementwise.copy(a.segment(), 5, b.segment(), -1, 4));
            assertTrue(e.getMessage().contains("dst (4) has a negative offset -1"), e.getMessage());
        }
    }

    private static double[] toDouble(Tensor t) {
        double[] d = new double[(int) t.size()];
        for (int i = 0; i < d.length; i++) d[i] = t.get(i);
        return d;
    }

    private static void same(Tensor a, Tensor b, String what, int n) {
        Im2colTest.assertBitsEqual(a, b, what + " n=" + n);
    }
}
