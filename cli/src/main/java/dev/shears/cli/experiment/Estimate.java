package dev.shears.cli.experiment;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.optim.Optimizer;
import dev.shears.nn.optim.OptimizerConfig;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How long a plan takes on this machine, for {@code --dry-run}: after a warm-up, three training
 * steps (forward, backward, SGD step) and three evaluation passes of the plan's model on random
 * inputs of the data's shape are timed here and now, per sample (median), then multiplied by the
 * samples the plan trains and evaluates. The measuring batch is capped near 1 G multiply-accumulates
 * so big models stay quick; per-sample cost at the plan's larger batches is usually lower, so the
 * figure leans high. Data loading is not included. Not a benchmark (the jmh module has those).
 * Pinned by PlanTest (the counting), not the timing.
 */
record Estimate(double trainSecondsPerSample, double evalSecondsPerSample, int measureBatch, long trainSamples, long evalSamples) {

    /** Samples and shape of a dataset as the plan sees it (subsets applied). */
    record DataShape(int train, int test, int[] sampleShape, int classes, String source) {}

    /** The published sizes of the datasets {@code Datasets.open} knows, for plans whose data is not on this machine. */
    static DataShape known(String dataset) {
        String d = dataset.replaceAll("-(rows|pixels)$", "");
        DataShape s = switch (d) {
            case "fashion-mnist" -> new DataShape(10_000, 2_000, new int[] {1, 28, 28}, 10, "embedded subset");
            case "fashion-mnist-full", "mnist" -> new DataShape(60_000, 10_000, new int[] {1, 28, 28}, 10, "published size");
            case "cifar10" -> new DataShape(50_000, 10_000, new int[] {3, 32, 32}, 10, "published size");
            case "cifar100" -> new DataShape(50_000, 10_000, new int[] {3, 32, 32}, 100, "published size");
            case "cifar100-coarse" -> new DataShape(50_000, 10_000, new int[] {3, 32, 32}, 20, "published size");
            case "har-6" -> new DataShape(7_352, 2_947, new int[] {128, 9}, 6, "published size");
            case "har-2" -> new DataShape(7_352, 2_947, new int[] {128, 9}, 2, "published size");
            case "imagefolder" -> new DataShape(1_281_167, 50_000, new int[] {3, 224, 224}, 1000, "ImageNet-1k's published size");
            default -> throw new IllegalArgumentException("unknown dataset '" + dataset + "'");
        };
        if (dataset.endsWith("-rows") && s.sampleShape().length == 3) {
            int[] sh = s.sampleShape();
            return new DataShape(s.train(), s.test(), new int[] {sh[1], sh[0] * sh[2]}, s.classes(), s.source());
        }
        return s;
    }

    /** Samples trained and evaluated by the whole plan (dense runs included unless a checkpoint is given). */
    static long[] samples(Plan plan, int train, int test) {
        long tr = 0, ev = 0;
        if (plan.denseCheckpoint() == null) {
            boolean needsDense = plan.methods().stream().anyMatch(m -> !m.equals("gradual-global"));
            if (needsDense) {
                tr += (long) plan.seeds().size() * plan.dense().epochs() * perEpoch(plan.dense(), train);
                ev += (long) plan.seeds().size() * (plan.dense().epochs() + 1) * test;
            }
        }
        for (Plan.Cell c : plan.cells()) {
            int e = plan.stageFor(c).epochs();
            tr += (long) e * perEpoch(plan.stageFor(c), train);
            ev += (long) (e + (c.method().equals("gradual-global") ? 0 : 1)) * test;
        }
        return new long[] {tr, ev};
    }

    private static long perEpoch(Stage s, int train) {
        return s.samplesPerEpoch() > 0 ? Math.min(train, (long) (s.samplesPerEpoch() + s.batch() - 1) / s.batch() * s.batch()) : train;
    }

    double seconds() {
        return trainSecondsPerSample * trainSamples + evalSecondsPerSample * evalSamples;
    }

