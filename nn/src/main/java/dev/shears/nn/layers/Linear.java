package dev.shears.nn.layers;

import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.Reductions;
import dev.shears.engine.kernels.Sparse;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;

/**
 * Fully connected layer y = x W^T + b, both directions as GEMMs. Weight (out, in) is prunable with
 * one MAC per weight per sample; the bias is optional and never prunable. Initialised as PyTorch's
 * default (U(+-1/sqrt(in)) for weight and bias). Pinned by GradientCheckTest.
 */
public final class Linear implements Layer {
    private final String name;
    private final int in, out;
    private final Parameter weight; // (out, in)
    private final Parameter bias;   // (out) or null
    private boolean needInputGradient = true;
    private SparseMatrix sparseWeight; // (out, in) CSR of the masked weight for eval-mode forward, or null (dense)
    private int batch;
    private Tensor x;    // (N, in): the last forward's input
    private Tensor y;    // (N, out)
    private Tensor dx;   // (N, in)

    public Linear(Params params, String name, int in, int out, boolean bias) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("layer '" + name + "': linear sizes must be positive, got in=" + in + " out=" + out);
        this.name = name;
        this.in = in;
        this.out = out;
        this.weight = params.parameter(name + ".weight", true, 1, out, in);
        this.bias = bias ? params.parameter(name + ".bias", false, 0, out) : null;
        double bound = 1.0 / Math.sqrt(in);
        params.uniform(weight.value(), bound);
        if (this.bias != null) params.uniform(this.bias.value(), bound);
    }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }

    /**
     * Eval-mode forward runs {@code s} (the masked weight (out, in), snapshotted by the caller,
     * see SparseInference) as an SpMV at batch 1 and a sparse linear when batched; null goes back
     * to dense. Training forward always uses the dense weight.
     */
    public void useSparseWeight(SparseMatrix s) {
        if (s != null && (s.rows() != out || s.cols() != in)) {
            throw new IllegalArgumentException("layer '" + name + "': sparse weight " + s + " does not fit the weight (" + out + ", " + in + ")");
        }
        sparseWeight = s;
    }

    /** The sparse weight eval-mode forward uses, or null when it runs dense. */
    public SparseMatrix sparseWeight() { return sparseWeight; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {in}; }
    @Override public int[] outputShape() { return new int[] {out}; }
    @Override public void skipInputGradient() { needInputGradient = false; }
    @Override public boolean ownsOutput() { return true; }
    @Override public boolean ownsInputGradient() { return needInputGradient; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", batch, out);
        dx = needInputGradient ? acts.floats(name + ".dx", batch, in) : null;
    }

    // x: (N, in) -> y: (N, out)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        this.x = x;
        MemorySegment ys = y.segment();
        if (!training && sparseWeight != null) {
            MemorySegment b = bias == null ? null : bias.value().segment();
            if (n == 1) Sparse.spmv(sparseWeight, x.segment(), 0, b, 0, ys, 0);
            else Sparse.linear(sparseWeight, n, x.segment(), 0, in, b, 0, ys, 0, out);
            return y;
        }
        Gemm.sgemm(false, true, n, out, in, 1f, x.segment(), 0, in, weight.value().segment(), 0, in, 0f, ys, 0, out);
        if (bias != null) {
            MemorySegment b = bias.value().segment();
            for (int i = 0; i < n; i++) Elementwise.addInPlace(ys, (long) i * out, b, 0, out);
        }
        return y;
    }

    // dy: (N, out) -> dx: (N, in); dW += dy^T x; db += sum_n dy
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        MemorySegment d = dy.segment();
        Gemm.sgemm(true, false, out, in, n, 1f, d, 0, out, x.segment(), 0, in, 1f, weight.grad().segment(), 0, in);
        if (bias != null) Reductions.columnSumsAdd(d, 0, n, out, bias.grad().segment(), 0);
        if (dx == null) return null;
        Gemm.sgemm(false, false, n, in, out, 1f, d, 0, out, weight.value().segment(), 0, in, 0f, dx.segment(), 0, in);
        return dx;
    }
}
