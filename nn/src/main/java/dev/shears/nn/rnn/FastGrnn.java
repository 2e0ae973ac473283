package dev.shears.nn.rnn;

import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Gemm;
import dev.shears.engine.kernels.Rnn;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.ActivationMemory;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Params;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * FastGRNN (Kusupati et al. 2018, as EdgeML's {@code FastGRNNCell}) over a whole sequence:
 * {@code pre = W x_t + U h_{t-1}}, {@code z = sigmoid(pre + b_z)}, {@code c = tanh(pre + b_h)},
 * {@code h_t = z h_{t-1} + (sigmoid(zeta)(1 - z) + sigmoid(nu)) c}, h_0 = 0; the output is h_T.
 * Full rank (W (H, F), U (H, H)) or low rank (W = W2 W1, U = U2 U1 with EdgeML's PyTorch shapes
 * W1 (r_W, F), W2 (H, r_W), U1 (r_U, H), U2 (H, r_U)); the factors are multiplied out once per
 * pass, so a step costs the same at any rank. Parameters carry EdgeML's names and init (W, U and
 * factors 0.1 N(0, 1), biases (1, H) ones, zeta (1, 1) 1.0, nu -4.0). Buffers are time-major (a
 * step's rows contiguous; batch-major rows a power of two apart thrashed the caches, 10x slower).
 * Backward through time keeps every step's z, c and h from the forward; per-thread sums of the
 * weight gradients are reduced in block order (deterministic for a thread count). Not a general
 * cell API (no initial state, no per-step outputs). Pinned by RnnGradientCheckTest and RnnGoldenTest.
 */
public final class FastGrnn implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final String name;
    private final int steps, inputs, hidden; // T, F, H
    private final int rankW, rankU;          // 0 = full rank
    private final Parameter w, u;            // (H, F), (H, H) when full rank
    private final Parameter w1, w2, u1, u2;  // (rW, F), (H, rW), (rU, H), (H, rU) when low rank
    private final Parameter biasGate, biasUpdate; // (1, H) each
    private final Parameter zeta, nu;        // (1, 1) each, before the sigmoid
    private boolean needInputGradient = true;

    private int batch = -1, chunks;
    private Tensor wMat, uMat; // (H, F), (H, H): W and U multiplied out (low rank) or copies of the parameters
    private Tensor wT, uT;     // (F, H), (H, H): transposes, the B operands of the forward products
    private WeightSnapshot weights; // the W and U sources these were built from
    private Tensor xt;         // (T, N, F): the input, time-major
    private Tensor wx;         // (T, N, H): W x_t, then pre_t, then z_t (forward); dPre_t (backward)
    private Tensor cAll;       // (T, N, H): c_t
    private Tensor hAll;       // (T + 1, N, H): h_0 = 0, h_1 .. h_T
    private Tensor y;          // (N, H): h_T
    private Tensor dh;         // (N, H): dL/dh_t while walking back
    private Tensor dx;         // (N, T, F) or null
    private ActivationMemory acts; // bound by the last allocate; its WEIGHT_GRADIENTS scratch holds the per-block partial sums:
                                   // (chunks, H*H + F*H + 2H + 2): dU, dW^T, db_z, db_h, dsigma(zeta), dsigma(nu)
    private Tensor x;          // the last forward's input
    private float sZeta, sNu;  // sigmoid(zeta), sigmoid(nu) of the last forward

    /** Full rank when rankW (rankU) is 0; otherwise 1 <= rankW <= min(H, F) and 1 <= rankU <= H. */
    public FastGrnn(Params params, String name, int steps, int inputs, int hidden, int rankW, int rankU) {
        if (steps < 1 || inputs < 1 || hidden < 1) {
            throw new IllegalArgumentException("layer '" + name + "': FastGRNN needs positive steps, inputs and hidden, got steps=" + steps + " inputs=" + inputs + " hidden=" + hidden);
        }
        if (rankW < 0 || rankW > Math.min(hidden, inputs)) {
            throw new IllegalArgumentException("layer '" + name + "': rank of W must be 0 (full) or 1.." + Math.min(hidden, inputs) + ", got " + rankW);
        }
        if (rankU < 0 || rankU > hidden) {
            throw new IllegalArgumentException("layer '" + name + "': rank of U must be 0 (full) or 1.." + hidden + ", got " + rankU);
        }
        this.name = name;
        this.steps = steps;
        this.inputs = inputs;
        this.hidden = hidden;
        this.rankW = rankW;
        this.rankU = rankU;
        String p = name + ".";
        if (rankW == 0) {
            w = init(params, params.parameter(p + "W", true, steps, hidden, inputs));
            w1 = w2 = null;
        } else {
            w = null;
            w1 = init(params, params.parameter(p + "W1", true, steps, rankW, inputs));
            w2 = init(params, params.parameter(p + "W2", true, steps, hidden, rankW));
        }
        if (rankU == 0) {
            u = init(params, params.parameter(p + "U", true, steps, hidden, hidden));
            u1 = u2 = null;
        } else {
            u = null;
            u1 = init(params, params.parameter(p + "U1", true, steps, rankU, hidden));
            u2 = init(params, params.parameter(p + "U2", true, steps, hidden, rankU));
        }
        biasGate = params.parameter(p + "bias_gate", false, 0, 1, hidden);
        biasUpdate = params.parameter(p + "bias_update", false, 0, 1, hidden);
        zeta = params.parameter(p + "zeta", false, 0, 1, 1);
        nu = params.parameter(p + "nu", false, 0, 1, 1);
        Params.constant(biasGate.value(), 1f);
        Params.constant(biasUpdate.value(), 1f);
        Params.constant(zeta.value(), 1f);
        Params.constant(nu.value(), -4f);
    }

    private static Parameter init(Params params, Parameter p) {
        params.normal(p.value(), 0.1);
        return p;
    }

    public int steps() { return steps; }
    public int inputs() { return inputs; }
    public int hidden() { return hidden; }
    /** Rank of W, 0 when full rank. */
    public int rankW() { return rankW; }
    /** Rank of U, 0 when full rank. */
    public int rankU() { return rankU; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {steps, inputs}; }
    @Override public int[] outputShape() { return new int[] {hidden}; }
    @Override public void skipInputGradient() { needInputGradient = false; }

    @Override
    public void allocate(ActivationMemory acts, int n) {
        int h = hidden, t = steps;
        batch = n;
        chunks = RnnSupport.chunks(n);
        wMat = acts.floats(name + ".w_full", h, inputs);
        uMat = acts.floats(name + ".u_full", h, h);
        wT = acts.floats(name + ".w_t", inputs, h);
        uT = acts.floats(name + ".u_t", h, h);
        weights = new WeightSnapshot(acts, name + ".snapshot", rankW == 0 && rankU == 0 ? java.util.List.of(w, u)
                : rankW == 0 ? java.util.List.of(w, u1, u2) : rankU == 0 ? java.util.List.of(w1, w2, u) : java.util.List.of(w1, w2, u1, u2));
        xt = acts.floats(name + ".x_t", t, n, inputs);
        wx = acts.floats(name + ".pre", t, n, h);
        cAll = acts.floats(name + ".c", t, n, h);
        hAll = acts.floats(name + ".h", t + 1, n, h);
        y = acts.floats(name + ".out", n, h);
        dh = acts.floats(name + ".dh", n, h);
        dx = needInputGradient ? acts.floats(name + ".dx", n, t, inputs) : null;
        this.acts = acts;
        acts.reserve(ActivationMemory.Slot.WEIGHT_GRADIENTS, (long) chunks * partialSize()); // per-block weight-gradient sums, shared scratch
    }

    private int partialSize() {
        return hidden * hidden + hidden * inputs + 2 * hidden + 2;
    }

    /** W and U as dense matrices (products of the factors when low rank), and their transposes; rebuilt only when the weights changed. */
    private void compose() {
        if (!weights.changed()) return;
        int h = hidden;
        if (rankW == 0) wMat.segment().copyFrom(w.value().segment().asSlice(0, wMat.size() * 4));
        else Gemm.sgemm(false, false, h, inputs, rankW, 1f, w2.value().segment(), 0, rankW, w1.value().segment(), 0, inputs, 0f, wMat.segment(), 0, inputs);
        if (rankU == 0) uMat.segment().copyFrom(u.value().segment().asSlice(0, uMat.size() * 4));
        else Gemm.sgemm(false, false, h, h, rankU, 1f, u2.value().segment(), 0, rankU, u1.value().segment(), 0, h, 0f, uMat.segment(), 0, h);
        RnnSupport.transpose(wMat.segment(), h, inputs, wT.segment());
        RnnSupport.transpose(uMat.segment(), h, h, uT.segment());
    }

    // x: (N, T, F) -> h_T: (N, H)
    @Override
    public Tensor forward(Tensor input, boolean training) {
        int n = RnnSupport.batchOf(name, input, steps, inputs);
        RnnSupport.requireBatch(name, n, batch);
        this.x = input;
        compose();
        sZeta = (float) RnnSupport.sigmoid(zeta.value().get(0));
        sNu = (float) RnnSupport.sigmoid(nu.value().get(0));
        final int h = hidden, t = steps, f = inputs;
        final long step = (long) n * h; // floats per time step in the time-major buffers
        MemorySegment pre = wx.segment(), c = cAll.segment(), hs = hAll.segment();
        MemorySegment bz = biasGate.value().segment(), bh = biasUpdate.value().segment();
        // W x_t for every step and row: one product of x (T*N, F), time-major, by W^T (F, H)
        RnnSupport.project(input, xt, t, f, h, wT.segment(), null, pre);
        final float sz = sZeta, sn = sNu;
        RnnSupport.forBlocks(n, chunks, (chunk, r0, rows) -> {
            RnnSupport.zeroRows(hs, (long) r0 * h, h, rows, h); // h_0 = 0
            for (int s = 0; s < t; s++) {
                long row = s * step + (long) r0 * h; // these rows at step s: pre_s, c_s and h_s (= h_{t-1}) in hAll
                // pre_t += h_{t-1} U^T (in place)
                Rnn.matmulAdd(rows, h, h, hs, row, h, uT.segment(), 0, h, pre, row, h, pre, row, h);
                for (int i = 0; i < rows; i++) {
                    long r = row + (long) i * h;
                    Rnn.fastgrnnForward(h, pre, r, bz, 0, bh, 0, sz, sn, hs, r, pre, r, c, r, hs, r + step);
                }
            }
            MemorySegment.copy(hs, (t * step + (long) r0 * h) * 4, y.segment(), (long) r0 * h * 4, (long) rows * h * 4);
        });
        return y;
    }

    // dy: (N, H) = dL/dh_T -> dx: (N, T, F); accumulates every parameter's gradient
    @Override
    public Tensor backward(Tensor dy) {
        RnnSupport.requireDy(name, dy, batch, hidden);
        if (x == null) throw new IllegalStateException("layer '" + name + "': backward before forward");
        final int n = batch, h = hidden, t = steps, f = inputs, ps = partialSize();
        final long step = (long) n * h;
        MemorySegment xs = xt.segment(), dPre = wx.segment(), c = cAll.segment(), hs = hAll.segment(), d = dh.segment(), acc = acts.scratch(ActivationMemory.Slot.WEIGHT_GRADIENTS);
        d.copyFrom(dy.segment().asSlice(0, (long) n * h * 4));
        acc.asSlice(0, (long) chunks * ps * 4).fill((byte) 0);
        final float sz = sZeta, sn = sNu;
        RnnSupport.forBlocks(n, chunks, (chunk, r0, rows) -> {
            long pU = (long) chunk * ps, pW = pU + (long) h * h, pB = pW + (long) h * f;
            for (int s = t - 1; s >= 0; s--) {
                long row = s * step + (long) r0 * h;
                for (int i = 0; i < rows; i++) {
                    long r = row + (long) i * h, dr = (long) (r0 + i) * h;
                    Rnn.fastgrnnBackward(h, d, dr, hs, r, dPre, r, c, r, sz, sn, dPre, r, d, dr, acc, pB);
                }
                // dW^T += x_t^T dPre_t (transposed: the long side H is the vector side); dx_t = dPre_t W
                long xRow = ((long) s * n + r0) * f;
                Rnn.matmulTransAAdd(f, h, rows, xs, xRow, f, dPre, row, h, acc, pW, h);
                if (dx != null) Rnn.matmulAdd(rows, f, h, dPre, row, h, wMat.segment(), 0, f, null, 0, 0, dx.segment(), ((long) r0 * t + s) * f, t * f);
                if (s == 0) break; // h_0 is the constant 0: no dU term, no gradient to pass on
                // dh_{t-1} = dh_t z_t (written above) + dPre_t U
                Rnn.matmulAdd(rows, h, h, dPre, row, h, uMat.segment(), 0, h, d, (long) r0 * h, h, d, (long) r0 * h, h);
                // dU += dPre_t^T h_{t-1}
                Rnn.matmulTransAAdd(h, h, rows, dPre, row, h, hs, row, h, acc, pU, h);
            }
        });
        reduceGradients();
        return dx;
    }

    /** Sums the per-block partials in block order and adds them to the parameters' gradients. */
    private void reduceGradients() {
        final int h = hidden, f = inputs, ps = partialSize();
        MemorySegment acc = acts.scratch(ActivationMemory.Slot.WEIGHT_GRADIENTS);
        for (int k = 1; k < chunks; k++) {
            for (int i = 0; i < ps; i++) acc.setAtIndex(F, i, acc.getAtIndex(F, i) + acc.getAtIndex(F, (long) k * ps + i));
        }
        long pW = (long) h * h, pB = pW + (long) h * f;
        // chain the dense gradients to the factors: W = W2 W1 gives dW2 = dW W1^T, dW1 = W2^T dW
        if (rankU == 0) add(acc, 0, u.grad(), h * h);
        else {
            Gemm.sgemm(false, true, h, rankU, h, 1f, acc, 0, h, u1.value().segment(), 0, h, 1f, u2.grad().segment(), 0, rankU);
            Gemm.sgemm(true, false, rankU, h, h, 1f, u2.value().segment(), 0, rankU, acc, 0, h, 1f, u1.grad().segment(), 0, h);
        }
        if (rankW == 0) {
            MemorySegment g = w.grad().segment();
            for (int j = 0; j < h; j++) {
                for (int q = 0; q < f; q++) g.setAtIndex(F, (long) j * f + q, g.getAtIndex(F, (long) j * f + q) + acc.getAtIndex(F, pW + (long) q * h + j));
            }
        } else { // the partial holds dW^T (F, H)
            Gemm.sgemm(true, true, h, rankW, f, 1f, acc, pW, h, w1.value().segment(), 0, f, 1f, w2.grad().segment(), 0, rankW);
            Gemm.sgemm(true, true, rankW, f, h, 1f, w2.value().segment(), 0, rankW, acc, pW, h, 1f, w1.grad().segment(), 0, f);
        }
        add(acc, pB, biasGate.grad(), h);
        add(acc, pB + h, biasUpdate.grad(), h);
        float dsz = acc.getAtIndex(F, pB + 2L * h), dsn = acc.getAtIndex(F, pB + 2L * h + 1);
        zeta.grad().set(0, zeta.grad().get(0) + dsz * sZeta * (1f - sZeta));
        nu.grad().set(0, nu.grad().get(0) + dsn * sNu * (1f - sNu));
    }

    private static void add(MemorySegment src, long offset, Tensor dst, int count) {
        MemorySegment g = dst.segment();
        for (int i = 0; i < count; i++) g.setAtIndex(F, i, g.getAtIndex(F, i) + src.getAtIndex(F, offset + i));
    }
}
