package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Max pooling over NCHW (square window, stride, implicit -inf padding, as PyTorch). Forward keeps
 * the flat input index of each window's maximum (the first one on ties); backward routes dy there.
 * Parallel over planes. Pinned by GradientCheckTest.
 */
public final class MaxPool2d implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    private final String name;
    private final int c, h, w, k, stride, pad, oh, ow;
    private int batch;
    private Tensor y, dx;      // (N, c, oh, ow), (N, c, h, w)
    private Tensor argmax;     // (N, c, oh, ow) ints: index within the input plane

    public MaxPool2d(String name, int[] inShape, int kernel, int stride, int padding) {
        if (inShape.length != 3) throw new IllegalArgumentException("layer '" + name + "' expects (C, H, W) inputs, got rank " + inShape.length);
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException("layer '" + name + "': bad pool settings kernel=" + kernel + " stride=" + stride + " padding=" + padding
                    + " (padding must be at most half the kernel)");
        }
        this.name = name;
        this.c = inShape[0];
        this.h = inShape[1];
        this.w = inShape[2];
        this.k = kernel;
        this.stride = stride;
        this.pad = padding;
        this.oh = Shapes.outSize(name, h, kernel, stride, padding);
        this.ow = Shapes.outSize(name, w, kernel, stride, padding);
    }

    public int kernel() { return k; }
    public int stride() { return stride; }
    public int padding() { return pad; }
    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {c, oh, ow}; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", batch, c, oh, ow);
        argmax = acts.ints(name + ".argmax", batch, c, oh, ow);
        dx = acts.floats(name + ".dx", batch, c, h, w);
    }

    // x: (N, c, h, w) -> y: (N, c, oh, ow)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment xs = x.segment(), ys = y.segment(), am = argmax.segment();
        Parallel.forRange(n * c, 1, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long in = (long) plane * h * w, out = (long) plane * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int at = -1;
                        for (int ki = 0; ki < k; ki++) {
                            int iy = oy * stride - pad + ki;
                            if (iy < 0 || iy >= h) continue;
                            for (int kj = 0; kj < k; kj++) {
                                int ix = ox * stride - pad + kj;
                                if (ix < 0 || ix >= w) continue;
                                float v = xs.getAtIndex(F, in + (long) iy * w + ix);
                                if (v > best || at < 0 || Float.isNaN(v)) {
                                    best = v;
                                    at = iy * w + ix;
                                    if (Float.isNaN(v)) break;
                                }
                            }
                        }
                        ys.setAtIndex(F, out + (long) oy * ow + ox, best);
                        am.setAtIndex(I, out + (long) oy * ow + ox, at);
                    }
                }
            }
        });
        return y;
    }

    // dy: (N, c, oh, ow) -> dx: (N, c, h, w), dy added at each window's argmax
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment ds = dy.segment(), dxs = dx.segment(), am = argmax.segment();
        Parallel.forRange(n * c, 1, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long in = (long) plane * h * w, out = (long) plane * oh * ow;
                dxs.asSlice(in * 4, (long) h * w * 4).fill((byte) 0);
                for (int i = 0; i < oh * ow; i++) {
                    long at = in + am.getAtIndex(I, out + i);
                    dxs.setAtIndex(F, at, dxs.getAtIndex(F, at) + ds.getAtIndex(F, out + i));
                }
            }
        });
        return dx;
    }
}
