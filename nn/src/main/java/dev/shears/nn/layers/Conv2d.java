package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Conv;
import dev.shears.engine.kernels.ConvShape;
import dev.shears.engine.kernels.SparseDirectConv;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;

/**
 * 2-D convolution (square kernel, stride, zero padding, dilation 1, groups, optional bias) over
 * NCHW: its parameters, shapes and the order of its steps. The arithmetic, threading and scratch
 * layout live behind the engine's {@link Conv} facade (im2col + GEMM over batch chunks, direct
 * depthwise twins, sparse eval paths); this class only binds its tensors and scratch slots to it.
 * The weight (out, in/groups, k, k) is prunable with OH*OW MACs per weight. Init: Kaiming normal
 * (fan_out, ReLU gain) as torchvision; bias as PyTorch's default. Pinned by GradientCheckTest.
 */
public final class Conv2d implements Layer {
    /** Target im2col chunk per thread in floats (see {@link Conv#COLUMN_FLOATS}). */
    static final long COLUMN_FLOATS = Conv.COLUMN_FLOATS;

    private final String name;
    private final int c, h, w;        // input channels, height, width
    private final int oc, oh, ow;     // output channels, height, width
    private final int k, stride, pad, groups;
    private final int ckk;            // in/groups * k * k: one output channel's weights
    private final boolean pointwise;
    private final ConvShape shape;
    private final Parameter weight;   // (oc, c/groups, k, k)
    private final Parameter bias;     // (oc) or null
    private boolean needInputGradient = true;
    private SparseMatrix sparseWeight; // (oc, ckk) CSR of the masked weight for eval-mode forward, or null (dense)
    private SparseDirectConv sparseDirect; // the same nonzeros as padded-input offsets (k > 1 or strided/padded 1x1)

    private long columnFloats = COLUMN_FLOATS;
    private ActivationMemory acts;
    private int batch;
    private Conv.Plan plan;           // chunking, lanes and scratch sizes for this batch
    private Tensor x;                 // (N, c, h, w): the last forward's input
    private Tensor y;                 // (N, oc, oh, ow)
    private Tensor dx;                // (N, c, h, w)

    public Conv2d(Params params, String name, int[] inShape, int outChannels, int kernel, int stride, int padding, int groups, boolean bias) {
        if (inShape.length != 3) throw new IllegalArgumentException("layer '" + name + "' expects (C, H, W) inputs, got rank " + inShape.length);
        if (kernel < 1 || stride < 1 || padding < 0 || groups < 1 || outChannels < 1) {
            throw new IllegalArgumentException("layer '" + name + "': bad conv settings kernel=" + kernel + " stride=" + stride
                    + " padding=" + padding + " groups=" + groups + " out=" + outChannels);
        }
        if (inShape[0] % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("layer '" + name + "': groups=" + groups + " must divide in channels " + inShape[0]
                    + " and out channels " + outChannels);
        }
        this.name = name;
        this.c = inShape[0];
        this.h = inShape[1];
        this.w = inShape[2];
        this.oc = outChannels;
        this.k = kernel;
        this.stride = stride;
        this.pad = padding;
        this.groups = groups;
        this.oh = Shapes.outSize(name, h, kernel, stride, padding);
        this.ow = Shapes.outSize(name, w, kernel, stride, padding);
        this.shape = new ConvShape(c, h, w, outChannels, kernel, stride, padding, groups);
        this.ckk = shape.patch();
        this.pointwise = shape.pointwise();
        this.weight = params.parameter(name + ".weight", true, (long) oh * ow, oc, c / groups, k, k);
        this.bias = bias ? params.parameter(name + ".bias", false, 0, oc) : null;
        params.normal(weight.value(), Math.sqrt(2.0 / ((double) oc * k * k)));
        if (this.bias != null) params.uniform(this.bias.value(), 1.0 / Math.sqrt(ckk));
    }

