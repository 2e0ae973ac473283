package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * im2col/col2im: the spec against a naive double convolution and the adjoint identity, the SIMD
 * twin against the spec bit for bit, batch layout against per-image layout, facade errors.
 */
class Im2colTest {
    private static final Im2colKernel SCALAR = new Im2colScalar();
    private static final Im2colKernel SIMD = Twins.loadSimd(Im2colKernel.class, "Im2colSimd");

    /** (C, H, W, k, stride, pad) sweep: 1x1, 3x3 pad 1 stride 1 and 2, 5x5, H != W, padding around tiny images. */
    static List<ConvGeometry> sweep() {
        List<ConvGeometry> gs = new ArrayList<>();
        int[][] hw = {{1, 1}, {2, 3}, {5, 5}, {7, 4}, {8, 8}, {13, 9}, {32, 17}};
        for (int[] s : hw) for (int c : new int[] {1, 3}) for (int k : new int[] {1, 2, 3, 5}) for (int stride : new int[] {1, 2, 3}) {
            for (int pad = 0; pad <= 2; pad++) {
                if (s[0] + 2 * pad >= k && s[1] + 2 * pad >= k) gs.add(ConvGeometry.square(c, s[0], s[1], k, stride, pad));
            }
        }
        gs.add(new ConvGeometry(2, 6, 9, 3, 1, 2, 1, 1, 0)); // rectangular kernel, stride and padding
        gs.add(new ConvGeometry(2, 4, 11, 1, 5, 1, 3, 0, 2));
        return gs;
    }

    @Test
    void convolutionThroughIm2colAndGemmMatchesNaiveConvolution() {
        for (ConvGeometry g : sweep()) {
            int cout = 3, n = 2;
            int oh = g.outH(), ow = g.outW(), p = (int) g.pixels();
            try (Tensor x = TestData.randomTensor(g.hashCode(), n, g.channels(), g.height(), g.width());
                 Tensor wt = TestData.randomTensor(7, cout, g.channels(), g.kernelH(), g.kernelW());
                 Tensor cols = Tensor.allocate(DType.F32, g.patch(), n * p);
                 Tensor y = Tensor.allocate(DType.F32, cout, n * p)) {
                SCALAR.im2col(g, n, x.segment(), 0, g.imageSize(), cols.segment(), 0, (long) n * p);
                new GemmScalar().sgemm(false, false, cout, n * p, g.patch(), 1f, wt.segment(), 0, g.patch(),
                        cols.segment(), 0, n * p, 0f, y.segment(), 0, n * p);
                for (int b = 0; b < n; b++) for (int co = 0; co < cout; co++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
                    double acc = 0;
                    for (int c = 0; c < g.channels(); c++) for (int i = 0; i < g.kernelH(); i++) for (int j = 0; j < g.kernelW(); j++) {
                        int iy = oy * g.strideH() - g.padH() + i, ix = ox * g.strideW() - g.padW() + j;
                        if (iy < 0 || iy >= g.height() || ix < 0 || ix >= g.width()) continue;
                        acc += (double) wt.get(((long) (co * g.channels() + c) * g.kernelH() + i) * g.kernelW() + j)
                                * x.get(((long) (b * g.channels() + c) * g.height() + iy) * g.width() + ix);
                    }
                    assertEquals(acc, y.get((long) co * n * p + b * p + oy * ow + ox), TestData.sumTolerance(g.patch()), g + " n=" + b);
                }
            }
        }
    }

    @Test
    void col2imIsTheAdjointOfIm2colOnTheSweep() {
        for (ConvGeometry g : sweep()) for (Im2colKernel k : new Im2colKernel[] {SCALAR, SIMD}) assertAdjoint(k, g, 2, g.hashCode());
    }

    @Test
    void adjointProperty() {
        // small integers make every float sum exact, so <im2col(x), y> == <x, col2im(y)> exactly
        qt().withExamples(150).forAll(integers().between(1, 3), integers().between(1, 10), integers().between(1, 10), integers().between(0, 44))
                .assuming((c, h, w, v) -> h + 2 * (v / 15) >= 1 + v % 5 && w + 2 * (v / 15) >= 1 + v % 5)
                .checkAssert((c, h, w, v) -> {
                    ConvGeometry g = ConvGeometry.square(c, h, w, 1 + v % 5, 1 + (v / 5) % 3, v / 15);
                    assertAdjoint(SIMD, g, 1 + v % 3, v * 31 + h);
                    assertAdjoint(SCALAR, g, 1 + v % 3, v * 31 + h);
                });
    }

