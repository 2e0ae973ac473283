package dev.shears.engine.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions with groups 1 (padding 0-2), behind the
 * {@link Conv} facade: which shapes take it ({@code -Dshears.conv.winograd=auto|on|off}), the
 * per-plan state (transformed filters, per-lane work arrays) and one batch chunk of forward,
 * weight gradient and input gradient. In the transform domain each of the 16 elements is one
 * GEMM: forward M[e] (out, tiles) = U[e] (out, in) . V[e] (in, tiles), 16 multiplies per 2x2
 * outputs instead of 36. dx is the same forward on dy with the flipped, transposed weight, whose
 * transform is U with rows and columns 0 and 3 swapped (G J = P G) read transposed; dW
 * runs F(3x3, 2x2) (the roles of A and G swap): dW = G^T (sum over tiles of (A dy A^T) (.) V) G,
 * one row-dot or GEMM "NT" per element with the tiles as the long reduction. Not a layer, no
 * threading of its own (Conv spreads the chunks). Pinned by WinogradTest and ConvTest.
 */
public final class Winograd {
    static final WinogradKernel KERNEL = Twins.pick(WinogradKernel.class, "WinogradSimd", WinogradScalar::new);
    /** Transform elements per tile (4x4). */
    static final int ELEMENTS = 16;
    /**
     * {@code auto} takes Winograd from this many input and output channels: below, the GEMMs'
     * reduction (in channels) is too short to pay for the transforms. Measured (jmh ConvCpuTime
     * winograd, one thread, batch 128, AVX-512): 3 -> 16 channels 0.6x forward, 0.8x backward;
     * 16 x 32x32 level to 1.2x; 32 x 16x16 and 64 x 8x8 1.1-1.4x (docs/convolution.md).
     */
    static final int AUTO_MIN_CHANNELS = 16;

    /**
     * Scratch per lane in floats (512 KiB: the transformed input and the products of a chunk).
     * Measured against 1 MiB (jmh ConvCpuTime winograd, one thread, batch 128): 32 x 16x16 and
     * 64 x 8x8 layers ran 5-15% faster with the smaller chunks, which stay in L2 next to the
     * GEMM's packed panels; 16 x 32x32 takes one image per chunk either way.
     */
    public static final long SCRATCH_FLOATS = 1L << 17;

    private Winograd() {}

    /** {@code -Dshears.conv.winograd}: auto (the measured rule), on (every eligible shape), off. */
    public enum Mode { AUTO, ON, OFF }

