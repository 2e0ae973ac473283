package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Element-wise sum of two or more tensors of one shape (ONNX Add, a residual join in a graph):
 * y = x_0 + x_1 + ... into its own buffer; backward hands dy itself to every input (the
 * derivative of a sum is one), so nothing is copied. No broadcasting: a constant operand is
 * the importer's business (a bias or a scale). Pinned by GradientCheckTest.
 */
public final class Add implements MergeLayer {
    private final String name;
    private final int[] shape;
    private final int inputs;
    private int batch;
    private Tensor y; // (N, shape...)

    public Add(String name, List<int[]> inputShapes) {
        if (inputShapes.size() < 2) throw new IllegalArgumentException("layer '" + name + "': an add needs two or more inputs, got " + inputShapes.size());
        for (int[] s : inputShapes) {
            if (!Arrays.equals(s, inputShapes.getFirst())) {
                throw new IllegalArgumentException("layer '" + name + "': add inputs must have one shape, got " + Shape.str(inputShapes.getFirst())
                        + " and " + Shape.str(s));
            }
        }
        this.name = name;
        this.shape = inputShapes.getFirst().clone();
        this.inputs = inputShapes.size();
    }

    @Override public String name() { return name; }
    @Override public int[] outputShape() { return shape.clone(); }
    @Override public boolean passesGradientThrough() { return true; }

    @Override
    public List<int[]> inputShapes() {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < inputs; i++) out.add(shape.clone());
        return out;
    }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", Shapes.prepend(batch, shape));
    }

    // xs: inputs x (N, shape...) -> y = sum of xs: (N, shape...)
    @Override
    public Tensor forward(List<Tensor> xs, boolean training) {
        if (xs.size() != inputs) throw new IllegalArgumentException("layer '" + name + "' adds " + inputs + " inputs, got " + xs.size());
        for (Tensor x : xs) Shapes.requireBatch(name, Shapes.batchOf(name, x, shape), batch);
        int n = Math.toIntExact(y.size());
        Elementwise.add(xs.get(0).segment(), 0, xs.get(1).segment(), 0, y.segment(), 0, n);
        for (int i = 2; i < inputs; i++) Elementwise.addInPlace(y.segment(), 0, xs.get(i).segment(), 0, n);
        return y;
    }

    // dy: (N, shape...) -> dx_i = dy for every input
    @Override
    public List<Tensor> backward(Tensor dy) {
        Shapes.requireBatch(name, Shapes.batchOf(name, dy, shape), batch);
        return Collections.nCopies(inputs, dy);
    }
}