    private static void assertAdjoint(Im2colKernel k, ConvGeometry g, int n, long seed) {
        long cw = n * g.pixels();
        SplittableRandom rng = new SplittableRandom(seed);
        try (Tensor x = Tensor.allocate(DType.F32, n, g.channels(), g.height(), g.width());
             Tensor y = Tensor.allocate(DType.F32, g.patch(), (int) cw);
             Tensor cols = Tensor.allocate(DType.F32, g.patch(), (int) cw);
             Tensor back = Tensor.allocate(DType.F32, n, g.channels(), g.height(), g.width())) {
            for (long i = 0; i < x.size(); i++) x.set(i, rng.nextInt(-4, 5));
            for (long i = 0; i < y.size(); i++) y.set(i, rng.nextInt(-4, 5));
            k.im2col(g, n, x.segment(), 0, g.imageSize(), cols.segment(), 0, cw);
            k.col2im(g, n, y.segment(), 0, cw, back.segment(), 0, g.imageSize());
            double lhs = 0, rhs = 0;
            for (long i = 0; i < cols.size(); i++) lhs += (double) cols.get(i) * y.get(i);
            for (long i = 0; i < x.size(); i++) rhs += (double) x.get(i) * back.get(i);
            assertEquals(lhs, rhs, 0.0, k.getClass().getSimpleName() + " " + g + " n=" + n);
        }
    }

    @Test
    void simdTwinEqualsSpecBitForBit() {
        for (ConvGeometry g : sweep()) {
            for (int n : new int[] {1, 3}) {
                long cw = n * g.pixels() + 5; // a wider row stride, and offsets that misalign every row
                long xOff = 3, cOff = 7;
                long xs = xOff + n * g.imageSize(), cs = cOff + g.patch() * cw;
                try (Tensor x = TestData.randomTensor(n + g.hashCode(), (int) xs);
                     Tensor c1 = TestData.randomTensor(1, (int) cs); Tensor c2 = TestData.randomTensor(1, (int) cs);
                     Tensor dx1 = TestData.randomTensor(2, (int) xs); Tensor dx2 = TestData.randomTensor(2, (int) xs)) {
                    SCALAR.im2col(g, n, x.segment(), xOff, g.imageSize(), c1.segment(), cOff, cw);
                    SIMD.im2col(g, n, x.segment(), xOff, g.imageSize(), c2.segment(), cOff, cw);
                    assertBitsEqual(c1, c2, "im2col " + g + " n=" + n);
                    SCALAR.col2im(g, n, c1.segment(), cOff, cw, dx1.segment(), xOff, g.imageSize());
                    SIMD.col2im(g, n, c1.segment(), cOff, cw, dx2.segment(), xOff, g.imageSize());
                    assertBitsEqual(dx1, dx2, "col2im " + g + " n=" + n);
                }
            }
        }
    }

    @Test
    void batchLayoutHoldsEachImageAtItsColumnOffset() {
        ConvGeometry g = ConvGeometry.square(3, 9, 7, 3, 2, 1);
        int n = 4, p = (int) g.pixels();
        try (Tensor x = TestData.randomTensor(5, n, 3, 9, 7); Tensor batch = Tensor.allocate(DType.F32, g.patch(), n * p);
             Tensor one = Tensor.allocate(DType.F32, g.patch(), p)) {
            Im2col.im2colBatch(g, n, x.segment(), 0, batch.segment(), 0);
            for (int b = 0; b < n; b++) {
                Im2col.im2col(g, x.segment(), b * g.imageSize(), one.segment(), 0);
                for (int r = 0; r < g.patch(); r++) for (int q = 0; q < p; q++) {
                    assertEquals(one.get((long) r * p + q), batch.get((long) r * n * p + (long) b * p + q), "image " + b);
                }
            }
            // col2imBatch of the batch columns equals per-image col2im
            try (Tensor a = Tensor.allocate(DType.F32, n, 3, 9, 7); Tensor b2 = Tensor.allocate(DType.F32, n, 3, 9, 7)) {
                Im2col.col2imBatch(g, n, batch.segment(), 0, a.segment(), 0);
                for (int b = 0; b < n; b++) {
                    Im2col.im2col(g, x.segment(), b * g.imageSize(), one.segment(), 0);
                    Im2col.col2im(g, one.segment(), 0, b2.segment(), b * g.imageSize());
                }
                assertBitsEqual(a, b2, "col2imBatch");
            }
        }
    }

