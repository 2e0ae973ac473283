package dev.shears.nn.models;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.Parameter;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Switches a pruned network's convolutions (groups == 1) and linear layers to sparse weights for
 * eval-mode forward. Each layer's CSR is a snapshot of its masked weight; the layer keeps it only
 * if one-time timing on a random input of the bound batch says sparse beats dense (the LIBXSMM
 * rule), and layers denser than {@link #MAX_DENSITY} stay dense untimed. Not for training:
 * training forward ignores the snapshot, and weights changed later need a new sparsify.
 * Pinned by SparseInferenceTest.
 */
public final class SparseInference {
    /** Above this density a layer stays dense without timing: CSR moves 2x the bytes per weight. */
    public static final double MAX_DENSITY = 0.5;
    // best of 15, not 7, and timed by now(): see there
    private static final int WARMUP = 3, REPS = 15, FUSED_WARMUP = 20, FUSED_WARMUP_MS = 400;

    private SparseInference() {}

    /**
     * One layer's decision: density of its masked weight, the form chosen ("dense", "sparse" =
     * im2col or 1x1 SpMM, "sparse-direct" = no im2col), best-of-REPS dense time and best sparse
     * time in microseconds (NaN when not timed).
     */
    public record LayerChoice(String name, double density, String chosen, double denseUs, double sparseUs) {
        public boolean sparse() { return !chosen.equals("dense"); }
    }

    /** Measures each candidate layer at {@code batch} and keeps the faster weight form. */
    public static List<LayerChoice> sparsify(Network model, int batch) {
        return sparsify(model, batch, true);
    }

    /**
     * As {@link #sparsify(Network, int)}; with {@code measure == false} every candidate at or
     * below {@link #MAX_DENSITY} goes sparse untimed (tests use it to force the sparse path).
     */
    public static List<LayerChoice> sparsify(Network model, int batch, boolean measure) {
        if (batch < 1) throw new IllegalArgumentException("sparsify: batch must be >= 1, got " + batch);
        model.useFused(null, "fused inference: not compiled");
        int[] in = model.inputShape();
        int[] shape = new int[in.length + 1];
        shape[0] = batch;
        System.arraycopy(in, 0, shape, 1, in.length);
        try (Tensor x = random(shape, 1)) {
            model.forward(x, false); // binds every layer to this batch
        }
        List<LayerChoice> out = new ArrayList<>();
        List<Layer> candidates = new ArrayList<>();
        for (Layer l : model.layers()) {
            if ((l instanceof Conv2d c && c.groups() == 1) || l instanceof Linear) candidates.add(l);
        }
        List<SparseMatrix> csr = new ArrayList<>();
        for (Layer l : candidates) csr.add(maskedCsr(l instanceof Conv2d c ? c.weight() : ((Linear) l).weight()));
        if (measure) warmUp(model, shape, candidates, csr);
        long seed = 2;
        for (int i = 0; i < candidates.size(); i++) {
            Layer l = candidates.get(i);
            SparseMatrix s = csr.get(i);
            double density = s.rows() == 0 || s.cols() == 0 ? 0 : (double) s.nnz() / ((long) s.rows() * s.cols());
            set(l, null);
            if (density > MAX_DENSITY) {
                out.add(new LayerChoice(l.name(), density, "dense", Double.NaN, Double.NaN));
                continue;
            }
            if (!measure) {
                set(l, s);
                out.add(new LayerChoice(l.name(), density, "sparse", Double.NaN, Double.NaN));
                continue;
            }
            int[] ls = l.inputShape();
            int[] xs = new int[ls.length + 1];
            xs[0] = batch;
            System.arraycopy(ls, 0, xs, 1, ls.length);
            try (Tensor x = random(xs, seed++)) {
                boolean direct = l instanceof Conv2d c && c.weight().shape()[2] > 1;
                double[] best = time(l, s, x, direct);
                int form = best[2] < best[1] && best[2] < best[0] ? 2 : best[1] < best[0] ? 1 : 0;
                set(l, form == 0 ? null : s, form == 2);
                String[] names = {"dense", "sparse", "sparse-direct"};
                out.add(new LayerChoice(l.name(), density, names[form], best[0], Math.min(best[1], best[2])));
            }
        }
        boolean anySparse = out.stream().anyMatch(LayerChoice::sparse);
        fuse(model, shape, measure, anySparse || !measure, measure);
        return out;
    }

    /**
     * Prepares a dense (unpruned or pruned, weights used as they are) network for eval forward at
     * {@code batch} through the dense fused path: each convolution with its batch norm folded and
     * its ReLU / residual fused, run by the engine's {@code DirectConv} over padded activations.
     * With {@code measure} it is installed only if whole forwards say it beats the layer-by-layer
     * forward (best of {@link #REPS}). Returns the status line ({@link #fusedStatus}). Weights
     * changed later need a new call; {@link #densify} removes it.
     */
    public static String fuseDense(Network model, int batch, boolean measure) {
        if (batch < 1) throw new IllegalArgumentException("fuseDense: batch must be >= 1, got " + batch);
        model.useFused(null, "fused inference: not compiled");
        int[] in = model.inputShape();
        int[] shape = new int[in.length + 1];
        shape[0] = batch;
        System.arraycopy(in, 0, shape, 1, in.length);
        fuse(model, shape, measure, false, true);
        return model.fusedNote();
    }

    /**
     * Compiles the fused candidates (FusedInference's sparse kernels and/or its dense DirectConv
     * ones) and, when {@code measure}, keeps the fastest of them and the per-layer path just chosen
     * (best of {@link #REPS} whole forwards, the forms alternating); untimed, the first compiled
     * candidate is installed.
     */
    private static void fuse(Network model, int[] shape, boolean measure, boolean trySparse, boolean tryDense) {
        List<FusedInference> candidates = new ArrayList<>();
        String why = "no fused form tried";
        if (trySparse) {
            try {
                candidates.add(FusedInference.compile(model, shape[0]));
            } catch (FusedInference.Unsupported e) {
                why = e.getMessage();
            }
        }
        if (tryDense) {
            try {
                candidates.add(FusedInference.compileDense(model, shape[0]));
            } catch (FusedInference.Unsupported e) {
                why = e.getMessage();
            }
        }
        if (candidates.isEmpty()) {
            model.useFused(null, "fused inference: off, " + why);
            return;
        }
        if (!measure) {
            for (int i = 1; i < candidates.size(); i++) candidates.get(i).close();
            model.useFused(candidates.getFirst(), "fused inference: on (untimed), " + candidates.getFirst().describe());
            return;
        }
        model.useFused(null, "");
        int forms = 1 + candidates.size(); // 0: per layer, i: candidates[i - 1]
        double[] best = new double[forms];
        java.util.Arrays.fill(best, Double.MAX_VALUE);
        try (Tensor x = random(shape, 3)) {
            // every form, alternating, as timed below: the kernels they share (SparseConv) get compiled
            // for all callers' arguments before the timing, not deoptimized in the middle of it
            warm(() -> {
                for (int form = 0; form < forms; form++) runForm(model, candidates, form, x);
            });
            for (FusedInference f : candidates) f.tune(x, REPS); // dense: each 1x1 convolution keeps the faster of its direct and GEMM routes
            for (int i = 0; i < WARMUP + REPS; i++) {
                for (int form = 0; form < forms; form++) {
                    runForm(model, candidates, form, x); // untimed: the other forms' runs left the caches holding their own memory
                    long t0 = now();
                    runForm(model, candidates, form, x);
                    double us = (now() - t0) / 1e3;
                    if (i >= WARMUP) best[form] = Math.min(best[form], us);
                }
            }
        }
        int win = 0;
        for (int form = 1; form < forms; form++) if (best[form] < best[win]) win = form;
        StringBuilder times = new StringBuilder();
        for (int form = 1; form < forms; form++) {
            times.append(String.format(Locale.ROOT, "%s %.1f us, ", candidates.get(form - 1).dense() ? "dense fused" : "sparse fused", best[form]));
        }
        times.append(String.format(Locale.ROOT, "per layer %.1f us (best of %d)", best[0], REPS));
        for (int form = 1; form < forms; form++) if (form != win) candidates.get(form - 1).close();
        model.fusedOn(true);
        if (win > 0) model.useFused(candidates.get(win - 1), "fused inference: on (" + (candidates.get(win - 1).dense() ? "dense" : "sparse") + "), "
                + times + "; " + candidates.get(win - 1).describe());
        else model.useFused(null, "fused inference: off, slower: " + times);
    }

    /** One whole forward of form 0 (the per-layer path; no fused path installed) or of candidates[form - 1]. */
    private static void runForm(Network model, List<FusedInference> candidates, int form, Tensor x) {
        if (form == 0) model.forward(x, false);
        else candidates.get(form - 1).forward(x);
    }

    /** Whether eval forward runs the fused path, and why (for --explain and logs). */
    public static String fusedStatus(Network model) {
        return model.fusedNote();
    }

    /** Per-step best times of the installed fused path on x (batch >= 1), or a line saying it is off. */
    public static String fusedProfile(Network model, Tensor x, int reps) {
        return model.fusedProfile(x, reps);
    }

    /** Whether a fused path is installed. */
    public static boolean fused(Network model) {
        return model.hasFused();
    }

    /** Switches an installed fused path off (eval forward runs the layers) or back on; benchmarks time both. */
    public static void enableFused(Network model, boolean on) {
        model.fusedOn(on);
    }

    /** Runs the whole model a few times sparse, then dense, so the timings below meet compiled kernels. */
    private static void warmUp(Network model, int[] shape, List<Layer> candidates, List<SparseMatrix> csr) {
        try (Tensor x = random(shape, 1)) {
            for (boolean direct : new boolean[] {false, true}) {
                for (int i = 0; i < candidates.size(); i++) set(candidates.get(i), csr.get(i), direct);
                for (int i = 0; i < WARMUP; i++) model.forward(x, false);
            }
            for (Layer l : candidates) set(l, null);
            for (int i = 0; i < WARMUP; i++) model.forward(x, false);
        }
    }

    /** Every layer back to its dense weight. */
    public static void densify(Network model) {
        model.useFused(null, "fused inference: not compiled");
        for (Layer l : model.layers()) {
            if (l instanceof Conv2d c) c.useSparseWeight(null);
            if (l instanceof Linear li) li.useSparseWeight(null);
        }
    }

    /** The weight as (dim 0, rest) with pruned entries (mask 0) dropped even if not yet applied to the value. */
    public static SparseMatrix maskedCsr(Parameter w) {
        float[] v = w.value().toFloatArray();
        if (w.mask() != null) {
            MemorySegment m = w.mask().segment();
            for (int i = 0; i < v.length; i++) if (m.getAtIndex(ValueLayout.JAVA_FLOAT, i) == 0f) v[i] = 0f;
        }
        int rows = w.shape()[0], cols = v.length / Math.max(1, rows);
        return SparseMatrix.fromDense(MemorySegment.ofArray(v), 0, rows, cols, cols);
    }

    private static void set(Layer l, SparseMatrix s) {
        set(l, s, false);
    }

    private static void set(Layer l, SparseMatrix s, boolean direct) {
        if (l instanceof Conv2d c) c.useSparseWeight(s, direct);
        else ((Linear) l).useSparseWeight(s);
    }

    /**
     * {dense, sparse, sparse-direct}: best of {@link #REPS} eval-mode forwards each in
     * microseconds (direct MAX_VALUE when not tried), the forms alternating so a burst of machine
     * load hits all alike; leaves the layer dense.
     */
    private static double[] time(Layer l, SparseMatrix s, Tensor x, boolean tryDirect) {
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        int forms = tryDirect ? 3 : 2;
        for (int i = 0; i < WARMUP + REPS; i++) {
            for (int form = 0; form < forms; form++) {
                set(l, form == 0 ? null : s, form == 2);
                long t0 = now();
                l.forward(x, false);
                double us = (now() - t0) / 1e3;
                if (i >= WARMUP) best[form] = Math.min(best[form], us);
            }
        }
        set(l, null);
        return best;
    }

    /**
     * Runs {@code forward} in rounds of {@link #FUSED_WARMUP} until a round's best time is no
     * longer 5% better than the best before it and at least {@link #FUSED_WARMUP_MS} have passed
     * (at most 5 s): on a busy machine the JIT's compiler threads wait for a core too, and a path
     * timed before its kernels were compiled (or while they were recompiled for the other path's
     * arguments) loses. The fused path measured 1.1-2.1 ms of CPU time where it runs in 0.37-0.48
     * and was switched off at 95% and 98% that way.
     */
    private static void warm(Runnable forward) {
        long start = System.nanoTime();
        double before = Double.MAX_VALUE;
        while (true) {
            double best = Double.MAX_VALUE;
            for (int i = 0; i < FUSED_WARMUP; i++) {
                long t0 = now();
                forward.run();
                best = Math.min(best, now() - t0);
            }
            boolean settled = best > 0.95 * before;
            before = Math.min(before, best);
            long elapsed = System.nanoTime() - start;
            if ((settled && elapsed >= FUSED_WARMUP_MS * 1_000_000L) || elapsed > 5_000_000_000L) return;
        }
    }

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final boolean CPU_CLOCK = dev.shears.engine.Parallel.threads() == 1 && CPU.isCurrentThreadCpuTimeSupported();

    /**
     * The clock the choices are timed with, in ns: with one thread this thread's CPU time, which
     * other processes on a busy machine do not inflate (wall-clock best-of-7 there switched the
     * fused path off at 90% and 98%, and at 95% with best-of-15); with several threads wall time,
     * since the pool's workers do part of the work.
     */
    private static long now() {
        return CPU_CLOCK ? CPU.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static Tensor random(int[] shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(DType.F32, shape);
        MemorySegment s = t.segment();
        long n = t.size();
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        return t;
    }

    /** One line per layer for {@code --explain}. */
    public static String explain(List<LayerChoice> choices) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-28s %8s %13s %10s %10s%n", "layer", "density", "chosen", "dense_us", "sparse_us"));
        for (LayerChoice c : choices) {
            b.append(String.format(Locale.ROOT, "%-28s %8.4f %13s %10.1f %10.1f%n", c.name(), c.density(), c.chosen(), c.denseUs(), c.sparseUs()));
        }
        return b.toString();
    }
}
