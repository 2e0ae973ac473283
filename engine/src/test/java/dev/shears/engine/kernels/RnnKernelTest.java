package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The recurrent-cell kernels: matrix products of both twins against a double loop on awkward
 * sizes, strides, offsets and the D variants (none, broadcast row, D = C), bit for bit between
 * twins (both sum in p order with FMA); gate math of both twins against double formulas, the
 * backward against central differences of the double forward, the allowed aliases, and facade
 * errors.
 */
class RnnKernelTest {
    private static final RnnKernel SCALAR = new RnnScalar();
    private static final RnnKernel SIMD = Twins.loadSimd(RnnKernel.class, "RnnSimd");
    private static final RnnKernel[] TWINS = {SCALAR, SIMD};

    private static Tensor random(long seed, int n) {
        return TestData.randomTensor(seed, Math.max(1, n));
    }

    private static void assertBitsEqual(Tensor a, Tensor b, String what) {
        for (long i = 0; i < a.size(); i++) {
            if (Float.floatToRawIntBits(a.get(i)) != Float.floatToRawIntBits(b.get(i))) {
                fail(what + ": element " + i + " differs: " + a.get(i) + " vs " + b.get(i));
            }
        }
    }

    // ------------------------------------------------------------------ matrix products

    @Test
    void matmulAddMatchesDoubleLoopAndTwinsAgreeBitForBit() {
        int[] sizes = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33};
        int[] ks = {1, 3, 8, 9, 17, 33};
        int mode = 0;
        for (int rows : sizes) for (int n : sizes) for (int k : ks) {
            mode = (mode + 1) % 3; // 0: no D, 1: broadcast D, 2: D = C
            int lda = k + rows % 3, ldb = n + k % 2, ldc = n + 1, ldd = mode == 1 ? 0 : ldc;
            int aOff = rows % 5, bOff = n % 3, cOff = k % 4;
            long seed = rows * 1000L + n * 31L + k;
            try (Tensor a = random(seed, aOff + rows * lda); Tensor b = random(seed + 1, bOff + k * ldb);
                 Tensor bias = random(seed + 2, n); Tensor c0 = random(seed + 3, cOff + rows * ldc)) {
                Tensor[] outs = new Tensor[2];
                for (int t = 0; t < 2; t++) {
                    outs[t] = random(seed + 3, cOff + rows * ldc);
                    MemorySegment d = mode == 0 ? null : mode == 1 ? bias.segment() : outs[t].segment();
                    long dOff = mode == 1 ? 0 : cOff;
                    TWINS[t].matmulAdd(rows, n, k, a.segment(), aOff, lda, b.segment(), bOff, ldb, d, dOff, ldd, outs[t].segment(), cOff, ldc);
                }
                String what = "matmulAdd rows=" + rows + " n=" + n + " k=" + k + " mode=" + mode;
                for (int i = 0; i < rows; i++) for (int j = 0; j < n; j++) {
                    double s = mode == 0 ? 0 : mode == 1 ? bias.get(j) : c0.get(cOff + (long) i * ldc + j);
                    for (int p = 0; p < k; p++) s += (double) a.get(aOff + (long) i * lda + p) * b.get(bOff + (long) p * ldb + j);
                    assertEquals(s, outs[0].get(cOff + (long) i * ldc + j), TestData.sumTolerance(k + 1), what + " at " + i + "," + j);
                }
                for (int i = 0; i < rows; i++) { // padding between rows untouched
                    for (int j = n; j < ldc && i * ldc + j < rows * ldc; j++) {
                        assertEquals(c0.get(cOff + (long) i * ldc + j), outs[0].get(cOff + (long) i * ldc + j), what + " wrote padding");
                    }
                }
                assertBitsEqual(outs[0], outs[1], what + " twins");
                outs[0].close();
                outs[1].close();
            }
        }
    }

    @Test
    void matmulTransAAddMatchesDoubleLoopAndTwinsAgreeBitForBit() {
        int[] sizes = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 33};
        int[] ks = {1, 2, 5, 8, 31, 64};
        for (int m : sizes) for (int n : sizes) for (int k : ks) {
            int lda = m + 2, ldb = n + k % 3, ldc = n + m % 2;
            long seed = m * 7919L + n * 104729L + k;
            try (Tensor a = random(seed, 1 + k * lda); Tensor b = random(seed + 1, k * ldb); Tensor c0 = random(seed + 2, m * ldc);
                 Tensor c1 = random(seed + 2, m * ldc); Tensor c2 = random(seed + 2, m * ldc)) {
                SCALAR.matmulTransAAdd(m, n, k, a.segment(), 1, lda, b.segment(), 0, ldb, c1.segment(), 0, ldc);
                SIMD.matmulTransAAdd(m, n, k, a.segment(), 1, lda, b.segment(), 0, ldb, c2.segment(), 0, ldc);
                String what = "matmulTransAAdd m=" + m + " n=" + n + " k=" + k;
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                    double s = c0.get((long) i * ldc + j);
                    for (int p = 0; p < k; p++) s += (double) a.get(1 + (long) p * lda + i) * b.get((long) p * ldb + j);
                    assertEquals(s, c1.get((long) i * ldc + j), TestData.sumTolerance(k + 1), what + " at " + i + "," + j);
                }
                assertBitsEqual(c1, c2, what + " twins");
            }
        }
    }

    // ------------------------------------------------------------------ gates

    private static double sig(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** FastGRNN forward of one row in double: returns hNew; z and c into the arrays. */
    private static double[] fastgrnnRef(double[] pre, double[] bz, double[] bh, double zeta, double nu, double[] hp, double[] z, double[] c) {
        double[] out = new double[pre.length];
        for (int j = 0; j < pre.length; j++) {
            z[j] = sig(pre[j] + bz[j]);
            c[j] = Math.tanh(pre[j] + bh[j]);
            out[j] = z[j] * hp[j] + (zeta * (1 - z[j]) + nu) * c[j];
        }
        return out;
    }

    private static double[] gruRef(double[] gx, double[] gh, double[] hp, double[] gates) {
        int h = hp.length;
        double[] out = new double[h];
        for (int j = 0; j < h; j++) {
            double r = sig(gx[j] + gh[j]), z = sig(gx[h + j] + gh[h + j]), n = Math.tanh(gx[2 * h + j] + r * gh[2 * h + j]);
            gates[j] = r;
            gates[h + j] = z;
            gates[2 * h + j] = n;
            out[j] = (1 - z) * n + z * hp[j];
        }
        return out;
    }

    private static double[] toDouble(Tensor t, long off, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = t.get(off + i);
        return d;
    }

    @Test
    void fastgrnnGatesMatchDoubleFormulasAndFiniteDifferences() {
        for (int h : TestData.AWKWARD) {
            if (h > 300) continue;
            int off = h % 3;
            long seed = 17L * h;
            float zeta = 0.73f, nu = 0.018f;
            try (Tensor pre = random(seed, off + h); Tensor bz = random(seed + 1, h); Tensor bh = random(seed + 2, h); Tensor hp = random(seed + 3, off + h);
                 Tensor dh = random(seed + 4, off + h)) {
                for (int i = 0; i < h; i++) pre.set(off + i, pre.get(off + i) * 3);
                double[] pd = toDouble(pre, off, h), bzd = toDouble(bz, 0, h), bhd = toDouble(bh, 0, h), hpd = toDouble(hp, off, h), dhd = toDouble(dh, off, h);
                double[] zd = new double[h], cd = new double[h];
                double[] want = fastgrnnRef(pd, bzd, bhd, zeta, nu, hpd, zd, cd);
                Tensor[] res = new Tensor[2];
                for (int t = 0; t < 2; t++) {
                    try (Tensor z = Tensor.allocate(DType.F32, off + h); Tensor c = Tensor.allocate(DType.F32, off + h); Tensor hn = Tensor.allocate(DType.F32, off + h);
                         Tensor dPre = Tensor.allocate(DType.F32, off + h); Tensor dhPrev = Tensor.allocate(DType.F32, off + h); Tensor acc = Tensor.allocate(DType.F32, 2 * h + 2)) {
                        TWINS[t].fastgrnnForward(h, pre.segment(), off, bz.segment(), 0, bh.segment(), 0, zeta, nu, hp.segment(), off, z.segment(), off, c.segment(), off, hn.segment(), off);
                        for (int j = 0; j < h; j++) {
                            assertEquals(zd[j], z.get(off + j), 3e-7, "z h=" + h);
                            assertEquals(cd[j], c.get(off + j), 6e-7, "c h=" + h);
                            assertEquals(want[j], hn.get(off + j), 1e-6, "hNew h=" + h + " twin " + t);
                        }
                        for (int j = 0; j < 2 * h + 2; j++) acc.set(j, 0.5f);
                        TWINS[t].fastgrnnBackward(h, dh.segment(), off, hp.segment(), off, z.segment(), off, c.segment(), off, zeta, nu,
                                dPre.segment(), off, dhPrev.segment(), off, acc.segment(), 0);
                        // central differences of L = sum dh * hNew in double
                        double e = 1e-6, sumZeta = 0, sumNu = 0;
                        for (int j = 0; j < h; j++) {
                            double[] p1 = pd.clone(), p2 = pd.clone();
                            p1[j] += e;
                            p2[j] -= e;
                            double num = (dot(dhd, fastgrnnRef(p1, bzd, bhd, zeta, nu, hpd, new double[h], new double[h]))
                                    - dot(dhd, fastgrnnRef(p2, bzd, bhd, zeta, nu, hpd, new double[h], new double[h]))) / (2 * e);
                            assertEquals(num, dPre.get(off + j), 1e-5 + 1e-4 * Math.abs(num), "dPre h=" + h + " j=" + j);
                            assertEquals(dhd[j] * zd[j], dhPrev.get(off + j), 1e-6, "dhPrev direct part");
                            double dzPart = dhd[j] * (hpd[j] - zeta * cd[j]) * zd[j] * (1 - zd[j]);
                            assertEquals(0.5 + dzPart, acc.get(j), 1e-5, "acc gate bias");
                            assertEquals(0.5 + num - dzPart, acc.get(h + j), 1e-5, "acc update bias");
                            sumZeta += dhd[j] * (1 - zd[j]) * cd[j];
                            sumNu += dhd[j] * cd[j];
                        }
                        assertEquals(0.5 + sumZeta, acc.get(2 * h), TestData.sumTolerance(h), "acc zeta");
                        assertEquals(0.5 + sumNu, acc.get(2 * h + 1), TestData.sumTolerance(h), "acc nu");
                        res[t] = Tensor.allocate(DType.F32, 3 * h);
                        for (int j = 0; j < h; j++) {
                            res[t].set(j, dPre.get(off + j));
                            res[t].set(h + j, dhPrev.get(off + j));
                            res[t].set(2 * h + j, hn.get(off + j));
                        }
                        // aliases: z = pre, dPre = z, dhPrev = dh give the same numbers
                        try (Tensor pz = Tensor.allocate(DType.F32, off + h); Tensor d2 = Tensor.allocate(DType.F32, off + h); Tensor acc2 = Tensor.allocate(DType.F32, 2 * h + 2)) {
                            pz.copyFrom(pre.toFloatArray());
                            d2.copyFrom(dh.toFloatArray());
                            TWINS[t].fastgrnnForward(h, pz.segment(), off, bz.segment(), 0, bh.segment(), 0, zeta, nu, hp.segment(), off, pz.segment(), off, c.segment(), off, hn.segment(), off);
                            TWINS[t].fastgrnnBackward(h, d2.segment(), off, hp.segment(), off, pz.segment(), off, c.segment(), off, zeta, nu,
                                    pz.segment(), off, d2.segment(), off, acc2.segment(), 0);
                            for (int j = 0; j < h; j++) {
                                assertEquals(dPre.get(off + j), pz.get(off + j), "aliased dPre h=" + h);
                                assertEquals(dhPrev.get(off + j), d2.get(off + j), "aliased dhPrev h=" + h);
                            }
                        }
                    }
                }
                for (int j = 0; j < 3 * h; j++) assertEquals(res[0].get(j), res[1].get(j), 4e-6 * Math.max(1, Math.abs(res[0].get(j))), "twins h=" + h + " at " + j);
                res[0].close();
                res[1].close();
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void gruGatesMatchDoubleFormulasAndFiniteDifferences() {
        for (int h : TestData.AWKWARD) {
            if (h > 300) continue;
            int off = h % 4;
            long seed = 31L * h;
            try (Tensor gx = random(seed, off + 3 * h); Tensor gh = random(seed + 1, off + 3 * h); Tensor hp = random(seed + 2, off + h); Tensor dh = random(seed + 3, off + h)) {
                for (int i = 0; i < 3 * h; i++) gx.set(off + i, gx.get(off + i) * 2.5f);
                double[] gxd = toDouble(gx, off, 3 * h), ghd = toDouble(gh, off, 3 * h), hpd = toDouble(hp, off, h), dhd = toDouble(dh, off, h);
                double[] gd = new double[3 * h];
                double[] want = gruRef(gxd, ghd, hpd, gd);
                float[][] res = new float[2][];
                for (int t = 0; t < 2; t++) {
                    try (Tensor gates = Tensor.allocate(DType.F32, off + 3 * h); Tensor hn = Tensor.allocate(DType.F32, off + h); Tensor dGx = Tensor.allocate(DType.F32, off + 3 * h);
                         Tensor dGh = Tensor.allocate(DType.F32, off + 3 * h); Tensor dhPrev = Tensor.allocate(DType.F32, off + h)) {
                        TWINS[t].gruForward(h, gx.segment(), off, gh.segment(), off, hp.segment(), off, gates.segment(), off, hn.segment(), off);
                        for (int j = 0; j < 3 * h; j++) assertEquals(gd[j], gates.get(off + j), 6e-7, "gates h=" + h);
                        for (int j = 0; j < h; j++) assertEquals(want[j], hn.get(off + j), 1e-6, "hNew h=" + h);
                        TWINS[t].gruBackward(h, dh.segment(), off, hp.segment(), off, gates.segment(), off, gh.segment(), off, dGx.segment(), off, dGh.segment(), off,
                                dhPrev.segment(), off);
                        double e = 1e-6;
                        for (int j = 0; j < 3 * h; j++) {
                            double[] x1 = gxd.clone(), x2 = gxd.clone(), h1 = ghd.clone(), h2 = ghd.clone();
                            x1[j] += e;
                            x2[j] -= e;
                            h1[j] += e;
                            h2[j] -= e;
                            double nx = (dot(dhd, gruRef(x1, ghd, hpd, new double[3 * h])) - dot(dhd, gruRef(x2, ghd, hpd, new double[3 * h]))) / (2 * e);
                            double nh = (dot(dhd, gruRef(gxd, h1, hpd, new double[3 * h])) - dot(dhd, gruRef(gxd, h2, hpd, new double[3 * h]))) / (2 * e);
                            assertEquals(nx, dGx.get(off + j), 1e-5 + 1e-4 * Math.abs(nx), "dGx h=" + h + " j=" + j);
                            assertEquals(nh, dGh.get(off + j), 1e-5 + 1e-4 * Math.abs(nh), "dGh h=" + h + " j=" + j);
                        }
                        for (int j = 0; j < h; j++) assertEquals(dhd[j] * gd[h + j], dhPrev.get(off + j), 1e-6, "dhPrev direct part");
                        res[t] = new float[7 * h];
                        for (int j = 0; j < 3 * h; j++) {
                            res[t][j] = dGx.get(off + j);
                            res[t][3 * h + j] = dGh.get(off + j);
                        }
                        for (int j = 0; j < h; j++) res[t][6 * h + j] = hn.get(off + j);
                        // aliases: gates = gx (forward), dGx = gates, dGh = gh, dhPrev = dh (backward)
                        try (Tensor g2 = Tensor.allocate(DType.F32, off + 3 * h); Tensor gh2 = Tensor.allocate(DType.F32, off + 3 * h); Tensor d2 = Tensor.allocate(DType.F32, off + h)) {
                            g2.copyFrom(gx.toFloatArray());
                            gh2.copyFrom(gh.toFloatArray());
                            d2.copyFrom(dh.toFloatArray());
                            TWINS[t].gruForward(h, g2.segment(), off, gh2.segment(), off, hp.segment(), off, g2.segment(), off, hn.segment(), off);
                            TWINS[t].gruBackward(h, d2.segment(), off, hp.segment(), off, g2.segment(), off, gh2.segment(), off, g2.segment(), off, gh2.segment(), off,
                                    d2.segment(), off);
                            for (int j = 0; j < 3 * h; j++) {
                                assertEquals(dGx.get(off + j), g2.get(off + j), "aliased dGx h=" + h);
                                assertEquals(dGh.get(off + j), gh2.get(off + j), "aliased dGh h=" + h);
                            }
                            for (int j = 0; j < h; j++) assertEquals(dhPrev.get(off + j), d2.get(off + j), "aliased dhPrev h=" + h);
                        }
                    }
                }
                for (int j = 0; j < 7 * h; j++) assertEquals(res[0][j], res[1][j], 4e-6 * Math.max(1, Math.abs(res[0][j])), "twins h=" + h + " at " + j);
            }
        }
    }

    // ------------------------------------------------------------------ facade

    @Test
    void facadeRejectsOperandsThatDoNotFit() {
        try (Tensor a = Tensor.allocate(DType.F32, 4, 3); Tensor b = Tensor.allocate(DType.F32, 3, 5); Tensor c = Tensor.allocate(DType.F32, 4, 5)) {
            Rnn.matmulAdd(4, 5, 3, a.segment(), 0, 3, b.segment(), 0, 5, null, 0, 0, c.segment(), 0, 5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Rnn.matmulAdd(4, 5, 3, a.segment(), 0, 3, b.segment(), 0, 5, null, 0, 0, c.segment(), 1, 5));
            assertTrue(e.getMessage().contains("rnn.matmulAdd") && e.getMessage().contains("C (4, 5)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Rnn.matmulAdd(4, 5, 3, a.segment(), 0, 2, b.segment(), 0, 5, null, 0, 0, c.segment(), 0, 5));
            assertTrue(e.getMessage().contains("leading dimension of A"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Rnn.matmulTransAAdd(3, 5, 4, a.segment(), 0, 3, b.segment(), 0, 5, c.segment(), 0, 5));
            assertTrue(e.getMessage().contains("rnn.matmulTransAAdd") && e.getMessage().contains("B (4, 5)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Rnn.fastgrnnBackward(5, c.segment(), 0, c.segment(), 0, c.segment(), 0, c.segment(), 0, 1f, 0f,
                    c.segment(), 0, c.segment(), 0, b.segment(), 4));
            assertTrue(e.getMessage().contains("acc (12)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Rnn.gruForward(7, c.segment(), 0, c.segment(), 0, c.segment(), 0, c.segment(), 0, c.segment(), 0));
            assertTrue(e.getMessage().contains("gx (21)"), e.getMessage());
        }
    }
}
