package dev.shears.cli;

import dev.shears.engine.DType;
import dev.shears.engine.EngineInfo;
import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.engine.kernels.Rnn;
import dev.shears.nn.Model;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.optim.Optimizer;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears bench rnn}: the recurrent classifiers against {@code peers/fastgrnn.py} and
 * {@code scripts/peers/gru.py}. Batch 1: inference latency of one sequence (forward of the cell
 * and the linear head, no gradients), microseconds per sequence. Larger batches: a training step
 * (forward, softmax cross-entropy, backward through time, Adam at lr 1e-2, as the peer) in
 * sequences per second, with the forward and backward shares. Random N(0, 1) inputs, random
 * labels; median and best after warm-up, printed as {@code name value unit} lines like the peers,
 * with CPU times per call too: the process's (all threads, a coarse clock, hence the mean) and the
 * calling thread's (with {@code --threads 1} the whole computation, without JIT or GC threads):
 * fairer figures than wall time on a loaded machine.
 * Not a kernel micro-benchmark (those are in the jmh module). Pinned by CliTest's smoke run.
 */
@Command(name = "rnn", mixinStandardHelpOptions = true, description = "Recurrent cells: batch-1 inference latency (us/sequence) or training throughput (sequences/s).", sortOptions = false)
final class BenchRnnCommand implements Runnable {
    @Option(names = "--cell", defaultValue = "fastgrnn", description = "fastgrnn or gru (default: ${DEFAULT-VALUE}).")
    String cell;

    @Option(names = "--input", defaultValue = "9", description = "Features per step (default: ${DEFAULT-VALUE}).")
    int input;

