package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;
import java.util.Arrays;

/**
 * Residual add: y = main(x) + shortcut(x), the shortcut being the identity when null. Backward
 * sends dy down both branches and adds their dx. Neither branch may write into its input or
 * its dy (both are shared); the constructor checks. Activation after the add is a separate
 * layer. When the main branch owns its output (and its dx) the sums are accumulated there in
 * place, so a block needs no buffers of its own. Pinned by GradientCheckTest and the golden tests.
 */
public final class Residual implements Layer {
    private final String name;
    private final Layer main;
    private final Layer shortcut; // null = identity
    private final boolean addIntoMain;       // forward adds the shortcut into main's output buffer
    private final boolean addIntoMainGradient; // backward adds the shortcut's dx into main's dx buffer
    private int batch;
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
        main.allocate(acts, batch);
        if (shortcut != null) shortcut.allocate(acts, batch);
        y = addIntoMain ? null : acts.floats(name + ".out", Shapes.prepend(batch, outputShape()));
        dx = addIntoMainGradient ? null : acts.floats(name + ".dx", Shapes.prepend(batch, inputShape()));
    }

    // x: (N, in...) -> y = main(x) + shortcut(x): (N, out...)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        Shapes.requireBatch(name, Shapes.batchOf(name, x, inputShape()), batch);
        Tensor a = main.forward(x, training);
        Tensor b = shortcut == null ? x : shortcut.forward(x, training);
        Tensor out = addIntoMain ? a : y;
        add(a, b, out);
        return out;
    }

    // dy: (N, out...) -> dx = main'(dy) + shortcut'(dy)
    @Override
    public Tensor backward(Tensor dy) {
        Shapes.requireBatch(name, Shapes.batchOf(name, dy, outputShape()), batch);
        Tensor a = main.backward(dy);
        Tensor b = shortcut == null ? dy : shortcut.backward(dy);
        Tensor out = addIntoMainGradient ? a : dx;
        add(a, b, out);
        return out;
    }

    private static void add(Tensor a, Tensor b, Tensor out) {
        Elementwise.add(a.segment(), 0, b.segment(), 0, out.segment(), 0, Math.toIntExact(out.size()));
    }
}
