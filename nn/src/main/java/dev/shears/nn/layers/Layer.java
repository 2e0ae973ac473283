package dev.shears.nn.layers;

import dev.shears.engine.Tensor;

/**
 * One step of a network as a forward/backward pair over a batch (llm.c style, no autograd tape).
 * Shapes are fixed at construction per sample ({@link #inputShape()}, {@link #outputShape()});
 * {@link #allocate} creates the batch-sized outputs and gradients once. {@code forward} returns a
 * tensor the layer owns; {@code backward(dy)} accumulates parameter gradients into
 * {@link dev.shears.nn.Parameter#grad()} and returns dx (owned by the layer). Backward uses what
 * the last forward saw; it may overwrite dy only when {@link #overwritesGradient()} says so.
 * Pinned by the per-layer gradient checks (GradientCheckTest).
 */
public interface Layer {
    String name();

    /** Per-sample input shape, e.g. (C, H, W) or (F). */
    int[] inputShape();

    /** Per-sample output shape. */
    int[] outputShape();

    /** Creates batch-sized buffers in {@code acts}; called again (with a fresh workspace) when the batch size changes. */
    void allocate(ActivationMemory acts, int batch);

    /** x: (N, inputShape...) -> (N, outputShape...). */
    Tensor forward(Tensor x, boolean training);

    /** dy: (N, outputShape...) -> dx: (N, inputShape...), or null after {@link #skipInputGradient()}. */
    Tensor backward(Tensor dy);

    /** The network's first layer: dx is never needed, so backward may skip computing it. */
    default void skipInputGradient() {}

    /** True when backward writes into dy (an in-place layer); a residual branch must not end with one. */
    default boolean overwritesGradient() { return false; }

    /** True when forward writes into x (an in-place layer). */
    default boolean overwritesInput() { return false; }

    /**
     * True when forward returns a buffer this layer owns, that its backward never reads and that
     * aliases nothing else: a following residual add may then accumulate into it in place.
     */
    default boolean ownsOutput() { return false; }

    /**
     * True when the dx backward returns is private: a buffer no one else reads afterwards (its own,
     * or the private dy it was told it may overwrite). A residual add may accumulate into it.
     */
    default boolean ownsInputGradient() { return false; }

    /** True when backward returns dy itself or a view of it (in-place or reshaping layers). */
    default boolean passesGradientThrough() { return false; }

    /**
     * Called by the container before {@link #allocate}: the dy this layer's backward receives is
     * read by no one after it, so the layer may compute dx into it and allocate no dx of its own.
     */
    default void receivesPrivateGradient() {}
}
