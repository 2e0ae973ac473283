package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * im2col and its adjoint col2im for NCHW images (offsets and strides count floats). For image
 * {@code n} of {@code images}, input channel {@code c}, window cell {@code (i, j)} and output pixel
 * {@code p = oy * outW + ox}, the column matrix holds, at row {@code r = (c * kH + i) * kW + j} and
 * column {@code n * pixels + p},
 * {@code x[n][c][oy * strideH - padH + i][ox * strideW - padW + j]}, or 0 outside the image.
 * Image {@code n} starts at {@code xOffset + n * imageStride}; row {@code r} of the columns at
 * {@code colsOffset + r * ldCols}. So a convolution is {@code W (Cout, C kH kW) x cols}.
 * col2im ADDS each column entry back into the image pixel it came from (padding is dropped).
 * Implementations: Im2colScalar (the spec) and the SIMD twin; callers go through {@link Im2col}.
 */
public interface Im2colKernel {
    void im2col(ConvGeometry g, int images, MemorySegment x, long xOffset, long imageStride,
                MemorySegment cols, long colsOffset, long ldCols);

    void col2im(ConvGeometry g, int images, MemorySegment cols, long colsOffset, long ldCols,
                MemorySegment x, long xOffset, long imageStride);
}
