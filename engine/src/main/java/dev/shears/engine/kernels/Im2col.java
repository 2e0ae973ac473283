package dev.shears.engine.kernels;

import dev.shears.engine.Parallel;
import java.lang.foreign.MemorySegment;

/**
 * The im2col/col2im facade layers call: checks bounds (errors name the geometry and the operand),
 * then runs the selected twin, split over images (or channels, for one image) across the pool.
 * Layouts: one image gives cols {@code (C kH kW, outH outW)}; a batch gives
 * {@code (C kH kW, N outH outW)} with column {@code n * outH outW + p}, so one GEMM serves the
 * whole batch. col2im adds into x. Semantics in {@link Im2colKernel}. Pinned by Im2colTest.
 */
public final class Im2col {
    private static final Im2colKernel KERNEL = Twins.pick(Im2colKernel.class, "Im2colSimd", Im2colScalar::new);
    /** Below this many column entries a call runs on the calling thread. */
    private static final long PARALLEL_MIN = 1 << 16;

    private Im2col() {}

    /** One image {@code x (C, H, W)} into {@code cols (C kH kW, outH outW)}. */
    public static void im2col(ConvGeometry g, MemorySegment x, long xOffset, MemorySegment cols, long colsOffset) {
        im2col(g, 1, x, xOffset, g.imageSize(), cols, colsOffset, g.pixels());
    }

    /** A batch {@code x (N, C, H, W)} into {@code cols (C kH kW, N outH outW)}. */
    public static void im2colBatch(ConvGeometry g, int images, MemorySegment x, long xOffset, MemorySegment cols, long colsOffset) {
        im2col(g, images, x, xOffset, g.imageSize(), cols, colsOffset, images * g.pixels());
    }

    /**
     * General form: image n at {@code xOffset + n * imageStride} (a group's channels inside a
     * larger image: imageStride = all channels' C H W), cols rows {@code ldCols} floats apart.
     */
    public static void im2col(ConvGeometry g, int images, MemorySegment x, long xOffset, long imageStride,
                              MemorySegment cols, long colsOffset, long ldCols) {
        check("im2col", g, images, x, xOffset, imageStride, cols, colsOffset, ldCols);
        if (images == 0) return;
        split(g, images, (gg, n0, n1, c0) -> KERNEL.im2col(gg, n1 - n0, x, xOffset + n0 * imageStride + c0 * g.height() * (long) g.width(),
                imageStride, cols, colsOffset + (long) c0 * g.kernelH() * g.kernelW() * ldCols + n0 * g.pixels(), ldCols));
    }

    /** Adds {@code cols (C kH kW, outH outW)} back into one image {@code x (C, H, W)}. */
    public static void col2im(ConvGeometry g, MemorySegment cols, long colsOffset, MemorySegment x, long xOffset) {
        col2im(g, 1, cols, colsOffset, g.pixels(), x, xOffset, g.imageSize());
    }

    /** Adds {@code cols (C kH kW, N outH outW)} back into a batch {@code x (N, C, H, W)}. */
    public static void col2imBatch(ConvGeometry g, int images, MemorySegment cols, long colsOffset, MemorySegment x, long xOffset) {
        col2im(g, images, cols, colsOffset, images * g.pixels(), x, xOffset, g.imageSize());
    }

    /** General form of col2im; the layout is that of {@link #im2col(ConvGeometry, int, MemorySegment, long, long, MemorySegment, long, long)}. */
    public static void col2im(ConvGeometry g, int images, MemorySegment cols, long colsOffset, long ldCols,
                              MemorySegment x, long xOffset, long imageStride) {
        check("col2im", g, images, x, xOffset, imageStride, cols, colsOffset, ldCols);
        if (images == 0) return;
        // chunks touch disjoint images or channels, so their additions never race
        split(g, images, (gg, n0, n1, c0) -> KERNEL.col2im(gg, n1 - n0, cols, colsOffset + (long) c0 * g.kernelH() * g.kernelW() * ldCols
                + n0 * g.pixels(), ldCols, x, xOffset + n0 * imageStride + c0 * g.height() * (long) g.width(), imageStride));
    }

    private interface Chunk {
        void run(ConvGeometry g, int n0, int n1, int c0);
    }

    /** Splits over images when there are enough of them, else over channels of the single image. */
    private static void split(ConvGeometry g, int images, Chunk chunk) {
        long work = (long) g.patch() * images * g.pixels();
        if (work < PARALLEL_MIN || Parallel.threads() == 1) {
            chunk.run(g, 0, images, 0);
        } else if (images >= Parallel.threads() || g.channels() == 1) {
            Parallel.forRange(images, 1, (n0, n1) -> chunk.run(g, n0, n1, 0));
        } else {
            Parallel.forRange(g.channels(), 1, (c0, c1) -> chunk.run(g.withChannels(c1 - c0), 0, images, c0));
        }
    }

    private static void check(String kernel, ConvGeometry g, int images, MemorySegment x, long xOffset, long imageStride,
                              MemorySegment cols, long colsOffset, long ldCols) {
        if (g == null) throw new IllegalArgumentException(kernel + ": geometry is null");
        if (images > 0 && (images == 1 || imageStride >= g.imageSize()) && ldCols >= images * g.pixels()
                && KernelChecks.fits(x, xOffset, (images - 1) * imageStride + g.imageSize())
                && KernelChecks.fits(cols, colsOffset, (g.patch() - 1) * ldCols + images * g.pixels())) {
            return; // no message strings on the hot path
        }
        String where = kernel + " (" + g + ", " + images + " images)";
        KernelChecks.nonNegative(where, "images", images);
        if (images == 0) return;
        long colsWidth = images * g.pixels();
        if (images > 1 && imageStride < g.imageSize()) {
            throw new IllegalArgumentException(where + ": image stride " + imageStride + " is shorter than one image (C*H*W = " + g.imageSize() + ")");
        }
        if (ldCols < colsWidth) {
            throw new IllegalArgumentException(where + ": cols row stride " + ldCols + " is shorter than a row of " + colsWidth + " columns");
        }
        String xShape = "(" + images + ", " + g.channels() + ", " + g.height() + ", " + g.width() + ")";
        KernelChecks.floats(where, "x", xShape, x, xOffset, (images - 1) * imageStride + g.imageSize());
        KernelChecks.floats(where, "cols", KernelChecks.dims(g.patch(), colsWidth), cols, colsOffset, (g.patch() - 1) * ldCols + colsWidth);
    }
}