    /** Caps the im2col chunk (tests force small chunks with it); call before {@link #allocate}. */
    void limitColumns(long floats) { columnFloats = Math.max(1, floats); }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }
    public int groups() { return groups; }
    public int kernel() { return k; }
    public int stride() { return stride; }
    public int padding() { return pad; }

    /**
     * Eval-mode forward runs {@code s} (the masked weight as (oc, c*k*k), snapshotted by the
     * caller, see SparseInference) through the sparse SpMM instead of the GEMM; null goes back to
     * dense. Training forward always uses the dense weight. Only for groups == 1.
     */
    public void useSparseWeight(SparseMatrix s) {
        useSparseWeight(s, false);
    }

    /**
     * As {@link #useSparseWeight(SparseMatrix)}; with {@code direct} (and k > 1, stride or padding)
     * eval forward skips im2col and runs the nonzeros straight over the padded input, which wins
     * on small late layers at batch 1 and loses on large early ones (SparseInference times both).
     */
    public void useSparseWeight(SparseMatrix s, boolean direct) {
        if (s != null && (groups != 1 || s.rows() != oc || s.cols() != ckk)) {
            throw new IllegalArgumentException("layer '" + name + "': sparse weight " + s + " does not fit a groups=1 conv weight (" + oc + ", " + ckk
                    + "), groups=" + groups);
        }
        sparseWeight = s;
        sparseDirect = s == null || pointwise || !direct ? null
                : new SparseDirectConv(s, bias == null ? null : bias.value().toFloatArray(), c, h, w, oc, oh, ow, k, stride, pad,
                        Math.max(1, Parallel.threads()));
    }

    /** The sparse weight eval-mode forward uses, or null when it runs dense. */
    public SparseMatrix sparseWeight() { return sparseWeight; }

    /** Whether eval forward runs the sparse weight without im2col. */
    public boolean sparseDirect() { return sparseDirect != null; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {oc, oh, ow}; }
    @Override public void skipInputGradient() { needInputGradient = false; }
    @Override public boolean ownsOutput() { return true; }
    @Override public boolean ownsInputGradient() { return needInputGradient; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.acts = acts;
        this.batch = batch;
        y = acts.floats(name + ".out", batch, oc, oh, ow);
        dx = needInputGradient ? acts.inputGradient(this, name + ".dx", batch, c, h, w) : null;
        plan = Conv.plan(shape, batch, columnFloats, needInputGradient);
        if (plan.columnFloats() > 0) acts.reserve(ActivationMemory.Slot.COLUMNS, plan.columnFloats());
        if (plan.rowFloats() > 0) acts.reserve(ActivationMemory.Slot.ROWS, plan.rowFloats());
        if (plan.partialFloats() > 0) acts.reserve(ActivationMemory.Slot.WEIGHT_GRADIENTS, plan.partialFloats());
    }

    /** The scratch slots this layer's plan asked for (shared with the other layers). */
    private Conv.Scratch scratch() {
        return new Conv.Scratch(plan.columnFloats() > 0 ? acts.scratch(ActivationMemory.Slot.COLUMNS) : null,
                plan.rowFloats() > 0 ? acts.scratch(ActivationMemory.Slot.ROWS) : null,
                plan.partialFloats() > 0 ? acts.scratch(ActivationMemory.Slot.WEIGHT_GRADIENTS) : null);
    }

    // x: (N, c, h, w) -> y: (N, oc, oh, ow)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        this.x = x;
        MemorySegment bs = bias == null ? null : bias.value().segment();
        if (!training && sparseWeight != null) {
            Conv.sparseForward(plan, scratch(), n, sparseWeight, sparseDirect, x.segment(), bs, y.segment());
        } else {
            Conv.forward(plan, scratch(), n, x.segment(), weight.value().segment(), bs, y.segment());
        }
        return y;
    }

    // dy: (N, oc, oh, ow) -> dx: (N, c, h, w); dW += dy_rows . columns^T; db += sum dy
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        Conv.backward(plan, scratch(), n, x.segment(), weight.value().segment(), dy.segment(), weight.grad().segment(),
                bias == null ? null : bias.grad().segment(), dx == null ? null : dx.segment());
        return dx;
    }
}