    /** Times the plan's model on this machine and scales to the plan. */
    static Estimate measure(Plan plan, DataShape shape) {
        int[] sh = shape.sampleShape();
        ModelConfig cfg = sh.length == 3 ? new ModelConfig(sh[0], sh[1], sh[2], shape.classes(), 0, plan.modelOptions())
                : new ModelConfig(1, sh[0], sh[1], shape.classes(), 0, plan.modelOptions());
        try (Network net = ModelZoo.create(plan.model(), cfg); Workspace ws = new Workspace("estimate")) {
            // about 1 G multiply-accumulates per forward pass: batches big enough to be typical, steps of seconds at most
            int batch = (int) Math.max(1, Math.min(Math.min(plan.dense().batch(), 32), 1_000_000_000L / Math.max(1, net.macs())));
            int[] xs = new int[sh.length + 1];
            xs[0] = batch;
            System.arraycopy(sh, 0, xs, 1, sh.length);
            Tensor x = ws.floats("x", xs);
            SplittableRandom r = new SplittableRandom(1);
            float[] xv = new float[Math.toIntExact(x.size())];
            for (int i = 0; i < xv.length; i++) xv[i] = (float) r.nextGaussian();
            x.copyFrom(xv);
            Optimizer opt = OptimizerConfig.sgd(0.9, false, 0).create(net.parameters(), ws);
            Tensor d = null;
            // warm-up (the JIT compiles the kernels on the first steps): at least 2 steps and 3 s, at most 20 steps
            long warmEnd = System.nanoTime() + 3_000_000_000L;
            for (int step = 0; step < 20 && (step < 2 || System.nanoTime() < warmEnd); step++) d = trainStep(net, opt, x, d, r, ws);
            double[] train = new double[3], eval = new double[3];
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                trainStep(net, opt, x, d, r, ws);
                train[i] = (System.nanoTime() - t0) / 1e9 / batch;
            }
            for (int i = 0; i < 4; i++) {
                long t0 = System.nanoTime();
                net.forward(x, false);
                if (i > 0) eval[i - 1] = (System.nanoTime() - t0) / 1e9 / batch; // the first builds the evaluation activations
            }
            long[] n = samples(plan, shape.train(), shape.test());
            return new Estimate(median(train), median(eval), batch, n[0], n[1]);
        }
    }

    /** One forward, backward and SGD step at a tiny rate; returns the (reused) gradient of the logits. */
    private static Tensor trainStep(Network net, Optimizer opt, Tensor x, Tensor d, SplittableRandom r, Workspace ws) {
        Tensor logits = net.forward(x, true);
        if (d == null) {
            d = ws.floats("dlogits", logits.shape());
            float[] dv = new float[Math.toIntExact(d.size())];
            for (int i = 0; i < dv.length; i++) dv[i] = (float) (r.nextGaussian() * 1e-3);
            d.copyFrom(dv);
        }
        opt.zeroGrad();
        net.backward(d);
        opt.step(1e-6);
        return d;
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    String describe() {
        return String.format(Locale.ROOT, "%s on this machine (%d threads): %.2f ms per training sample and %.2f ms per evaluated sample, measured "
                        + "at batch %d; %,d training and %,d evaluation samples in the plan (data loading not included)",
                human(seconds()), Parallel.threads(), 1e3 * trainSecondsPerSample, 1e3 * evalSecondsPerSample, measureBatch, trainSamples, evalSamples);
    }

    static String human(double s) {
        if (!Double.isFinite(s)) return "unknown";
        if (s < 120) return String.format(Locale.ROOT, "about %.0f s", s);
        if (s < 2 * 3600) return String.format(Locale.ROOT, "about %.0f min", s / 60);
        if (s < 3 * 86400) return String.format(Locale.ROOT, "about %.1f h", s / 3600);
        return String.format(Locale.ROOT, "about %.1f days", s / 86400);
    }

}
