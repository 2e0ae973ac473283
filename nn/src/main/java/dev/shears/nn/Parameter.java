package dev.shears.nn;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A trainable tensor with its gradient and an optional pruning mask. Names follow PyTorch's
 * state_dict ({@code layer1.0.conv1.weight}). The mask is a float tensor of 0/1 of the same shape
 * (float, so re-masking is one SIMD multiply); null means dense. {@code prunable} marks the weights
 * of convolutions and linear layers, the only ones pruning ranks and counts (DESIGN.md).
 * Not an autograd node: layers write {@link #grad()} themselves, accumulating. Pinned by ParameterTest.
 */
public final class Parameter {
    private final String name;
    private final Tensor value; // shape: as the layer declares, e.g. (out, in/groups, kh, kw)
    private final Tensor grad;  // same shape as value, accumulated by backward, zeroed by the trainer
    private final boolean prunable;
    private final long macsPerWeight; // multiply-accumulates each weight does per sample (0 when not prunable)
    private Tensor mask;        // same shape, 0/1 floats; null = dense

    public Parameter(Workspace ws, String name, boolean prunable, long macsPerWeight, int... shape) {
        this.name = name;
        this.value = ws.floats(name, shape);
        this.grad = ws.floats(name + ".grad", shape);
        this.prunable = prunable;
        this.macsPerWeight = macsPerWeight;
    }

    public String name() { return name; }
    public Tensor value() { return value; }
    public Tensor grad() { return grad; }
    public boolean prunable() { return prunable; }
    public int[] shape() { return value.shape(); }
    public long size() { return value.size(); }

    /** MACs of one forward pass of one sample through this weight tensor (dense). */
    public long macs() { return macsPerWeight * value.size(); }

    public long macsPerWeight() { return macsPerWeight; }

    /** The mask, or null when dense. */
    public Tensor mask() { return mask; }

    /** Installs a 0/1 mask (copied) and zeroes the masked weights. */
    public void setMask(Workspace ws, float[] keep) {
        if (keep.length != value.size()) {
            throw new IllegalArgumentException("mask for '" + name + "' has " + keep.length + " entries, parameter " + Shape.str(value.shape()) + " has " + value.size());
        }
        if (mask == null) mask = ws.floats(name + ".mask", value.shape());
        for (int i = 0; i < keep.length; i++) {
            if (keep[i] != 0f && keep[i] != 1f) throw new IllegalArgumentException("mask for '" + name + "' must be 0 or 1, got " + keep[i] + " at " + i);
        }
        mask.copyFrom(keep);
        applyMask();
    }

    /** Removes the mask (the weights stay as they are). */
    public void clearMask() { mask = null; }

    /** value *= mask: pruned weights become exactly zero. */
    public void applyMask() {
        if (mask == null) return;
        // writes +0.0 (not w * 0, which gives -0.0 for negative w and NaN for NaN): pruned means exactly zero
        MemorySegment v = value.segment(), m = mask.segment();
        long n = value.size();
        for (long i = 0; i < n; i++) {
            if (m.getAtIndex(ValueLayout.JAVA_FLOAT, i) == 0f) v.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0f);
        }
    }

    /** Number of weights the mask keeps (all when dense). */
    public long kept() {
        if (mask == null) return value.size();
        MemorySegment m = mask.segment();
        long k = 0;
        for (long i = 0; i < value.size(); i++) if (m.getAtIndex(ValueLayout.JAVA_FLOAT, i) != 0f) k++;
        return k;
    }

    @Override
    public String toString() {
        return "Parameter[" + name + " " + Shape.str(value.shape()) + (prunable ? " prunable" : "") + (mask != null ? " masked" : "") + "]";
    }
}
