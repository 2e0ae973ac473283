package dev.shears.nn.layers;

import dev.shears.engine.Tensor;
import java.util.List;

/**
 * A layer with several inputs (an element-wise add, a concatenation): the graph model's joins.
 * Per-sample shapes are fixed at construction; {@link #allocate} creates batch-sized buffers once.
 * {@code forward} returns a tensor the layer owns and never writes into its inputs; {@code backward(dy)}
 * returns one dx per input, which is dy itself when {@link #passesGradientThrough()} (so the
 * caller must not let anyone overwrite it while another input still needs it). Not a {@link Layer}:
 * a chain of layers has one input. Pinned by the gradient checks (GradientCheckTest).
 */
public interface MergeLayer {
    String name();

    /** Per-sample shape of each input. */
    List<int[]> inputShapes();

    /** Per-sample output shape. */
    int[] outputShape();

    /** Creates batch-sized buffers in {@code acts}. */
    void allocate(ActivationMemory acts, int batch);

    /** xs: one (N, inputShape_i...) tensor per input -> (N, outputShape...). */
    Tensor forward(List<Tensor> xs, boolean training);

    /** dy: (N, outputShape...) -> one dx per input. */
    List<Tensor> backward(Tensor dy);

    /** True when every dx backward returns is dy itself (shared by all inputs). */
    boolean passesGradientThrough();
}