    @Option(names = "--hidden", defaultValue = "128", description = "Hidden units (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--steps", defaultValue = "128", description = "Time steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "1", description = "1: inference latency; more: training throughput (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--classes", defaultValue = "6", description = "Classes of the head (default: ${DEFAULT-VALUE}, as the peer for 9 inputs).")
    int classes;

    @Option(names = "--rank-w", defaultValue = "full", description = "FastGRNN rank of W (default: ${DEFAULT-VALUE}).")
    String rankW;

    @Option(names = "--rank-u", defaultValue = "full", description = "FastGRNN rank of U (default: ${DEFAULT-VALUE}).")
    String rankU;

    @Option(names = "--seconds", defaultValue = "3", description = "Time budget of the measured runs (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--warmup", description = "Untimed runs first (default: at least 200 calls and 2 s for batch 1, 5 steps and 3 s for training).")
    Integer warmup;

    @Option(names = "--max-reps", defaultValue = "2000", description = "At most this many measured runs (default: ${DEFAULT-VALUE}).")
    int maxReps;

    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Override
    public void run() {
        TrainCommand.applyThreads(threads);
        String c = cell.trim().toLowerCase(Locale.ROOT);
        if (!c.equals("fastgrnn") && !c.equals("gru")) throw new UserError("--cell must be fastgrnn or gru, got '" + cell + "'");
        require(input >= 1 && hidden >= 1 && steps >= 1 && batch >= 1 && classes >= 1, "--input, --hidden, --steps, --batch and --classes must be >= 1");
        require(seconds > 0 && maxReps >= 1, "--seconds must be > 0 and --max-reps >= 1");
        Map<String, String> options = c.equals("fastgrnn")
                ? Map.of("hidden", Integer.toString(hidden), "rank-w", rankW, "rank-u", rankU)
                : Map.of("hidden", Integer.toString(hidden));
        ModelConfig cfg = new ModelConfig(1, steps, input, classes, seed, options);
        String tag = c + ".I" + input + "_H" + hidden + "_T" + steps + (c.equals("fastgrnn") && !(rankW.equals("full") && rankU.equals("full")) ? "_r" + rankW + "x" + rankU : "");
        System.out.println("# shears bench rnn " + String.join(" ", EngineInfo.lines()).replaceAll("\\s+", " "));
        System.out.println("# threads " + Parallel.threads() + "; rnn kernels " + Rnn.implementation());
        Model net;
        try {
            net = ModelZoo.create(c, cfg);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try (net; Workspace ws = new Workspace("bench"); Tensor x = Tensor.allocate(DType.F32, batch, steps, input); Tensor y = Tensor.allocate(DType.I32, batch)) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] xs = new float[(int) x.size()];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
            x.copyFrom(xs);
            for (int i = 0; i < batch; i++) y.setInt(i, r.nextInt(classes));
            emit(tag + ".params", net.parameters().stream().mapToLong(p -> p.size()).sum(), "params");
            emit(tag + ".fwd_mflop_per_seq", 2.0 * steps * ((double) hidden * input + (double) hidden * hidden) * (c.equals("gru") ? 3 : 1) / 1e6, "MFLOP");
            if (batch == 1) infer(net, x, tag);
            else train(net, ws, x, y, tag);
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** CPU time of the calling thread, nanoseconds (with --threads 1: the whole computation, without JIT and GC threads). */
    private static long threadCpuNanos() {
        return THREADS.getCurrentThreadCpuTime();
    }

    /** CPU time of this process (all its threads), nanoseconds; -1 when the VM does not say. */
    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private void infer(Model net, Tensor x, String tag) {
        long warmEnd = System.nanoTime() + 2_000_000_000L;
        for (int i = 0; warmup != null ? i < warmup : (i < 200 || System.nanoTime() < warmEnd); i++) net.forward(x, false); // C2 needs a while
        List<Double> us = new ArrayList<>(), cpu = new ArrayList<>(), own = new ArrayList<>();
        long budget = (long) (seconds * 1e9), start = System.nanoTime();
        while (us.size() < maxReps && (us.size() < 10 || System.nanoTime() - start < budget)) {
            long c0 = processCpuNanos(), o0 = threadCpuNanos(), t0 = System.nanoTime();
            net.forward(x, false);
            us.add((System.nanoTime() - t0) / 1e3);
            own.add((threadCpuNanos() - o0) / 1e3);
            cpu.add((processCpuNanos() - c0) / 1e3);
        }
        String base = tag + ".infer_b1";
        double med = median(us), min = Collections.min(us);
        emit(base + ".us.n", us.size(), "runs");
        emit(base + ".us.med", med, "us");
        emit(base + ".us.min", min, "us");
        emit(base + ".cpu_us.mean", mean(cpu), "us");
        emit(base + ".thread_cpu_us.med", median(own), "us");
        emit(base + ".seq_per_s.med", 1e6 / med, "seq/s");
        emit(base + ".seq_per_s.best", 1e6 / min, "seq/s");
    }

    private void train(Model net, Workspace ws, Tensor x, Tensor y, String tag) {
        Optimizer opt = OptimizerConfig.adam(0).create(net.parameters(), ws);
        int w = warmup != null ? warmup : 5;
        long warmEnd = System.nanoTime() + 3_000_000_000L; // without --warmup: at least 5 steps and 3 s (C2 compiles the kernels meanwhile)
        Tensor d = null;
        List<Double> total = new ArrayList<>(), fwd = new ArrayList<>(), bwd = new ArrayList<>(), cpu = new ArrayList<>(), own = new ArrayList<>();
        long budget = (long) (seconds * 1e9), start = 0;
        for (int i = 0; ; i++) {
            if (i == w && warmup == null && System.nanoTime() < warmEnd) w++; // keep warming up
            if (i == w) start = System.nanoTime();
            if (i >= w && (total.size() >= maxReps || (total.size() >= 5 && System.nanoTime() - start > budget))) break;
            long c0 = processCpuNanos(), o0 = threadCpuNanos(), t0 = System.nanoTime();
            Tensor logits = net.forward(x, true);
            if (d == null) d = ws.floats("dLogits", logits.shape());
            SoftmaxCrossEntropy.compute(logits, y, 0, d);
            long t1 = System.nanoTime();
            opt.zeroGrad();
            net.backward(d);
            long t2 = System.nanoTime();
            opt.step(1e-2);
            long t3 = System.nanoTime(), c3 = processCpuNanos(), o3 = threadCpuNanos();
            if (i >= w) {
                total.add((t3 - t0) / 1e6);
                cpu.add((c3 - c0) / 1e6);
                own.add((o3 - o0) / 1e6);
                fwd.add((t1 - t0) / 1e6);
                bwd.add((t2 - t1) / 1e6);
            }
        }
        String base = tag + ".train_b" + batch;
        double med = median(total), min = Collections.min(total);
        emit(base + ".ms.n", total.size(), "runs");
        emit(base + ".ms.med", med, "ms");
        emit(base + ".ms.min", min, "ms");
        emit(base + ".cpu_ms.mean", mean(cpu), "ms");
        emit(base + ".thread_cpu_ms.med", median(own), "ms");
        emit(base + ".forward_ms.med", median(fwd), "ms");
        emit(base + ".backward_ms.med", median(bwd), "ms");
        emit(base + ".seq_per_s.med", batch / (med / 1e3), "seq/s");
        emit(base + ".seq_per_s.best", batch / (min / 1e3), "seq/s");
    }

    private static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static void emit(String name, double value, String unit) {
        System.out.println(name + " " + (value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : String.format(Locale.ROOT, "%.3f", value)) + " " + unit);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new UserError(message);
    }
}
