package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Activations;
import dev.shears.engine.kernels.Elementwise;
import java.util.Arrays;

/**
 * Residual add: y = main(x) + shortcut(x), the shortcut being the identity when null. Backward
 * sends dy down both branches and adds their dx. Neither branch may write into its input or
 * its dy (both are shared); the constructor checks. Activation after the add is a separate
 * layer, which a Sequential may run inside this join's add ({@link #forwardRelu}); a ReLU just
 * before the join may have its backward run inside the join's gradient add. When the main branch
 * owns its output (and its dx) the sums are accumulated there in place, so a block needs no
 * buffers of its own. Pinned by GradientCheckTest, BatchNormReluTest and the golden tests.
 */
public final class Residual implements Layer {
    private final String name;
    private final Layer main;
    private final Layer shortcut; // null = identity
    private final boolean addIntoMain;       // forward adds the shortcut into main's output buffer
    private final boolean addIntoMainGradient; // backward adds the shortcut's dx into main's dx buffer
    private boolean maskInputGradient;        // the layer before is a ReLU whose backward runs in this join's add
    private int batch;
    private Tensor x;     // the last forward's input (the preceding ReLU's output when maskInputGradient)
    private Tensor y, dx; // own buffers, only when the in-place adds are not allowed

    public Residual(String name, Layer main, Layer shortcut) {
        int[] in = main.inputShape(), out = main.outputShape();
        int[] sIn = shortcut == null ? in : shortcut.inputShape(), sOut = shortcut == null ? in : shortcut.outputShape();
        if (!Arrays.equals(in, sIn) || !Arrays.equals(out, sOut)) {
            throw new IllegalArgumentException("residual '" + name + "': main branch maps " + Shape.str(in) + " -> " + Shape.str(out)
                    + " but the shortcut maps " + Shape.str(sIn) + " -> " + Shape.str(sOut));
        }
        for (Layer b : shortcut == null ? new Layer[] {main} : new Layer[] {main, shortcut}) {
            if (b.overwritesInput() || b.overwritesGradient()) {
                throw new IllegalArgumentException("residual '" + name + "': branch '" + b.name() + "' works in place on a shared tensor");
            }
        }
        this.name = name;
        this.main = main;
        this.shortcut = shortcut;
        this.addIntoMain = main.ownsOutput();
        this.addIntoMainGradient = main.ownsInputGradient();
    }

    public Layer main() { return main; }
    /** The shortcut branch, or null for the identity. */
    public Layer shortcut() { return shortcut; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return main.inputShape(); }
    @Override public int[] outputShape() { return main.outputShape(); }
    @Override public boolean ownsOutput() { return true; }
    @Override public boolean ownsInputGradient() { return true; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        ActivationMemory.Scope scope = acts.scope(this);
        if (scope == null) {
            main.allocate(acts, batch);
            if (shortcut != null) shortcut.allocate(acts, batch);
        } else {
            // dy (colour h) is read by both branches and, with an identity shortcut, by the final add:
            // it stays live through main's backward; main's dx (colour m) stays live through the shortcut's
            int h = scope.incoming();
            long held = scope.held() | bit(h);
            int m = acts.allocateChild(main, batch, h, held);
            if (shortcut != null) acts.allocateChild(shortcut, batch, h, held | bit(m));
            scope.returns(addIntoMainGradient ? m : ActivationMemory.NONE);
        }
        y = addIntoMain ? null : acts.floats(name + ".out", Shapes.prepend(batch, outputShape()));
        dx = addIntoMainGradient ? null : acts.floats(name + ".dx", Shapes.prepend(batch, inputShape()));
    }

    private static long bit(int colour) {
        return colour == ActivationMemory.NONE ? 0L : 1L << colour;
    }

    /** Set by the container: the layer before is a ReLU (x is its output), whose backward this join's add applies. */
    void maskInputGradient() {
        maskInputGradient = true;
    }

    // x: (N, in...) -> y = main(x) + shortcut(x): (N, out...)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        return forward(x, training, false);
    }

    // x: (N, in...) -> relu(main(x) + shortcut(x)) in one pass over the sum
    /** This join and the ReLU after it in one step (the container runs the pair; see Sequential). */
    Tensor forwardRelu(Tensor x, boolean training) {
        return forward(x, training, true);
    }

    private Tensor forward(Tensor x, boolean training, boolean relu) {
        Shapes.requireBatch(name, Shapes.batchOf(name, x, inputShape()), batch);
        this.x = x;
        Tensor a = main.forward(x, training);
        Tensor b = shortcut == null ? x : shortcut.forward(x, training);
        Tensor out = addIntoMain ? a : y;
        int n = Math.toIntExact(out.size());
        if (relu) Activations.addReluForward(a.segment(), 0, b.segment(), 0, out.segment(), 0, n);
        else Elementwise.add(a.segment(), 0, b.segment(), 0, out.segment(), 0, n);
        return out;
    }

    // dy: (N, out...) -> dx = main'(dy) + shortcut'(dy)
    @Override
    public Tensor backward(Tensor dy) {
        Shapes.requireBatch(name, Shapes.batchOf(name, dy, outputShape()), batch);
        Tensor a = main.backward(dy);
        Tensor b = shortcut == null ? dy : shortcut.backward(dy);
        Tensor out = addIntoMainGradient ? a : dx;
        int n = Math.toIntExact(out.size());
        if (maskInputGradient) Activations.addReluBackward(x.segment(), 0, a.segment(), 0, b.segment(), 0, out.segment(), 0, n); // x > 0 ? a + b : 0
        else Elementwise.add(a.segment(), 0, b.segment(), 0, out.segment(), 0, n);
        return out;
    }
}
