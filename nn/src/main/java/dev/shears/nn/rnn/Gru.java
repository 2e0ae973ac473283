package dev.shears.nn.rnn;

import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Reductions;
import dev.shears.engine.kernels.Rnn;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.ActivationMemory;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Params;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A one-layer GRU over a whole sequence with PyTorch's equations, gate order (r, z, n), parameter
 * names and init ({@code weight_ih_l0} (3H, F), {@code weight_hh_l0} (3H, H), {@code bias_ih_l0},
 * {@code bias_hh_l0} (3H), all U(+-1/sqrt(H))): {@code r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)},
 * {@code z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)}, {@code n = tanh(W_in x + b_in + r (W_hn h + b_hn))},
 * {@code h' = (1 - z) n + z h}, h_0 = 0; the output is h_T. The baseline cell next to FastGRNN.
 * The input projections of all steps are one product; buffers are time-major (a step's rows are
 * contiguous); backward through time keeps every step's gates and {@code W_hh h + b_hh} and
 * overwrites them with their gradients. Not bidirectional, not stacked. Pinned by
 * RnnGradientCheckTest and RnnGoldenTest.
 */
public final class Gru implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final String name;
    private final int steps, inputs, hidden; // T, F, H
    private final Parameter weightIh, weightHh, biasIh, biasHh; // (3H, F), (3H, H), (3H), (3H)
    private boolean needInputGradient = true;

    private int batch = -1, chunks;
    private Tensor wihT, whhT; // (F, 3H), (H, 3H): transposes, the B operands of the forward products
    private WeightSnapshot weights; // the weights these were built from
    private Tensor xt;         // (T, N, F): the input, time-major
    private Tensor gx;         // (T, N, 3H): W_ih x_t + b_ih, then the gates (r, z, n); dL/dgx after backward
    private Tensor gh;         // (T, N, 3H): W_hh h_{t-1} + b_hh; dL/dgh after backward
    private Tensor hAll;       // (T + 1, N, H): h_0 = 0, h_1 .. h_T
    private Tensor y;          // (N, H): h_T
    private Tensor dh;         // (N, H)
    private Tensor dx;         // (N, T, F) or null
    private ActivationMemory acts; // bound by the last allocate; its WEIGHT_GRADIENTS scratch holds the per-block partial sums:
                                   // (chunks, 3H*H + F*3H): dW_hh, dW_ih^T
    private Tensor x;

    public Gru(Params params, String name, int steps, int inputs, int hidden) {
        if (steps < 1 || inputs < 1 || hidden < 1) {
            throw new IllegalArgumentException("layer '" + name + "': GRU needs positive steps, inputs and hidden, got steps=" + steps + " inputs=" + inputs + " hidden=" + hidden);
        }
        this.name = name;
        this.steps = steps;
        this.inputs = inputs;
        this.hidden = hidden;
        String p = name + ".";
        weightIh = params.parameter(p + "weight_ih_l0", true, steps, 3 * hidden, inputs);
        weightHh = params.parameter(p + "weight_hh_l0", true, steps, 3 * hidden, hidden);
        biasIh = params.parameter(p + "bias_ih_l0", false, 0, 3 * hidden);
        biasHh = params.parameter(p + "bias_hh_l0", false, 0, 3 * hidden);
        double bound = 1.0 / Math.sqrt(hidden);
        for (Parameter q : new Parameter[] {weightIh, weightHh, biasIh, biasHh}) params.uniform(q.value(), bound);
    }

    public int steps() { return steps; }
    public int inputs() { return inputs; }
    public int hidden() { return hidden; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {steps, inputs}; }
    @Override public int[] outputShape() { return new int[] {hidden}; }
    @Override public void skipInputGradient() { needInputGradient = false; }

    @Override
    public void allocate(ActivationMemory acts, int n) {
        int h = hidden, t = steps;
        batch = n;
        chunks = RnnSupport.chunks(n);
        wihT = acts.floats(name + ".w_ih_t", inputs, 3 * h);
        whhT = acts.floats(name + ".w_hh_t", h, 3 * h);
        weights = new WeightSnapshot(acts, name + ".snapshot", java.util.List.of(weightIh, weightHh));
        xt = acts.floats(name + ".x_t", t, n, inputs);
        gx = acts.floats(name + ".gx", t, n, 3 * h);
        gh = acts.floats(name + ".gh", t, n, 3 * h);
        hAll = acts.floats(name + ".h", t + 1, n, h);
        y = acts.floats(name + ".out", n, h);
        dh = acts.floats(name + ".dh", n, h);
        dx = needInputGradient ? acts.floats(name + ".dx", n, t, inputs) : null;
        this.acts = acts;
        acts.reserve(ActivationMemory.Slot.WEIGHT_GRADIENTS, (long) chunks * partialSize()); // per-block weight-gradient sums, shared scratch
    }

    private int partialSize() {
        return 3 * hidden * hidden + 3 * hidden * inputs;
    }

    // x: (N, T, F) -> h_T: (N, H)
    @Override
    public Tensor forward(Tensor input, boolean training) {
        int n = RnnSupport.batchOf(name, input, steps, inputs);
        RnnSupport.requireBatch(name, n, batch);
        this.x = input;
        final int h = hidden, h3 = 3 * hidden, t = steps, f = inputs;
        if (weights.changed()) {
            RnnSupport.transpose(weightIh.value().segment(), h3, f, wihT.segment());
            RnnSupport.transpose(weightHh.value().segment(), h3, h, whhT.segment());
        }
        final long stepG = (long) n * h3, stepH = (long) n * h; // floats per time step in the time-major buffers
        MemorySegment gxs = gx.segment(), ghs = gh.segment(), hs = hAll.segment();
        MemorySegment bhh = biasHh.value().segment();
        // W_ih x_t + b_ih for every step and row: one product of x (T*N, F), time-major, by W_ih^T (F, 3H)
        RnnSupport.project(input, xt, t, f, h3, wihT.segment(), biasIh.value().segment(), gxs);
        RnnSupport.forBlocks(n, chunks, (chunk, r0, rows) -> {
            RnnSupport.zeroRows(hs, (long) r0 * h, h, rows, h); // h_0 = 0
            for (int s = 0; s < t; s++) {
                long gRow = s * stepG + (long) r0 * h3, hRow = s * stepH + (long) r0 * h;
                // gh_t = h_{t-1} W_hh^T + b_hh
                Rnn.matmulAdd(rows, h3, h, hs, hRow, h, whhT.segment(), 0, h3, bhh, 0, 0, ghs, gRow, h3);
                for (int i = 0; i < rows; i++) {
                    long gr = gRow + (long) i * h3, hr = hRow + (long) i * h;
                    Rnn.gruForward(h, gxs, gr, ghs, gr, hs, hr, gxs, gr, hs, hr + stepH);
                }
            }
            MemorySegment.copy(hs, (t * stepH + (long) r0 * h) * 4, y.segment(), (long) r0 * h * 4, (long) rows * h * 4);
        });
        return y;
    }

    // dy: (N, H) = dL/dh_T -> dx: (N, T, F); accumulates every parameter's gradient
    @Override
    public Tensor backward(Tensor dy) {
        RnnSupport.requireDy(name, dy, batch, hidden);
        if (x == null) throw new IllegalStateException("layer '" + name + "': backward before forward");
        final int n = batch, h = hidden, h3 = 3 * hidden, t = steps, f = inputs, ps = partialSize();
        final long stepG = (long) n * h3, stepH = (long) n * h;
        MemorySegment xs = xt.segment(), dGx = gx.segment(), dGh = gh.segment(), hs = hAll.segment(), d = dh.segment(), acc = acts.scratch(ActivationMemory.Slot.WEIGHT_GRADIENTS);
        MemorySegment whh = weightHh.value().segment(), wih = weightIh.value().segment();
        d.copyFrom(dy.segment().asSlice(0, (long) n * h * 4));
        acc.asSlice(0, (long) chunks * ps * 4).fill((byte) 0);
        RnnSupport.forBlocks(n, chunks, (chunk, r0, rows) -> {
            long pHh = (long) chunk * ps, pIh = pHh + (long) h3 * h;
            for (int s = t - 1; s >= 0; s--) {
                long gRow = s * stepG + (long) r0 * h3, hRow = s * stepH + (long) r0 * h;
                for (int i = 0; i < rows; i++) {
                    long gr = gRow + (long) i * h3, dr = (long) (r0 + i) * h;
                    Rnn.gruBackward(h, d, dr, hs, hRow + (long) i * h, dGx, gr, dGh, gr, dGx, gr, dGh, gr, d, dr);
                }
                // dW_ih^T += x_t^T dGx_t (transposed: the long side 3H is the vector side); dx_t = dGx_t W_ih
                long xRow = ((long) s * n + r0) * f;
                Rnn.matmulTransAAdd(f, h3, rows, xs, xRow, f, dGx, gRow, h3, acc, pIh, h3);
                if (dx != null) Rnn.matmulAdd(rows, f, h3, dGx, gRow, h3, wih, 0, f, null, 0, 0, dx.segment(), ((long) r0 * t + s) * f, t * f);
                if (s == 0) break; // h_0 is the constant 0: no dW_hh term, no gradient to pass on
                // dh_{t-1} = dh_t z_t (written above) + dGh_t W_hh
                Rnn.matmulAdd(rows, h, h3, dGh, gRow, h3, whh, 0, h, d, (long) r0 * h, h, d, (long) r0 * h, h);
                // dW_hh += dGh_t^T h_{t-1}
                Rnn.matmulTransAAdd(h3, h, rows, dGh, gRow, h3, hs, hRow, h, acc, pHh, h);
            }
        });
        for (int k = 1; k < chunks; k++) {
            for (int i = 0; i < ps; i++) acc.setAtIndex(F, i, acc.getAtIndex(F, i) + acc.getAtIndex(F, (long) k * ps + i));
        }
        add(acc, 0, weightHh.grad(), h3 * h);
        MemorySegment g = weightIh.grad().segment();
        long pIh = (long) h3 * h;
        for (int j = 0; j < h3; j++) {
            for (int q = 0; q < f; q++) g.setAtIndex(F, (long) j * f + q, g.getAtIndex(F, (long) j * f + q) + acc.getAtIndex(F, pIh + (long) q * h3 + j));
        }
        Reductions.columnSumsAdd(dGx, 0, n * t, h3, biasIh.grad().segment(), 0);
        Reductions.columnSumsAdd(dGh, 0, n * t, h3, biasHh.grad().segment(), 0);
        return dx;
    }

    private static void add(MemorySegment src, long offset, Tensor dst, int count) {
        MemorySegment g = dst.segment();
        for (int i = 0; i < count; i++) g.setAtIndex(F, i, g.getAtIndex(F, i) + src.getAtIndex(F, offset + i));
    }
}
