package dev.shears.pruning;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.Dropout;
import dev.shears.nn.models.Network;
import dev.shears.nn.train.BatchSource;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores from the model's own forward/backward (PAPER.md 6), lower pruned first:
 * <ul>
 * <li>SNIP: |g * w|, g the gradient of the mean cross-entropy over the first B batches
 *     (training mode: batch statistics in batch norm, as the references run it).</li>
 * <li>GraSP: the paper's S = -w * (H g), of which the highest are removed; handed to the
 *     selection as the signed score w * (H g), lowest pruned. H g is a central difference of
 *     gradients, (grad L(w + eps g) - grad L(w - eps g)) / (2 eps), with eps chosen so that
 *     ||eps g|| = step * ||w|| (step 1e-3 by default), g and H over the prunable weights only,
 *     on the same batches (training-mode batch norm; evaluation mode when the model has dropout,
 *     so all three gradients see one network).</li>
 * <li>SynFlow (one round): R = 1^T (prod |W_l|) 1 as the paper writes it: prunable weights
 *     replaced by |w|, biases and batch-norm shifts and running means set to zero, batch-norm
 *     scales by |gamma| (evaluation mode, so each is the positive diagonal |gamma| / sqrt(var + eps)),
 *     an all-ones input of batch 1, dR/dlogits = 1; score |dR/dw * w|. Every parameter and buffer
 *     is restored bit for bit afterwards.</li>
 * </ul>
 * All of them leave parameters, buffers and masks as they found them and the gradients zeroed.
 * Not the pruning loop (SynFlow's rounds are in {@link Pruning}). Pinned by GradientScoresTest
 * against brute-force definitions on tiny models.
 */
final class GradientScores {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private GradientScores() {}

    static Scorer snip(Model model, BatchSource data, int batches) {
        return new ModelScorer("snip", "SNIP score", model) {
            @Override
            void compute(List<Parameter> prunable, List<ScoreSegment> out, Arena arena) {
                try (Snapshot s = Snapshot.buffers(model)) {
                    meanLossGradient(model, data, batches, true);
                }
                for (int l = 0; l < out.size(); l++) {
                    MemorySegment w = prunable.get(l).value().segment(), g = prunable.get(l).grad().segment(), o = out.get(l).values();
                    for (long i = 0, n = prunable.get(l).size(); i < n; i++) o.setAtIndex(F, i, Math.abs(g.getAtIndex(F, i) * w.getAtIndex(F, i)));
                }
            }
        };
    }

    static Scorer grasp(Model model, BatchSource data, int batches, double step) {
        return new ModelScorer("grasp", "GraSP score", model) {
            @Override
            KeyOrder order() {
                return KeyOrder.SIGNED;
            }

            @Override
            void compute(List<Parameter> prunable, List<ScoreSegment> out, Arena arena) {
                boolean training = !hasDropout(model);
                int layers = prunable.size();
                List<MemorySegment> w0 = new ArrayList<>(), g = new ArrayList<>(), hg = new ArrayList<>();
                try (Snapshot s = Snapshot.buffers(model)) {
                    meanLossGradient(model, data, batches, training);
                    double wNorm = 0, gNorm = 0;
                    for (Parameter p : prunable) {
                        MemorySegment gi = copy(p.grad().segment(), p.size(), arena);
                        if (p.mask() != null) multiply(gi, p.mask().segment(), p.size()); // pruned weights stay out of the direction
                        g.add(gi);
                        w0.add(copy(p.value().segment(), p.size(), arena));
                        hg.add(arena.allocate(Math.max(1, p.size()) * Float.BYTES, 64));
                        wNorm += sumSquares(p.value().segment(), p.size());
                        gNorm += sumSquares(gi, p.size());
                    }
                    if (!(gNorm > 0) || !Double.isFinite(gNorm)) {
                        throw new IllegalArgumentException("GraSP: the loss gradient over the prunable weights is " + (gNorm == 0 ? "zero" : "not finite")
                                + " on the first " + batches + " batch(es); there is no gradient flow to preserve");
                    }
                    double eps = step * Math.sqrt(wNorm) / Math.sqrt(gNorm);
                    try {
                        for (int sign : new int[] {1, -1}) {
                            for (int l = 0; l < layers; l++) axpyInto(prunable.get(l).value().segment(), w0.get(l), sign * eps, g.get(l), prunable.get(l).size());
                            s.restore(); // each gradient sees the same running statistics
                            meanLossGradient(model, data, batches, training);
                            for (int l = 0; l < layers; l++) {
                                MemorySegment gr = prunable.get(l).grad().segment(), h = hg.get(l);
                                for (long i = 0, n = prunable.get(l).size(); i < n; i++) {
                                    h.setAtIndex(F, i, (float) (h.getAtIndex(F, i) + sign * (double) gr.getAtIndex(F, i) / (2 * eps)));
                                }
                            }
                        }
                    } finally {
                        for (int l = 0; l < layers; l++) MemorySegment.copy(w0.get(l), 0, prunable.get(l).value().segment(), 0, prunable.get(l).size() * Float.BYTES);
                    }
                }
                for (int l = 0; l < layers; l++) {
                    MemorySegment w = w0.get(l), h = hg.get(l), o = out.get(l).values();
                    for (long i = 0, n = prunable.get(l).size(); i < n; i++) o.setAtIndex(F, i, w.getAtIndex(F, i) * h.getAtIndex(F, i));
                }
            }
        };
    }

    /** One SynFlow round on the model as it is (pruned weights are zero, so they score zero). */
    static Scorer synflow(Model model) {
        return new ModelScorer("synflow", "SynFlow score", model) {
            @Override
            void compute(List<Parameter> prunable, List<ScoreSegment> out, Arena arena) {
                int[] input = inputShape(model);
                try (Snapshot s = Snapshot.everything(model); Workspace ws = new Workspace("synflow")) {
                    linearise(model);
                    int[] shape = new int[input.length + 1];
                    shape[0] = 1;
                    System.arraycopy(input, 0, shape, 1, input.length);
                    Tensor ones = ws.floats("synflow.input", shape);
                    fill(ones.segment(), ones.size(), 1f);
                    Tensor logits = model.forward(ones, false);
                    float r = 0;
                    for (long i = 0; i < logits.size(); i++) r += logits.segment().getAtIndex(F, i);
                    if (!Float.isFinite(r)) {
                        throw new IllegalArgumentException("SynFlow: R = sum of the linearised network's outputs overflows float32 (" + r
                                + "); the product of |W| over this model's depth is too large to score in single precision");
                    }
                    Tensor d = ws.floats("synflow.dlogits", logits.shape());
                    fill(d.segment(), d.size(), 1f);
                    model.zeroGrad();
                    model.backward(d);
                    for (int l = 0; l < out.size(); l++) {
                        Parameter p = prunable.get(l);
                        MemorySegment w = p.value().segment(), g = p.grad().segment(), o = out.get(l).values();
                        for (long i = 0, n = p.size(); i < n; i++) o.setAtIndex(F, i, Math.abs(g.getAtIndex(F, i) * w.getAtIndex(F, i)));
                    }
                }
            }
        };
    }

    /** The paper's path-product network: |w| for weights and batch-norm scales, zero shifts. */
    private static void linearise(Model model) {
        for (Parameter p : model.parameters()) {
            MemorySegment v = p.value().segment();
            boolean shift = !p.prunable() && p.name().endsWith(".bias");
            for (long i = 0, n = p.size(); i < n; i++) v.setAtIndex(F, i, shift ? 0f : Math.abs(v.getAtIndex(F, i)));
        }
        for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) {
            Tensor t = b.getValue();
            if (t.dtype() != DType.F32) continue;
            boolean mean = b.getKey().endsWith("running_mean");
            MemorySegment v = t.segment();
            for (long i = 0, n = t.size(); i < n; i++) v.setAtIndex(F, i, mean ? 0f : Math.abs(v.getAtIndex(F, i)));
        }
    }

    static int[] inputShape(Model model) {
        if (model instanceof Network n) return n.inputShape();
        Map<String, String> spec = model.spec();
        try {
            return new int[] {Integer.parseInt(spec.get("channels")), Integer.parseInt(spec.get("height")), Integer.parseInt(spec.get("width"))};
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("SynFlow needs the model's input shape; spec " + spec + " has no channels/height/width");
        }
    }

    static boolean hasDropout(Model model) {
        if (!(model instanceof Network n)) return false;
        boolean[] found = {false};
        Network.walk(n.root(), l -> {
            if (l instanceof Dropout d && d.probability() > 0) found[0] = true;
        });
        return found[0];
    }

    /**
     * Accumulates into the parameters' gradients the gradient of the mean cross-entropy (no label
     * smoothing) averaged over the first {@code batches} batches of epoch 0 of {@code data}.
     */
    static int meanLossGradient(Model model, BatchSource data, int batches, boolean training) {
        model.zeroGrad();
        int used = 0;
        try (Workspace ws = new Workspace("scores"); BatchSource.Epoch it = data.epoch(0)) {
            Map<Integer, Tensor> dl = new HashMap<>();
            int planned = Math.min(batches, data.batchesPerEpoch());
            while (used < planned && it.hasNext()) {
                BatchSource.Batch b = it.next();
                Tensor logits = model.forward(b.images(), training);
                Tensor d = dl.computeIfAbsent(b.size(), k -> ws.floats("dlogits" + k, logits.shape()));
                SoftmaxCrossEntropy.compute(logits, b.labels(), 0, d);
                float scale = 1f / planned;
                for (long i = 0; i < d.size(); i++) d.segment().setAtIndex(F, i, d.segment().getAtIndex(F, i) * scale);
                model.backward(d);
                used++;
            }
        }
        if (used == 0) throw new IllegalArgumentException("the data source for the pruning scores has no batches");
        return used;
    }

    // ---------------------------------------------------------------- plumbing

    /** A scorer over the model's prunable parameters, checked against the layers it is given. */
    private abstract static class ModelScorer implements Scorer {
        private final String name, what;
        final Model model;

        ModelScorer(String name, String what, Model model) {
            this.name = name;
            this.what = what;
            this.model = model;
        }

        @Override
        public String name() {
            return name;
        }

        KeyOrder order() {
            return KeyOrder.MAGNITUDE;
        }

        abstract void compute(List<Parameter> prunable, List<ScoreSegment> out, Arena arena);

        @Override
        public Scores score(List<PrunableLayer> layers, Arena arena) {
            List<Parameter> prunable = model.parameters().stream().filter(Parameter::prunable).toList();
            if (prunable.size() != layers.size()) {
                throw new IllegalArgumentException(name + ": " + layers.size() + " layers given but the model has " + prunable.size() + " prunable weights");
            }
            List<ScoreSegment> out = new ArrayList<>(layers.size());
            for (int l = 0; l < layers.size(); l++) {
                PrunableLayer layer = layers.get(l);
                Parameter p = prunable.get(l);
                if (!p.name().equals(layer.name()) || p.size() != layer.count()) {
                    throw new IllegalArgumentException(name + ": layer " + l + " is '" + layer.name() + "' but the model's prunable weight " + l + " is '" + p.name() + "'");
                }
                out.add(new ScoreSegment(layer.name(), arena.allocate(Math.max(1, layer.count()) * Float.BYTES, 64), layer.count()));
            }
            try {
                compute(prunable, out, arena);
            } finally {
                model.zeroGrad();
            }
            return new Scores(out, order(), what);
        }
    }

    /** Copies of tensors taken before scoring and written back after (exact bytes). */
    private static final class Snapshot implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        private final List<Tensor> tensors = new ArrayList<>();
        private final List<MemorySegment> copies = new ArrayList<>();

        static Snapshot buffers(Model model) {
            Snapshot s = new Snapshot();
            for (Tensor t : model.buffers().values()) s.keep(t);
            return s;
        }

        static Snapshot everything(Model model) {
            Snapshot s = buffers(model);
            for (Parameter p : model.parameters()) s.keep(p.value());
            return s;
        }

        private void keep(Tensor t) {
            long bytes = t.size() * t.dtype().bytes;
            MemorySegment c = arena.allocate(Math.max(1, bytes), 64);
            MemorySegment.copy(t.segment(), 0, c, 0, bytes);
            tensors.add(t);
            copies.add(c);
        }

        void restore() {
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                MemorySegment.copy(copies.get(i), 0, t.segment(), 0, t.size() * t.dtype().bytes);
            }
        }

        @Override
        public void close() {
            try {
                restore();
            } finally {
                arena.close();
            }
        }
    }

    private static MemorySegment copy(MemorySegment from, long n, Arena arena) {
        MemorySegment c = arena.allocate(Math.max(1, n) * Float.BYTES, 64);
        MemorySegment.copy(from, 0, c, 0, n * Float.BYTES);
        return c;
    }

    private static void multiply(MemorySegment x, MemorySegment m, long n) {
        for (long i = 0; i < n; i++) x.setAtIndex(F, i, x.getAtIndex(F, i) * m.getAtIndex(F, i));
    }

    /** dst = base + a * x. */
    private static void axpyInto(MemorySegment dst, MemorySegment base, double a, MemorySegment x, long n) {
        for (long i = 0; i < n; i++) dst.setAtIndex(F, i, (float) (base.getAtIndex(F, i) + a * x.getAtIndex(F, i)));
    }

    private static double sumSquares(MemorySegment x, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            double v = x.getAtIndex(F, i);
            s += v * v;
        }
        return s;
    }

    private static void fill(MemorySegment x, long n, float v) {
        for (long i = 0; i < n; i++) x.setAtIndex(F, i, v);
    }
}
