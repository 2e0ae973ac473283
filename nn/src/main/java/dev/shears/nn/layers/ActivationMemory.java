package dev.shears.nn.layers;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * The batch-sized memory of one network: each layer's outputs and input gradients (allocated in
 * {@link Layer#allocate}) plus scratch slots shared by all layers (im2col columns, transposed
 * outputs), sized to the largest request once every layer has allocated. Layers run one at a
 * time, so sharing a slot is safe. Tensors are cached by name, so a network can re-bind its
 * layers to a memory it used before (another batch size) without allocating.
 * Input gradients may be shared too ({@link #shareInputGradients}): a dx lives only from the
 * backward that writes it to the backward that reads it, so Sequential and Residual give each
 * child's dx a "colour" (one of a few network-wide buffers) that differs from every gradient
 * still live during that child's backward; layers outside such a container (a graph's nodes)
 * keep private buffers. Not thread-safe during allocation. Pinned by the layer tests,
 * NetworkTest and SharedGradientsTest (shared and private buffers give the same bits).
 */
public final class ActivationMemory implements AutoCloseable {
    /** Scratch slots: im2col columns (and their gradient), outputs in (C, N*H*W) order, per-thread weight-gradient partial sums. */
    public enum Slot { COLUMNS, ROWS, WEIGHT_GRADIENTS }

    private final Workspace workspace;
    private final long[] need = new long[Slot.values().length];
    private final MemorySegment[] scratch = new MemorySegment[Slot.values().length];
    private final java.util.Map<String, Tensor> tensors = new java.util.HashMap<>();
    private boolean finished;

    /** No colour: a private buffer, or no gradient at all. */
    public static final int NONE = -1;
    private static final int MAX_COLOURS = 63;
    private long colourFloats;                     // size of each shared gradient buffer; 0 = sharing off
    private final java.util.List<Tensor> colours = new java.util.ArrayList<>();
    private Scope scope;                           // the layer being allocated inside a sharing container, or null

    /**
     * The gradient context of one layer's {@link Layer#allocate}: the colour of the dy it
     * receives, the colours that must survive its backward (held by enclosing containers), the
     * colour its dx gets if it asks for one, and (set after the call) the colour of the dx it returns.
     */
    public static final class Scope {
        private final Layer owner;
        private final int incoming;
        private final long held;
        private final int target;
        private boolean taken;    // the layer took colour target for its dx
        private boolean declared; // a composite declared the colour of its dx
        private int result;

        private Scope(Layer owner, int incoming, long held, int target) {
            this.owner = owner;
            this.incoming = incoming;
            this.held = held;
            this.target = target;
            this.result = NONE;
        }

        /** The colour of the dy this layer's backward receives (NONE when private or unknown). */
        public int incoming() { return incoming; }

        /** Colours (bits) that stay live during this layer's whole backward. */
        public long held() { return held; }

        /** A composite declares the colour of the dx its backward returns. */
        public void returns(int colour) {
            result = colour;
            declared = true;
        }
    }

    public ActivationMemory(String name) {
        this.workspace = new Workspace(name);
    }

    /** A zeroed float tensor; asking again for the same name and shape returns the same tensor (no new memory). */
    public Tensor floats(String name, int... shape) {
        return cached(name, DType.F32, shape);
    }

    public Tensor ints(String name, int... shape) {
        return cached(name, DType.I32, shape);
    }

    private Tensor cached(String name, DType dtype, int[] shape) {
        Tensor t = tensors.get(name);
        if (t != null) {
            if (t.dtype() != dtype || !java.util.Arrays.equals(t.shape(), shape)) {
                throw new IllegalStateException("activation '" + name + "' was " + t.dtype() + " " + dev.shears.engine.Shape.str(t.shape())
                        + ", now asked as " + dtype + " " + dev.shears.engine.Shape.str(shape) + " (two layers with one name?)");
            }
            return t;
        }
        t = workspace.allocate(name, dtype, shape);
        tensors.put(name, t);
        return t;
    }

    /**
     * Turns on shared input gradients for the container {@code root} (its dy comes from outside):
     * each shared buffer holds {@code maxFloats} floats (the largest dx any layer asks for).
     */
    public void shareInputGradients(Layer root, long maxFloats) {
        colourFloats = Math.max(colourFloats, maxFloats);
        scope = new Scope(root, NONE, 0L, NONE);
    }

    /** The gradient context of {@code container}'s allocate, or null when it is not inside a sharing container. */
    public Scope scope(Layer container) {
        return scope != null && scope.owner == container ? scope : null;
    }

    /**
     * Allocates {@code child} inside its container's scope: the child's dy has colour
     * {@code incoming}, {@code held} must survive its backward; its own dx (if it asks through
     * {@link #inputGradient}) gets the lowest colour in neither. Returns the colour of the dx the
     * child returns: what a composite declared, its own colour if it took one, otherwise the
     * incoming one (an in-place or pass-through layer returns dy; a private buffer needs no colour,
     * and naming the incoming one only forbids more, never less).
     */
    public int allocateChild(Layer child, int batch, int incoming, long held) {
        Scope saved = scope;
        long busy = held | (incoming == NONE ? 0L : 1L << incoming);
        int target = Long.numberOfTrailingZeros(~busy);
        if (target >= MAX_COLOURS) throw new IllegalStateException("layer '" + child.name() + "': more than " + MAX_COLOURS + " live gradients");
        Scope s = new Scope(child, incoming, held, target);
        scope = s;
        try {
            child.allocate(this, batch);
        } finally {
            scope = saved;
        }
        return s.declared ? s.result : s.taken ? target : incoming;
    }

    /**
     * The input gradient (dx) buffer of {@code owner}: a view of a shared buffer when a container
     * gave {@code owner} a colour (see {@link #allocateChild}), else a private tensor as {@link #floats}.
     * A shared dx holds another layer's leftovers: backward must overwrite all of it.
     */
    public Tensor inputGradient(Layer owner, String name, int... shape) {
        long size = dev.shears.engine.Shape.size(shape);
        if (scope == null || scope.owner != owner || scope.target == NONE || size > colourFloats) return floats(name, shape);
        scope.taken = true;
        while (colours.size() <= scope.target) colours.add(null);
        Tensor buffer = colours.get(scope.target);
        if (buffer == null) {
            buffer = floats("gradient." + scope.target, Math.toIntExact(colourFloats));
            colours.set(scope.target, buffer);
        }
        return Tensor.wrap(name, DType.F32, buffer.segment().asSlice(0, size * Float.BYTES), shape);
    }

    /** Declares that a layer needs {@code floats} of scratch in {@code slot}; after {@link #finish} only what is already there. */
    public void reserve(Slot slot, long floats) {
        if (finished && floats > need[slot.ordinal()]) {
            throw new IllegalStateException("scratch " + slot + " of " + floats + " floats reserved after the activations were finished with "
                    + need[slot.ordinal()]);
        }
        need[slot.ordinal()] = Math.max(need[slot.ordinal()], floats);
    }

    /** Allocates the scratch slots at their largest requested size (once; later calls keep them). */
    public void finish() {
        if (finished) return;
        for (Slot s : Slot.values()) {
            if (need[s.ordinal()] > 0) scratch[s.ordinal()] = workspace.floats("scratch." + s, Math.toIntExact(need[s.ordinal()])).segment();
        }
        finished = true;
    }

    /** The scratch segment of a slot (at least what was reserved). */
    public MemorySegment scratch(Slot slot) {
        MemorySegment s = scratch[slot.ordinal()];
        if (s == null) throw new IllegalStateException("scratch slot " + slot + " was not reserved or the activations are not finished");
        return s;
    }

    /** Bytes held. */
    public long bytes() {
        return workspace.bytes();
    }

    @Override
    public void close() {
        workspace.close();
    }
}
