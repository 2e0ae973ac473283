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
    static SynFlow synflow(Model model) {
        return new SynFlow(model);
    }

    /** One SynFlow round; remembers log2 R and the power of two its scores carry. */
    static final class SynFlow extends ModelScorer {
        private double lastLog2R = Double.NaN;
        private int lastScale;
        private int hint; // the input exponent of the last round: R only shrinks as rounds prune

        SynFlow(Model model) {
            super("synflow", "SynFlow score", model);
        }

        /** log2 of R in the last round (NaN before the first). */
        double log2R() {
            return lastLog2R;
        }

        /** The last scores are the true |dR/dw * w| times 2^scale(). */
        int scale() {
            return lastScale;
        }

        @Override
        void compute(List<Parameter> prunable, List<ScoreSegment> out, Arena arena) {
            int[] input = inputShape(model);
            try (Snapshot s = Snapshot.everything(model); Workspace ws = new Workspace("synflow")) {
                linearise(model);
                int[] shape = new int[input.length + 1];
                shape[0] = 1;
                System.arraycopy(input, 0, shape, 1, input.length);
                Tensor ones = ws.floats("synflow.input", shape);
                // R is linear in the input and the backward linear in dR/dlogits, so an input of
                // 2^-a and a seed of 2^-b scale every score by 2^-(a+b) and leave the ranking exact;
                // a + b ~ log2 R keeps R's range (up to ~2^250) inside float32.
                Probe probe = probe(model, ones, hint);
                double log2R = probe.log2R();
                int a = probe.exponent();
                Tensor logits = probe.logits();
                if (Math.abs(log2R / 2 - a) > 8) { // rebalance; within 2^8 of the middle is balanced enough
                    a = Math.max(-120, Math.min(120, (int) Math.floor(log2R / 2)));
                    logits = forwardOnes(model, ones, Math.scalb(1f, -a));
                }
                int b = Math.max(-120, Math.min(120, (int) Math.ceil(log2R - a)));
                if (!finite(logits)) throw tooDeep(log2R);
                Tensor d = ws.floats("synflow.dlogits", logits.shape());
                fill(d.segment(), d.size(), Math.scalb(1f, -b));
                model.zeroGrad();
                model.backward(d);
                lastLog2R = log2R;
                lastScale = -(a + b);
                hint = a;
                for (int l = 0; l < out.size(); l++) {
                    Parameter p = prunable.get(l);
                    MemorySegment w = p.value().segment(), g = p.grad().segment(), o = out.get(l).values();
                    for (long i = 0, n = p.size(); i < n; i++) {
                        float v = Math.abs(g.getAtIndex(F, i) * w.getAtIndex(F, i));
                        if (!Float.isFinite(v)) throw tooDeep(log2R);
                        o.setAtIndex(F, i, v);
                    }
                }
            }
        }

        private static IllegalArgumentException tooDeep(double log2R) {
            return new IllegalArgumentException(String.format(java.util.Locale.ROOT, "SynFlow: R = 1^T (prod |W|) 1 is about 2^%.0f for this model,"
                    + " beyond what float32 carries even split between input and output scale (2^240)", log2R));
        }
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

    /** A finite forward of the linearised model: input 2^-exponent, log2 R, the logits (owned by the model). */
    private record Probe(int exponent, double log2R, Tensor logits) {}

    /** log2 of R = sum of the linearised outputs for an all-ones input, trying smaller inputs while it overflows. */
    private static Probe probe(Model model, Tensor input, int hint) {
        for (int e : java.util.stream.IntStream.of(hint, 0, 60, 120).filter(x -> x >= hint).distinct().toArray()) {
            Tensor logits = forwardOnes(model, input, Math.scalb(1f, -e));
            if (!finite(logits)) continue;
            double r = 0;
            for (long i = 0; i < logits.size(); i++) r += logits.segment().getAtIndex(F, i);
            if (r == 0 && e != 0) { // underflow or every path cut: decide at input 1
                logits = forwardOnes(model, input, 1f);
                r = 0;
                for (long i = 0; i < logits.size(); i++) r += logits.segment().getAtIndex(F, i);
                return new Probe(0, r > 0 ? Math.log(r) / Math.log(2) : 0, logits);
            }
            return new Probe(e, r > 0 ? Math.log(r) / Math.log(2) + e : 0, logits);
        }
        throw new IllegalArgumentException("SynFlow: R = 1^T (prod |W|) 1 overflows float32 even for an input of 2^-120 (R > 2^250);"
                + " this model is too deep for single-precision SynFlow at initialisation");
    }

    private static Tensor forwardOnes(Model model, Tensor input, float value) {
        fill(input.segment(), input.size(), value);
        return model.forward(input, false);
    }

    private static boolean finite(Tensor t) {
        for (long i = 0; i < t.size(); i++) if (!Float.isFinite(t.segment().getAtIndex(F, i))) return false;
        return true;
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
