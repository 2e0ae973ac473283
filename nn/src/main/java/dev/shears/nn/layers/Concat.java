package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Concatenation along the first per-sample axis (channels of (C, H, W), features of (F)): ONNX
 * Concat on axis 1, torch.cat(dim=1). Forward copies each input's per-sample block into place;
 * backward copies the matching slices of dy into one dx buffer per input (the blocks of one input
 * are not contiguous across the batch, so no views). Pinned by GradientCheckTest.
 */
public final class Concat implements MergeLayer {
    private final String name;
    private final List<int[]> inputs;
    private final int[] out;
    private final long[] block;   // floats of one sample of input i
    private final long outBlock;  // floats of one sample of the output
    private int batch;
    private Tensor y;
    private final List<Tensor> dx = new ArrayList<>();

    public Concat(String name, List<int[]> inputShapes) {
        if (inputShapes.size() < 2) throw new IllegalArgumentException("layer '" + name + "': a concat needs two or more inputs, got " + inputShapes.size());
        int[] first = inputShapes.getFirst();
        int channels = 0;
        for (int[] s : inputShapes) {
            boolean ok = s.length == first.length && s.length >= 1;
            for (int d = 1; ok && d < s.length; d++) ok = s[d] == first[d];
            if (!ok) {
                throw new IllegalArgumentException("layer '" + name + "': concat inputs must agree on every axis but the first, got "
                        + Shape.str(first) + " and " + Shape.str(s));
            }
            channels += s[0];
        }
        this.name = name;
        this.inputs = new ArrayList<>();
        this.block = new long[inputShapes.size()];
        for (int i = 0; i < inputShapes.size(); i++) {
            inputs.add(inputShapes.get(i).clone());
            block[i] = Shape.size(inputShapes.get(i));
        }
        this.out = first.clone();
        this.out[0] = channels;
        this.outBlock = Shape.size(out);
    }

    @Override public String name() { return name; }
    @Override public int[] outputShape() { return out.clone(); }
    @Override public boolean passesGradientThrough() { return false; }

    @Override
    public List<int[]> inputShapes() {
        List<int[]> copy = new ArrayList<>();
        for (int[] s : inputs) copy.add(s.clone());
        return copy;
    }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", Shapes.prepend(batch, out));
        dx.clear();
        for (int i = 0; i < inputs.size(); i++) dx.add(acts.floats(name + ".dx" + i, Shapes.prepend(batch, inputs.get(i))));
    }

    // xs: (N, c_i, ...) -> y: (N, sum c_i, ...)
    @Override
    public Tensor forward(List<Tensor> xs, boolean training) {
        if (xs.size() != inputs.size()) throw new IllegalArgumentException("layer '" + name + "' joins " + inputs.size() + " inputs, got " + xs.size());
        for (int i = 0; i < xs.size(); i++) Shapes.requireBatch(name, Shapes.batchOf(name, xs.get(i), inputs.get(i)), batch);
        MemorySegment ys = y.segment();
        long at = 0;
        for (int i = 0; i < xs.size(); i++) {
            MemorySegment xsI = xs.get(i).segment();
            for (int b = 0; b < batch; b++) MemorySegment.copy(xsI, b * block[i] * 4, ys, (b * outBlock + at) * 4, block[i] * 4);
            at += block[i];
        }
        return y;
    }

    // dy: (N, sum c_i, ...) -> dx_i: (N, c_i, ...), the matching slices
    @Override
    public List<Tensor> backward(Tensor dy) {
        Shapes.requireBatch(name, Shapes.batchOf(name, dy, out), batch);
        MemorySegment ds = dy.segment();
        long at = 0;
        for (int i = 0; i < inputs.size(); i++) {
            MemorySegment d = dx.get(i).segment();
            for (int b = 0; b < batch; b++) MemorySegment.copy(ds, (b * outBlock + at) * 4, d, b * block[i] * 4, block[i] * 4);
            at += block[i];
        }
        return List.copyOf(dx);
    }
}
