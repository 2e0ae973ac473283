package dev.shears.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The im2col/col2im spec, written plainly: one bounds test per column entry. The SIMD twin must
 * match it exactly (both only copy, or add in the same order). Pinned by Im2colTest, which also
 * checks it against a naive double-precision convolution and the adjoint identity.
 */
public final class Im2colScalar implements Im2colKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public void im2col(ConvGeometry g, int images, MemorySegment x, long xOffset, long imageStride,
                       MemorySegment cols, long colsOffset, long ldCols) {
        int h = g.height(), w = g.width(), oh = g.outH(), ow = g.outW();
        long pixels = g.pixels();
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * g.strideH() - g.padH() + i;
                            for (int ox = 0; ox < ow; ox++) {
                                int ix = ox * g.strideW() - g.padW() + j;
                                boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                                float v = inside ? x.getAtIndex(F, plane + (long) iy * w + ix) : 0f;
                                cols.setAtIndex(F, row + (long) oy * ow + ox, v);
                            }
                        }
                    }
                }
            }
        }
    }

    @Override
    public void col2im(ConvGeometry g, int images, MemorySegment cols, long colsOffset, long ldCols,
                       MemorySegment x, long xOffset, long imageStride) {
        int h = g.height(), w = g.width(), oh = g.outH(), ow = g.outW();
        long pixels = g.pixels();
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < g.channels(); c++) {
                long plane = xOffset + n * imageStride + (long) c * h * w;
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        long row = colsOffset + ((long) (c * g.kernelH() + i) * g.kernelW() + j) * ldCols + n * pixels;
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * g.strideH() - g.padH() + i;
                            for (int ox = 0; ox < ow; ox++) {
                                int ix = ox * g.strideW() - g.padW() + j;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    long xi = plane + (long) iy * w + ix;
                                    x.setAtIndex(F, xi, x.getAtIndex(F, xi) + cols.getAtIndex(F, row + (long) oy * ow + ox));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
