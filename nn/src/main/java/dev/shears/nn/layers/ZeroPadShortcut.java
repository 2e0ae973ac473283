package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The parameter-free "option A" shortcut of He et al.'s CIFAR ResNets: x[:, :, ::s, ::s] with
 * zero channels added, (out - in) / 2 in front and the rest behind (torch: F.pad on the channel
 * axis). Pinned by GradientCheckTest and the golden tests.
 */
public final class ZeroPadShortcut implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final String name;
    private final int c, h, w, oc, oh, ow, stride, front;
    private int batch;
    private Tensor y, dx;

    public ZeroPadShortcut(String name, int[] inShape, int outChannels, int stride) {
        if (inShape.length != 3) throw new IllegalArgumentException("layer '" + name + "' expects (C, H, W) inputs, got rank " + inShape.length);
        if (outChannels < inShape[0] || stride < 1) {
            throw new IllegalArgumentException("layer '" + name + "': zero-pad shortcut cannot map " + inShape[0] + " to " + outChannels
                    + " channels with stride " + stride);
        }
        this.name = name;
        this.c = inShape[0];
        this.h = inShape[1];
        this.w = inShape[2];
        this.oc = outChannels;
        this.stride = stride;
        this.oh = (h + stride - 1) / stride;
        this.ow = (w + stride - 1) / stride;
        this.front = (outChannels - c) / 2;
    }

    /** The spatial subsampling step. */
    public int stride() { return stride; }
    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {oc, oh, ow}; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", batch, oc, oh, ow); // zero channels stay zero
        dx = acts.floats(name + ".dx", batch, c, h, w);
    }

    // x: (N, c, h, w) -> y: (N, oc, oh, ow)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment xs = x.segment(), ys = y.segment();
        Parallel.forRange(n * c, 1, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                int b = plane / c, ci = plane % c;
                long in = (long) plane * h * w, out = ((long) b * oc + ci + front) * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        ys.setAtIndex(F, out + (long) oy * ow + ox, xs.getAtIndex(F, in + (long) oy * stride * w + (long) ox * stride));
                    }
                }
            }
        });
        return y;
    }

    // dy: (N, oc, oh, ow) -> dx: (N, c, h, w), nonzero only at the sampled pixels
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment ds = dy.segment(), dxs = dx.segment();
        Parallel.forRange(n * c, 1, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                int b = plane / c, ci = plane % c;
                long in = (long) plane * h * w, out = ((long) b * oc + ci + front) * oh * ow;
                if (stride > 1) dxs.asSlice(in * 4, (long) h * w * 4).fill((byte) 0);
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        dxs.setAtIndex(F, in + (long) oy * stride * w + (long) ox * stride, ds.getAtIndex(F, out + (long) oy * ow + ox));
                    }
                }
            }
        });
        return dx;
    }
}
