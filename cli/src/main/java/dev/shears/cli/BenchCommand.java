package dev.shears.cli;

import dev.shears.datasets.Dataset;
import dev.shears.datasets.Splits;
import dev.shears.engine.DType;
import dev.shears.engine.EngineInfo;
import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.optim.Optimizer;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.train.BatchSource;
import dev.shears.nn.train.LoaderSource;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears bench}: end-to-end figures to put next to the PyTorch peers, printed as
 * {@code name value unit} lines like the peer scripts. {@code bench train}: the training step of
 * a zoo model on random data (SGD momentum 0.9, lr 0.1, weight decay 5e-4, as
 * {@code peers/resnet32_train.py}), median and best ms/step after warm-up, images/s, peak RSS
 * (VmHWM), and with one thread the step's CPU time on that thread (steadier than wall time on a
 * shared machine); with {@code --epoch DATASET}, one full training epoch over that dataset's loader
 * instead. Not a micro-benchmark harness (kernels are in the jmh module). Pinned by CliTest.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "End-to-end benchmarks (see: shears bench train --help).",
        subcommands = {BenchCommand.Train.class, BenchRnnCommand.class, BenchInferCommand.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("usage: shears bench train --model resnet32 --batch 128 [--steps N --warmup W --threads T]");
        System.out.println("       shears bench rnn --cell fastgrnn|gru --input 9 --hidden 128 --steps 128 --batch 1|128");
        System.out.println("       shears bench infer --model resnet32 --sparsity 0.95 --batch 1 [--iters N --explain]");
    }

    @Command(name = "train", mixinStandardHelpOptions = true, description = "Training-step throughput of a zoo model (random data), or one epoch over a dataset.", sortOptions = false)
    static final class Train implements Runnable {
        @Option(names = "--model", defaultValue = "resnet32", description = "Zoo model (default: ${DEFAULT-VALUE}).")
        String model;

        @Option(names = "--batch", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--input", defaultValue = "3x32x32", description = "Input CxHxW for random data (default: ${DEFAULT-VALUE}).")
        String input;

        @Option(names = "--classes", defaultValue = "10", description = "Classes (default: ${DEFAULT-VALUE}).")
        int classes;

        @Option(names = "--steps", defaultValue = "12", description = "Timed steps (default: ${DEFAULT-VALUE}, as the peer).")
        int steps;

        @Option(names = "--warmup", defaultValue = "3", description = "Untimed warm-up steps (default: ${DEFAULT-VALUE}, as the peer).")
        int warmup;

        @Option(names = "--epoch", paramLabel = "DATASET", description = "Time one training epoch over DATASET (e.g. fashion-mnist-full) instead of random steps.")
        String epochDataset;

        @Option(names = "--data", description = "Data folder for --epoch.")
        Path data;

        @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
        double momentum;

        @Option(names = "--lr", defaultValue = "0.1", description = "Learning rate (default: ${DEFAULT-VALUE}).")
        double lr;

        @Option(names = "--weight-decay", defaultValue = "5e-4", description = "Weight decay (default: ${DEFAULT-VALUE}).")
        double weightDecay;

        @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--threads", description = "Worker threads (default: all cores).")
        Integer threads;

        @Override
        public void run() {
            TrainCommand.applyThreads(threads);
            if (batch < 1) throw new UserError("--batch must be >= 1, got " + batch);
            if (steps < 1) throw new UserError("--steps must be >= 1, got " + steps);
            if (warmup < 0) throw new UserError("--warmup must be >= 0, got " + warmup);
            System.out.println("# shears bench train " + String.join(" ", EngineInfo.lines()).replaceAll("\\s+", " "));
            System.out.println("# threads " + Parallel.threads());
            if (epochDataset != null) epoch();
            else steps();
        }

        private void steps() {
            int[] chw = parseInput(input);
            ModelConfig cfg = new ModelConfig(chw[0], chw[1], chw[2], classes, seed, java.util.Map.of());
            String tag = model + "." + chw[0] + "x" + chw[1] + "x" + chw[2] + "_b" + batch;
            try (Model net = ModelZoo.create(model, cfg); Workspace ws = new Workspace("bench");
                 Tensor x = Tensor.allocate(DType.F32, batch, chw[0], chw[1], chw[2]); Tensor y = Tensor.allocate(DType.I32, batch)) {
                SplittableRandom r = new SplittableRandom(seed);
                float[] xs = new float[(int) x.size()];
                for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
                x.copyFrom(xs);
                for (int i = 0; i < batch; i++) y.setInt(i, r.nextInt(classes));
                Optimizer opt = OptimizerConfig.sgd(momentum, false, weightDecay).create(net.parameters(), ws);
                Tensor d = null;
                List<Double> times = new ArrayList<>(), cpuTimes = new ArrayList<>();
                java.lang.management.ThreadMXBean clock = java.lang.management.ManagementFactory.getThreadMXBean();
                for (int i = 0; i < warmup + steps; i++) {
                    long t0 = System.nanoTime(), c0 = clock.getCurrentThreadCpuTime();
                    Tensor logits = net.forward(x, true);
                    if (d == null) d = ws.floats("dLogits", logits.shape());
                    SoftmaxCrossEntropy.compute(logits, y, 0, d);
                    opt.zeroGrad();
                    net.backward(d);
                    opt.step(lr);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (i >= warmup) {
                        times.add(ms);
                        cpuTimes.add((clock.getCurrentThreadCpuTime() - c0) / 1e6);
                    }
                }
                long params = net.parameters().stream().mapToLong(p -> p.size()).sum();
                emit(tag + ".params", params, "params");
                report(tag + ".train_step", times, batch);
                // one worker thread does all the work on this thread: its CPU time per step is what a
                // loaded machine does not inflate (preemption), so ratios to a peer's read steadier
                if (Parallel.threads() == 1) report(tag + ".train_step.thread_cpu", cpuTimes, batch);
                rss();
            }
        }

        private void epoch() {
            Splits splits = TrainCommand.openData(epochDataset, data);
            Dataset train = splits.train();
            String tag = model + "." + train.name() + "_b" + batch;
            try (Model net = ModelZoo.create(model, TrainCommand.modelConfig(train, seed, java.util.Map.of())); Workspace ws = new Workspace("bench");
                 LoaderSource src = LoaderSource.training(train, batch, seed, dev.shears.datasets.Augment.none())) {
                Optimizer opt = OptimizerConfig.sgd(momentum, false, weightDecay).create(net.parameters(), ws);
                java.util.Map<Integer, Tensor> grads = new java.util.HashMap<>();
                long t0 = System.nanoTime();
                long images = 0;
                double lossSum = 0;
                try (BatchSource.Epoch it = src.epoch(0)) {
                    while (it.hasNext()) {
                        BatchSource.Batch b = it.next();
                        Tensor logits = net.forward(b.images(), true);
                        Tensor d = grads.computeIfAbsent(b.size(), k -> ws.floats("dLogits" + k, logits.shape()));
                        lossSum += SoftmaxCrossEntropy.compute(logits, b.labels(), 0, d).lossSum();
                        opt.zeroGrad();
                        net.backward(d);
                        opt.step(lr);
                        images += b.size();
                    }
                }
                double s = (System.nanoTime() - t0) / 1e9;
                emit(tag + ".epoch.train_s", s, "s");
                emit(tag + ".epoch.img_per_s", images / s, "img/s");
                emit(tag + ".epoch.train_loss", lossSum / images, "nats");
                rss();
            }
        }

        private static int[] parseInput(String s) {
            String[] p = s.trim().toLowerCase(Locale.ROOT).split("x");
            try {
                if (p.length != 3) throw new NumberFormatException();
                int[] v = {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
                for (int d : v) if (d < 1) throw new NumberFormatException();
                return v;
            } catch (NumberFormatException e) {
                throw new UserError("--input must be CxHxW with positive numbers (e.g. 3x32x32), got '" + s + "'");
            }
        }

        private static void report(String base, List<Double> ms, int work) {
            List<Double> sorted = new ArrayList<>(ms);
            Collections.sort(sorted);
            int n = sorted.size();
            double med = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
            double min = sorted.getFirst();
            emit(base + ".ms.n", n, "runs");
            emit(base + ".ms.med", med, "ms");
            emit(base + ".ms.min", min, "ms");
            emit(base + ".img_per_s.med", work / (med / 1e3), "img/s");
            emit(base + ".img_per_s.best", work / (min / 1e3), "img/s");
        }

        private static void rss() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmHWM:") || line.startsWith("VmRSS:")) {
                        String[] f = line.split("\\s+");
                        emit(line.startsWith("VmHWM") ? "process.peak_rss" : "process.rss", Long.parseLong(f[1]) / 1024.0, "MiB");
                    }
                }
            } catch (IOException | RuntimeException e) {
                System.out.println("# peak RSS unavailable (" + e.getMessage() + ")");
            }
        }

        private static void emit(String name, double value, String unit) {
            System.out.println(name + " " + (value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : String.format(Locale.ROOT, "%.3f", value)) + " " + unit);
        }
    }
}
