package dev.shears.engine.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.testing.TestData;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The batch-norm family: the spec's statistics and backward sums against a double-precision
 * two-pass reference of the unfused composition (batch norm, then ReLU) on awkward shapes,
 * including a large channel mean that a plain one-pass variance would lose; the SIMD twin against
 * the spec (sums within a tolerance growing with their length, the normalise and dx passes bit
 * for bit); the threaded facade against the spec; facade errors.
 */
class BatchNormTest {
    private static final BatchNormKernel SCALAR = new BatchNormScalar();
    private static final BatchNormKernel SIMD = Twins.loadSimd(BatchNormKernel.class, "BatchNormSimd");
    private static final int[][] SHAPES = {{1, 1, 1}, {2, 1, 1}, {3, 2, 5}, {2, 3, 17}, {5, 4, 33}, {3, 5, 63}, {2, 3, 129}, {1, 2, 4098},
            {7, 3, 13}, {2, 2, 5000}, {128, 2, 64}};

    private static Tensor data(int n, long seed, float mean, float spread) {
        Tensor t = Tensor.allocate(DType.F32, Math.max(1, n));
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) t.set(i, (float) (mean + spread * (rng.nextDouble() * 2 - 1) + 0.1 * (i % 7)));
        return t;
    }

    private static double at(Tensor t, int i, int c, int j, int channels, int hw) {
        return t.get(((long) i * channels + c) * hw + j);
    }

    @Test
    void statisticsMatchATwoPassDoubleReference() {
        for (int[] s : SHAPES) {
            int images = s[0], channels = s[1], hw = s[2], count = images * hw;
            for (float shift : new float[] {0f, 300f}) { // 300: mean^2 / variance ~ 1e5, a naive E[x^2] - E[x]^2 in float fails
                try (Tensor x = data(images * channels * hw, hw * 31L + images, shift, 1f)) {
                    double[] mean = new double[channels], m2 = new double[channels];
                    for (BatchNormKernel k : new BatchNormKernel[] {SCALAR, SIMD}) {
                        k.moments(x.segment(), images, channels, hw, 0, channels, mean, m2);
                        for (int c = 0; c < channels; c++) {
                            double mu = 0, ss = 0;
                            for (int i = 0; i < images; i++) for (int j = 0; j < hw; j++) mu += at(x, i, c, j, channels, hw);
                            mu /= count;
                            for (int i = 0; i < images; i++) for (int j = 0; j < hw; j++) ss += Math.pow(at(x, i, c, j, channels, hw) - mu, 2);
                            String what = name(k) + " shape " + java.util.Arrays.toString(s) + " shift " + shift + " channel " + c;
                            assertEquals(mu, mean[c], 1e-6 * (1 + Math.abs(mu)), what + " mean");
                            assertEquals(ss, m2[c], 1e-4 * ss + TestData.sumTolerance(count) * 1e-2, what + " M2");
                        }
                    }
                }
            }
        }
    }

    @Test
    void normalizeIsTheAffineThenReluBitForBit() {
        for (int[] s : SHAPES) {
            int images = s[0], channels = s[1], hw = s[2], n = images * channels * hw;
            float[] scale = TestData.uniform(new SplittableRandom(hw), channels, -2, 2), shift = TestData.uniform(new SplittableRandom(hw + 1), channels, -1, 1);
            try (Tensor x = data(n, 7 + hw, 0, 2); Tensor want = Tensor.allocate(DType.F32, n); Tensor got = Tensor.allocate(DType.F32, n)) {
                for (boolean relu : new boolean[] {false, true}) {
                    for (int i = 0; i < images; i++) {
                        for (int c = 0; c < channels; c++) {
                            long at = ((long) i * channels + c) * hw;
                            Elementwise.affine(x.segment(), at, scale[c], shift[c], want.segment(), at, hw);
                            if (relu) Activations.reluForward(want.segment(), at, want.segment(), at, hw);
                        }
                    }
                    for (BatchNormKernel k : new BatchNormKernel[] {SCALAR, SIMD}) {
                        k.normalize(x.segment(), got.segment(), images, channels, hw, 0, channels, scale, shift, relu);
                        Im2colTest.assertBitsEqual(want, got, name(k) + " normalize relu=" + relu + " " + java.util.Arrays.toString(s));
                    }
                    BatchNorm.normalize(x.segment(), got.segment(), images, channels, hw, scale, shift, relu);
                    Im2colTest.assertBitsEqual(want, got, "facade normalize relu=" + relu);
                }
            }
        }
    }

    @Test
    void backwardMatchesTheUnfusedCompositionInDouble() {
        for (int[] s : SHAPES) {
            int images = s[0], channels = s[1], hw = s[2], n = images * channels * hw;
            SplittableRandom rng = new SplittableRandom(n);
            float[] scale = TestData.uniform(rng, channels, -2, 2), shift = TestData.uniform(rng, channels, -1, 1);
            float[] a = TestData.uniform(rng, channels, -2, 2), b = TestData.uniform(rng, channels, -1, 1), k = TestData.uniform(rng, channels, -1, 1);
            double[] mean = new double[channels];
            for (int c = 0; c < channels; c++) mean[c] = rng.nextDouble() - 0.5;
            try (Tensor x = data(n, 11 + hw, 0, 2); Tensor dy = data(n, 13 + hw, 0, 1);
                 Tensor want = Tensor.allocate(DType.F32, n); Tensor got = Tensor.allocate(DType.F32, n)) {
                for (boolean relu : new boolean[] {false, true}) {
                    float[] ms = relu ? scale : null, mh = relu ? shift : null;
                    // the unfused composition: g = relu'(z) dy (z = scale x + shift, one fma), sums of g in double, dx by affine2
                    double[] sumG = new double[channels], sumGX = new double[channels];
                    for (int i = 0; i < images; i++) {
                        for (int c = 0; c < channels; c++) {
                            long at = ((long) i * channels + c) * hw;
                            for (int j = 0; j < hw; j++) {
                                float v = x.get(at + j), g = dy.get(at + j);
                                if (relu && !(Math.fma(scale[c], v, shift[c]) > 0f)) g = 0f;
                                want.set(at + j, g);
                                sumG[c] += g;
                                sumGX[c] += (double) g * ((double) v - mean[c]);
                            }
                            Elementwise.affine2(a[c], want.segment(), at, b[c], x.segment(), at, k[c], want.segment(), at, hw);
                        }
                    }
                    for (BatchNormKernel kernel : new BatchNormKernel[] {SCALAR, SIMD}) {
                        double[] g1 = new double[channels], g2 = new double[channels];
                        kernel.backwardSums(dy.segment(), x.segment(), images, channels, hw, 0, channels, ms, mh, mean, g1, g2);
                        for (int c = 0; c < channels; c++) {
                            String what = name(kernel) + " relu=" + relu + " " + java.util.Arrays.toString(s) + " channel " + c;
                            assertEquals(sumG[c], g1[c], TestData.sumTolerance(images * hw), what + " sum g");
                            assertEquals(sumGX[c], g2[c], 3 * TestData.sumTolerance(images * hw), what + " sum g (x - mean)");
                        }
                        kernel.backwardInput(dy.segment(), x.segment(), got.segment(), images, channels, hw, 0, channels, ms, mh, a, b, k);
                        Im2colTest.assertBitsEqual(want, got, name(kernel) + " backwardInput relu=" + relu + " " + java.util.Arrays.toString(s));
                    }
                    // facade, in place (dx = dy) as a private gradient runs
                    try (Tensor inPlace = Tensor.allocate(DType.F32, n)) {
                        MemorySegment.copy(dy.segment(), 0, inPlace.segment(), 0, 4L * n);
                        BatchNorm.backwardInput(inPlace.segment(), x.segment(), inPlace.segment(), images, channels, hw, ms, mh, a, b, k);
                        Im2colTest.assertBitsEqual(want, inPlace, "facade backwardInput in place relu=" + relu);
                    }
                }
            }
        }
    }

    @Test
    void threadedFacadeEqualsTheSelectedTwinPerChannel() {
        int images = 16, channels = 6, hw = 1030; // large enough for the facade to split channels over the pool
        try (Tensor x = data(images * channels * hw, 3, 1, 2)) {
            double[] mean = new double[channels], m2 = new double[channels], mean1 = new double[channels], m21 = new double[channels];
            BatchNorm.moments(x.segment(), images, channels, hw, mean, m2);
            BatchNormKernel selected = dev.shears.engine.simd.SimdProbe.decision().enabled() ? SIMD : SCALAR;
            for (int c = 0; c < channels; c++) selected.moments(x.segment(), images, channels, hw, c, c + 1, mean1, m21);
            for (int c = 0; c < channels; c++) {
                assertEquals(Double.doubleToLongBits(mean1[c]), Double.doubleToLongBits(mean[c]), "channel " + c + " mean: one order at any split");
                assertEquals(Double.doubleToLongBits(m21[c]), Double.doubleToLongBits(m2[c]), "channel " + c + " M2");
            }
        }
    }

    /** The channel-by-channel facade calls give the bits of the pass-by-pass ones and call the step once per channel, between the passes. */
    @ParameterizedTest(name = "hw={0}")
    @ValueSource(ints = {700, 63}) // by channel, and (small planes) pass by pass
    void channelByChannelEqualsPassByPass(int hw) {
        int images = 9, channels = 5, n = images * channels * hw; // 700: large enough to split over the pool
        SplittableRandom rng = new SplittableRandom(29);
        float[] scale = TestData.uniform(rng, channels, -2, 2), shift = TestData.uniform(rng, channels, -1, 1);
        float[] a = TestData.uniform(rng, channels, -2, 2), b = TestData.uniform(rng, channels, -1, 1), k = TestData.uniform(rng, channels, -1, 1);
        try (Tensor x = data(n, 31, 0.5f, 2); Tensor dy = data(n, 37, 0, 1); Tensor y1 = Tensor.allocate(DType.F32, n); Tensor y2 = Tensor.allocate(DType.F32, n)) {
            double[] mean1 = new double[channels], m21 = new double[channels], mean2 = new double[channels], m22 = new double[channels];
            BatchNorm.moments(x.segment(), images, channels, hw, mean1, m21);
            BatchNorm.normalize(x.segment(), y1.segment(), images, channels, hw, scale, shift, true);
            float[] s2 = new float[channels], h2 = new float[channels];
            int[] calls = new int[channels];
            BatchNorm.trainingForward(x.segment(), y2.segment(), images, channels, hw, mean2, m22, c -> {
                calls[c]++;
                assertEquals(Double.doubleToLongBits(mean1[c]), Double.doubleToLongBits(mean2[c]), "channel " + c + " mean ready before its step");
                s2[c] = scale[c];
                h2[c] = shift[c];
            }, s2, h2, true);
            Im2colTest.assertBitsEqual(y1, y2, "trainingForward");
            double[] g1 = new double[channels], gx1 = new double[channels], g2 = new double[channels], gx2 = new double[channels];
            BatchNorm.backwardSums(dy.segment(), x.segment(), images, channels, hw, scale, shift, mean1, g1, gx1);
            BatchNorm.backwardInput(dy.segment(), x.segment(), y1.segment(), images, channels, hw, scale, shift, a, b, k);
            float[] a2 = new float[channels], b2 = new float[channels], k2 = new float[channels];
            BatchNorm.backward(dy.segment(), x.segment(), y2.segment(), images, channels, hw, scale, shift, mean1, g2, gx2, c -> {
                calls[c]++;
                assertEquals(Double.doubleToLongBits(gx1[c]), Double.doubleToLongBits(gx2[c]), "channel " + c + " sums ready before its step");
                a2[c] = a[c];
                b2[c] = b[c];
                k2[c] = k[c];
            }, a2, b2, k2);
            Im2colTest.assertBitsEqual(y1, y2, "backward");
            for (int c = 0; c < channels; c++) assertEquals(2, calls[c], "channel " + c + " steps");
        }
    }

    @Test
    void facadeErrorsNameTheKernelAndOperand() {
        try (Tensor x = Tensor.allocate(DType.F32, 12)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BatchNorm.moments(x.segment(), 2, 3, 3, new double[3], new double[3]));
            assertTrue(e.getMessage().contains("BatchNorm.moments") && e.getMessage().contains("x"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BatchNorm.normalize(x.segment(), x.segment(), 2, 3, 2, new float[2], new float[3], true));
            assertTrue(e.getMessage().contains("per-channel") && e.getMessage().contains("3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> BatchNorm.backwardSums(x.segment(), x.segment(), 2, 3, 2, new float[3], null,
                    new double[3], new double[3], new double[3]));
            assertTrue(e.getMessage().contains("ReLU mask"), e.getMessage());
        }
    }

    private static String name(BatchNormKernel k) {
        return k.getClass().getSimpleName();
    }
}