    /** The mode the system property asks for (read at every plan, so tests can switch it). */
    public static Mode mode() {
        String s = System.getProperty("shears.conv.winograd", "auto").trim();
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "auto", "" -> Mode.AUTO;
            case "on", "true" -> Mode.ON;
            case "off", "false" -> Mode.OFF;
            default -> throw new IllegalArgumentException("-Dshears.conv.winograd=" + s + ": expected auto, on or off");
        };
    }

    /** 3x3, stride 1, groups 1, padding at most 2 (dx then pads dy by 2 - pad). */
    public static boolean eligible(ConvShape s) {
        return s.kernel() == 3 && s.stride() == 1 && s.groups() == 1 && s.pad() <= 2;
    }

    /**
     * {@code auto} takes Winograd from this batch: one image of a 64 x 8x8 layer gives the 16
     * element GEMMs 16 columns each, too few for the micro-kernel (0.7x at batch 1), and dense
     * batch-1 inference of ResNet-32 ran 17% slower (2.89 against 3.38 ms thread CPU time).
     */
    static final int AUTO_MIN_BATCH = 8;

    /** Whether a plan for {@code s} at {@code batch} runs Winograd under {@code mode}. */
    public static boolean chosen(ConvShape s, int batch, Mode mode) {
        return switch (mode) {
            case OFF -> false;
            case ON -> eligible(s);
            case AUTO -> eligible(s) && s.in() >= AUTO_MIN_CHANNELS && s.out() >= AUTO_MIN_CHANNELS && batch >= AUTO_MIN_BATCH;
        };
    }

    /** Tiles of one output plane (2x2 each, ragged at odd sizes). */
    static int tiles(int oh, int ow) {
        return ((oh + 1) / 2) * ((ow + 1) / 2);
    }

    /** Floats of one lane's scratch per sample: two regions of 16 x max(in, out) x tiles (transformed input and products). */
    static long floatsPerSample(ConvShape s) {
        return 2L * ELEMENTS * Math.max(s.in(), s.out()) * Math.max(tiles(s.outH(), s.outW()), tiles(s.height(), s.width()));
    }

    /** Per-plan state: the transformed weight (rebuilt when the weight changes), per-lane work arrays, region size. */
    static final class State {
        final ConvShape shape;
        final int chunk;
        final long region;          // floats of one of a lane's two scratch regions
        final MemorySegment u;      // (16, out, in): G g G^T of the weight
        final float[][] work;       // (lanes, WinogradKernel.workFloats)
        final WinogradKernel kernel; // the twin that runs the transforms
        final MemorySegment seen;   // (out, in, 3, 3): the weight u was made from
        boolean current;            // whether u belongs to the weight in seen

        State(ConvShape s, int chunk, int lanes) {
            this(s, chunk, lanes, KERNEL);
        }

        /** With a given twin (tests run both). */
        State(ConvShape s, int chunk, int lanes, WinogradKernel kernel) {
            this.kernel = kernel;
            this.shape = s;
            this.chunk = chunk;
            this.region = floatsPerSample(s) / 2 * chunk;
            Arena arena = Arena.ofAuto();
            this.u = arena.allocate(4L * ELEMENTS * s.out() * s.in(), 64);
            this.seen = arena.allocate(4L * s.weightSize(), 64);
            int floats = Math.max(WinogradKernel.workFloats(s.outH(), s.outW()), WinogradKernel.workFloats(s.height(), s.width()));
            this.work = new float[lanes][floats];
        }

        /** Floats of per-lane partial sums of the weight gradient in the transform domain. */
        long partialFloats() { return (long) ELEMENTS * shape.out() * shape.in(); }
    }

    /**
     * U = G w G^T before a forward or backward, skipped when w still holds the values U was made
     * from: at batch 1 the transform cost as much as the convolution; the check is one vectorised
     * mismatch over the weight.
     */
    static void transformWeight(State st, MemorySegment w) {
        long bytes = st.seen.byteSize();
        if (st.current && MemorySegment.mismatch(w, 0, bytes, st.seen, 0, bytes) == -1) return;
        MemorySegment.copy(w, 0, st.seen, 0, bytes);
        WinogradScalar.filterTransform(w, st.shape.out(), st.shape.in(), st.u);
        st.current = true;
    }

    /**
     * Element e of the flipped weight's transform is element FLIP[e] of U, transposed: the flip
     * J g J gives G J g J G^T = P (G g G^T) P^T with P swapping rows 0 and 3 (G J = P G).
     */
    private static final int[] FLIP = flips();

    private static int[] flips() {
        int[] p = {3, 1, 2, 0}, flip = new int[ELEMENTS];
        for (int e = 0; e < ELEMENTS; e++) flip[e] = 4 * p[e / 4] + p[e % 4];
        return flip;
    }

    // x: (n, in, h, w) samples [n0, n0+nb) -> y: (n, out, oh, ow); scratch: the lane's two regions at off
    static void forwardChunk(State st, int lane, int n0, int nb, MemorySegment x, MemorySegment bias, MemorySegment y,
                             MemorySegment scratch, long off) {
        ConvShape s = st.shape;
        convolve(st.u, s.in(), s.height(), s.width(), s.pad(), s.out(), s.outH(), s.outW(), n0, nb, x, s.inputSize(), bias, y, s.outputSize(),
                scratch, off, off + st.region, st.work[lane], st.kernel, false);
    }

    // dy: (n, out, oh, ow) -> dx: (n, in, h, w), the convolution of dy with the flipped weight, padding 2 - pad
    static void inputGradientChunk(State st, int lane, int n0, int nb, MemorySegment dy, MemorySegment dx, MemorySegment scratch, long off) {
        ConvShape s = st.shape;
        convolve(st.u, s.out(), s.outH(), s.outW(), 2 - s.pad(), s.in(), s.height(), s.width(), n0, nb, dy, s.outputSize(), null, dx, s.inputSize(),
                scratch, off, off + st.region, st.work[lane], st.kernel, true);
    }

    /**
     * One chunk of a Winograd convolution with transformed weight u (16, out, in), or with
     * {@code flipped} the one of the flipped weight: u then is (16, in, out) of this call's channels,
     * element FLIP[e] read transposed.
     */
    private static void convolve(MemorySegment u, int in, int h, int w, int pad, int out, int oh, int ow, int n0, int nb,
                                 MemorySegment x, long xImage, MemorySegment bias, MemorySegment y, long yImage,
                                 MemorySegment scratch, long vOff, long mOff, float[] work, WinogradKernel kernel, boolean flipped) {
        int perImage = tiles(oh, ow), t = nb * perImage;
        for (int b = 0; b < nb; b++) {
            kernel.inputTransform(x, (n0 + b) * xImage, in, h, w, pad, oh, ow, scratch, vOff, t, b * perImage, work);
        }
        for (int e = 0; e < ELEMENTS; e++) { // M[e] (out, t) = U[e] (out, in) . V[e] (in, t)
            Gemm.sgemm(flipped, false, out, t, in, 1f, u, (long) (flipped ? FLIP[e] : e) * out * in, flipped ? out : in,
                    scratch, vOff + (long) e * in * t, t, 0f, scratch, mOff + (long) e * out * t, t);
        }
        for (int b = 0; b < nb; b++) {
            kernel.outputTransform(scratch, mOff, out, t, b * perImage, oh, ow, bias, y, (n0 + b) * yImage, work);
        }
    }

    /**
     * One chunk's weight gradient in the transform domain: partial[e] (out, in) += Z[e] (out, t) . V[e] (in, t)^T
     * with Z = A dy A^T, V = B^T x B; finished by {@link #finishWeightGradient}.
     */
    static void weightGradientChunk(State st, int lane, int n0, int nb, MemorySegment x, MemorySegment dy,
                                    MemorySegment partials, long partialOff, MemorySegment scratch, long off) {
        ConvShape s = st.shape;
        int in = s.in(), out = s.out(), perImage = tiles(s.outH(), s.outW()), t = nb * perImage;
        long vOff = off, zOff = off + st.region;
        float[] work = st.work[lane];
        for (int b = 0; b < nb; b++) {
            st.kernel.inputTransform(x, (n0 + b) * s.inputSize(), in, s.height(), s.width(), s.pad(), s.outH(), s.outW(), scratch, vOff, t, b * perImage, work);
            st.kernel.gradientTransform(dy, (n0 + b) * s.outputSize(), out, s.outH(), s.outW(), scratch, zOff, t, b * perImage, work);
        }
        for (int e = 0; e < ELEMENTS; e++) {
            long z = zOff + (long) e * out * t, v = vOff + (long) e * in * t, p = partialOff + (long) e * out * in;
            if (out <= Conv.ROW_DOT_MAX_ROWS) {
                RowDot.accumulate(out, in, t, scratch, z, t, scratch, v, t, partials, p, in);
            } else {
                Gemm.sgemm(false, true, out, in, t, 1f, scratch, z, t, scratch, v, t, 1f, partials, p, in);
            }
        }
    }

    /** dw (out, in, 3, 3) += G^T (sum of the lanes' partials, in lane order) G. */
    static void finishWeightGradient(State st, MemorySegment partials, int lanes, MemorySegment dw) {
        long size = st.partialFloats();
        for (int l = 1; l < lanes; l++) Elementwise.addInPlace(partials, 0, partials, l * size, Math.toIntExact(size));
        WinogradScalar.weightGradientTransform(partials, 0, st.shape.out(), st.shape.in(), dw);
    }
}
