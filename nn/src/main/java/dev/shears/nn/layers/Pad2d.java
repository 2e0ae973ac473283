package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Zero padding of NCHW, each side on its own (ONNX Pad in constant mode with value 0, torch
 * F.pad): (C, H, W) -> (front + C + back, top + H + bottom, left + W + right); channel padding is
 * the parameter-free shortcut of the CIFAR ResNets. The output's border is written zero once at
 * allocation and never touched again; backward is the interior of dy. Pinned by
 * GraphLayersGradientTest.
 */
public final class Pad2d implements Layer {
    private final String name;
    private final int c, h, w, front, back, top, bottom, left, right, oc, oh, ow;
    private int batch;
    private Tensor y, dx;

    /** Spatial padding only. */
    public Pad2d(String name, int[] inShape, int top, int bottom, int left, int right) {
        this(name, inShape, 0, 0, top, bottom, left, right);
    }

    public Pad2d(String name, int[] inShape, int front, int back, int top, int bottom, int left, int right) {
        if (inShape.length != 3) throw new IllegalArgumentException("layer '" + name + "' expects (C, H, W) inputs, got rank " + inShape.length);
        if (front < 0 || back < 0 || top < 0 || bottom < 0 || left < 0 || right < 0) {
            throw new IllegalArgumentException("layer '" + name + "': padding must not be negative (cropping is not supported), got front=" + front
                    + " back=" + back + " top=" + top + " bottom=" + bottom + " left=" + left + " right=" + right);
        }
        this.front = front;
        this.back = back;
        this.name = name;
        this.c = inShape[0];
        this.h = inShape[1];
        this.w = inShape[2];
        this.top = top;
        this.bottom = bottom;
        this.left = left;
        this.right = right;
        this.oc = c + front + back;
        this.oh = h + top + bottom;
        this.ow = w + left + right;
    }

    /** Padding as {front, back, top, bottom, left, right}. */
    public int[] padding() { return new int[] {front, back, top, bottom, left, right}; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {oc, oh, ow}; }
    @Override public boolean ownsOutput() { return true; }
    @Override public boolean ownsInputGradient() { return true; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", batch, oc, oh, ow); // zeroed: the border stays zero
        dx = acts.floats(name + ".dx", batch, c, h, w);
    }

    // x: (N, c, h, w) -> y: (N, oc, oh, ow), x in the interior
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment xs = x.segment(), ys = y.segment();
        Parallel.forRange(n * c, 16, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long in = (long) plane * h * w, out = ((long) (plane / c) * oc + front + plane % c) * oh * ow + (long) top * ow + left;
                for (int r = 0; r < h; r++) MemorySegment.copy(xs, (in + (long) r * w) * 4, ys, (out + (long) r * ow) * 4, (long) w * 4);
            }
        });
        return y;
    }

    // dy: (N, oc, oh, ow) -> dx: (N, c, h, w), the interior of dy
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment ds = dy.segment(), dxs = dx.segment();
        Parallel.forRange(n * c, 16, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long in = (long) plane * h * w, out = ((long) (plane / c) * oc + front + plane % c) * oh * ow + (long) top * ow + left;
                for (int r = 0; r < h; r++) MemorySegment.copy(ds, (out + (long) r * ow) * 4, dxs, (in + (long) r * w) * 4, (long) w * 4);
            }
        });
        return dx;
    }
}