    @Test
    void parallelFacadeEqualsSpecOnResNetShapes() {
        // large enough to take the threaded paths: over images, and over channels of one image
        // every ResNet-32 geometry: the three stride-1 stages and the two stride-2 convolutions
        ConvGeometry[] shapes = {ConvGeometry.square(16, 32, 32, 3, 1, 1), ConvGeometry.square(32, 16, 16, 3, 1, 1),
                ConvGeometry.square(64, 8, 8, 3, 1, 1), ConvGeometry.square(16, 32, 32, 3, 2, 1), ConvGeometry.square(32, 16, 16, 3, 2, 1)};
        for (ConvGeometry g : shapes) for (int n : new int[] {1, 6}) {
            long cw = n * g.pixels();
            int c = g.channels(), h = g.height(), w = g.width();
            try (Tensor x = TestData.randomTensor(11, n, c, h, w); Tensor c1 = Tensor.allocate(DType.F32, g.patch(), (int) cw);
                 Tensor c2 = Tensor.allocate(DType.F32, g.patch(), (int) cw);
                 Tensor d1 = Tensor.allocate(DType.F32, n, c, h, w); Tensor d2 = Tensor.allocate(DType.F32, n, c, h, w)) {
                SCALAR.im2col(g, n, x.segment(), 0, g.imageSize(), c1.segment(), 0, cw);
                Im2col.im2colBatch(g, n, x.segment(), 0, c2.segment(), 0);
                assertBitsEqual(c1, c2, "im2colBatch " + g + " n=" + n);
                SCALAR.col2im(g, n, c1.segment(), 0, cw, d1.segment(), 0, g.imageSize());
                Im2col.col2imBatch(g, n, c1.segment(), 0, d2.segment(), 0);
                assertBitsEqual(d1, d2, "col2imBatch " + g + " n=" + n);
                try (Tensor d3 = Tensor.allocate(DType.F32, n, c, h, w)) { // and the SIMD twin itself, whatever the probe chose
                    SIMD.im2col(g, n, x.segment(), 0, g.imageSize(), c2.segment(), 0, cw);
                    assertBitsEqual(c1, c2, "SIMD im2col " + g + " n=" + n);
                    SIMD.col2im(g, n, c1.segment(), 0, cw, d3.segment(), 0, g.imageSize());
                    assertBitsEqual(d1, d3, "SIMD col2im " + g + " n=" + n);
                }
            }
        }
    }

    @Test
    void groupSliceThroughImageStride() {
        // group 1 of 2: channels 2..3 of a 4-channel image, via offset and image stride
        ConvGeometry full = ConvGeometry.square(4, 5, 6, 3, 1, 1), group = full.withChannels(2);
        int n = 3;
        long cw = n * group.pixels();
        try (Tensor x = TestData.randomTensor(3, n, 4, 5, 6); Tensor all = Tensor.allocate(DType.F32, full.patch(), (int) cw);
             Tensor part = Tensor.allocate(DType.F32, group.patch(), (int) cw)) {
            Im2col.im2colBatch(full, n, x.segment(), 0, all.segment(), 0);
            Im2col.im2col(group, n, x.segment(), 2L * 5 * 6, full.imageSize(), part.segment(), 0, cw);
            for (long i = 0; i < part.size(); i++) assertEquals(all.get(group.patch() * cw + i), part.get(i));
        }
    }

    @Test
    void facadeErrorsNameGeometryAndOperand() {
        ConvGeometry g = ConvGeometry.square(3, 8, 8, 3, 1, 1);
        try (Tensor x = Tensor.allocate(DType.F32, 2, 3, 8, 8); Tensor cols = Tensor.allocate(DType.F32, 27, 64)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Im2col.im2colBatch(g, 2, x.segment(), 0, cols.segment(), 0));
            assertTrue(e.getMessage().contains("cols (27, 128)") && e.getMessage().contains("input (3, 8, 8) kernel 3x3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Im2col.im2colBatch(g, 3, x.segment(), 0, cols.segment(), 0));
            assertTrue(e.getMessage().contains("x (3, 3, 8, 8)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Im2col.col2im(g, cols.segment(), 0, MemorySegment.NULL, 0));
            assertTrue(e.getMessage().contains("col2im") && e.getMessage().contains("x (1, 3, 8, 8)"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConvGeometry.square(1, 2, 2, 5, 1, 1));
        assertTrue(e.getMessage().contains("no output pixels") && e.getMessage().contains("kernel 5x5"), e.getMessage());
        assertEquals(16, ConvGeometry.square(16, 32, 32, 3, 2, 1).outH());
        assertEquals(32, ConvGeometry.square(16, 32, 32, 3, 1, 1).outW());
    }

    static void assertBitsEqual(Tensor a, Tensor b, String what) {
        assertEquals(a.size(), b.size());
        for (long i = 0; i < a.size(); i++) {
            if (Float.floatToRawIntBits(a.get(i)) != Float.floatToRawIntBits(b.get(i))) {
                fail(what + ": index " + i + " differs: " + a.get(i) + " vs " + b.get(i));
            }
        }
    }
}
