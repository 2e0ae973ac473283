package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.shears.engine.EngineInfo;
import dev.shears.engine.kernels.GemmBackend;
import dev.shears.engine.kernels.GemmBackends;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The GPU check, runnable without JUnit or Maven ({@code scripts/gpu-check.sh}): compares cuBLAS
 * (FP32 and TF32) with the java GEMM on the benchmark shapes against a rounding-error bound, then
 * times java vs cuda (with and without host<->device copies) and prints a table, also written as
 * markdown to {@code --out DIR}. Without a library or device it says so and exits 0. Exit 1 when a
 * result is outside its bound. Not a JMH benchmark: a few timed repetitions per shape, for the README.
 */
public final class CudaCheck {
    /** One GEMM: row-major {@code C(m,n) = op(A) op(B)}; {@code weightsA}: A is a layer's weights. */
    record Case(String label, boolean transA, boolean transB, int m, int n, int k, boolean weightsA) {
        double flops() {
            return 2.0 * m * n * k;
        }

        String form() {
            return (transA ? "T" : "N") + (transB ? "T" : "N");
        }
    }

    /** A comparison: the worst error as a fraction of its bound (must be <= 1; NaN: a non-finite result), and the worst error / max|C|. */
    record Accuracy(double worstOfBound, double worstRelative) {
        boolean ok() {
            return worstOfBound <= 1;
        }
    }

    /** GemmBench's shapes: squares, and the im2col GEMMs of a 3x3 conv (M = out channels, K = in channels * 9, N = batch * pixels) in their three forms. */
    static List<Case> benchmarkCases() {
        List<Case> cases = new ArrayList<>();
        for (int s : new int[] {256, 512, 1024}) cases.add(new Case(s + "^3", false, false, s, s, s, true));
        int[][] conv = {{16, 144, 131072}, {32, 288, 32768}, {64, 576, 8192}};
        for (int[] c : conv) {
            int mm = c[0], kk = c[1], nn = c[2];
            String shape = mm + "x" + kk + "x" + nn;
            cases.add(new Case(shape + " fwd", false, false, mm, nn, kk, true));          // Y(M,N) = W(M,K) X(K,N)
            cases.add(new Case(shape + " wgrad", false, true, mm, kk, nn, false));        // dW(M,K) = dY(M,N) X(K,N)^T
            cases.add(new Case(shape + " dgrad", true, false, kk, nn, mm, true));         // dX(K,N) = W(M,K)^T dY(M,N)
        }
        return cases;
    }

    private CudaCheck() {}

    public static void main(String[] args) throws IOException {
        Path out = null;
        double budgetSeconds = 150;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(need(args, ++i, "--out"));
                case "--budget-s" -> budgetSeconds = Double.parseDouble(need(args, ++i, "--budget-s"));
                case "--probe" -> { // one line and the exit status: 0 with a device, 3 without
                    System.out.println(CudaGemm.describe());
                    System.exit(CudaGemm.probe().available() ? 0 : 3);
                }
                default -> throw new IllegalArgumentException("CudaCheck: unknown argument " + args[i] + " (expected --out DIR, --budget-s SECONDS, --probe)");
            }
        }
        StringBuilder md = new StringBuilder("# Shears cuda check\n\n```\n");
        for (String line : EngineInfo.lines()) md.append(line).append('\n');
        md.append("cpu:      ").append(cpuModel()).append('\n').append("```\n\n");
        System.out.print(md);
        CudaGemm.Probe probe = CudaGemm.probe();
        if (!probe.available()) {
            String msg = "No CUDA library or device, nothing to check: " + probe.line() + "\n";
            System.out.print(msg);
            write(out, md.append(msg));
            return;
        }
        List<Case> accuracy = new ArrayList<>(benchmarkCases());
        accuracy.add(new Case("256^3", true, false, 256, 256, 256, true));
        accuracy.add(new Case("256^3", false, true, 256, 256, 256, true));
        accuracy.add(new Case("256^3", true, true, 256, 256, 256, true));
        accuracy.add(new Case("odd", true, true, 67, 129, 97, true));
        boolean ok = run(md, budgetSeconds, CudaGemm::open, accuracy, benchmarkCases(), 1);
        write(out, md);
        if (!ok) {
            System.out.println("FAILED: a cuBLAS result is outside its rounding-error bound (see above)");
            System.exit(1);
        }
    }

    /**
     * The two tables into {@code md} (and stdout); false when a result is outside its bound. Each
     * timing runs about {@code timeScale} x 0.2 s; speed rows stop once {@code budgetSeconds} are spent.
     */
    static boolean run(StringBuilder md, double budgetSeconds, java.util.function.Function<CudaGemm.Options, CudaGemmBackend> open,
                       List<Case> accuracyCases, List<Case> speedCases, double timeScale) {
        long start = System.nanoTime();
        CudaGemm.Options base = CudaGemm.Options.fromSystemProperties().withMinFlops(0);
        boolean ok = true;
        try (CudaGemmBackend fp32 = open.apply(base.withTf32(false)); CudaGemmBackend tf32 = open.apply(base.withTf32(true))) {
            GemmBackend java = GemmBackends.java();
            emit(md, "## Accuracy: cuBLAS vs the java GEMM\n\nWorst |error| as a fraction of its bound "
                    + "(2k·2^-24 + (TF32: 2^-9)) · Σ|a||b| (must be <= 1), and worst |error| / max|C|.\n\n"
                    + "| case | form | m | n | k | fp32 of bound | fp32 rel | tf32 of bound | tf32 rel |\n|---|---|---|---|---|---|---|---|---|\n");
            long seed = 1;
            for (Case c : accuracyCases) {
                List<Accuracy> both = compare(List.of(fp32, tf32), java, c, seed++);
                Accuracy a32 = both.get(0), a19 = both.get(1);
                ok &= a32.ok() && a19.ok();
                emit(md, String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %.3g%s | %.2e | %.3g%s | %.2e |%n", c.label(), c.form(), c.m(), c.n(), c.k(),
                        a32.worstOfBound(), a32.ok() ? "" : " FAIL", a32.worstRelative(), a19.worstOfBound(), a19.ok() ? "" : " FAIL", a19.worstRelative()));
            }
            emit(md, "\n## Speed (GFLOP/s, 2mnk per GEMM)\n\njava = our GEMM on " + dev.shears.engine.Parallel.threads()
                    + " threads; cuda incl = host operands, copies each call; W kept = op(A) already on the device (keepOnDevice); "
                    + "excl = operands on the device, GEMM only.\n\n"
                    + "| case | form | java | fp32 incl | fp32 W kept | fp32 excl | tf32 incl | tf32 excl |\n|---|---|---|---|---|---|---|---|\n");
            for (Case c : speedCases) {
                double elapsed = (System.nanoTime() - start) / 1e9;
                if (elapsed > budgetSeconds) {
                    emit(md, "| " + c.label() + " | " + c.form() + " | skipped: time budget of " + budgetSeconds + " s spent | | | | | |\n");
                    continue;
                }
                emit(md, String.format(Locale.ROOT, "| %s | %s | %s |%n", c.label(), c.form(), String.join(" | ", time(java, fp32, tf32, c, timeScale))));
            }
            emit(md, String.format(Locale.ROOT, "%ntotal %.1f s%n", (System.nanoTime() - start) / 1e9));
        }
        return ok;
    }

    /**
     * Runs {@code c} on each cuda backend and the java GEMM with random inputs in [-1, 1], alpha 1,
     * beta 0, and bounds the difference per element by (2k·u + TF32 rounding) · (|op(A)| |op(B)|)_ij
     * with u = 2^-24: any summation order of k products stays within k·u of the exact sum, on each
     * side; TF32 inputs carry 10 mantissa bits, so a product is off by at most 2^-9 relative.
     */
    static List<Accuracy> compare(List<CudaGemmBackend> cudas, GemmBackend java, Case c, long seed) {
        try (Arena arena = Arena.ofShared()) {
            int lda = c.transA() ? c.m() : c.k(), ldb = c.transB() ? c.k() : c.n();
            long aSize = (long) c.m() * c.k(), bSize = (long) c.k() * c.n(), cSize = (long) c.m() * c.n();
            MemorySegment a = random(arena, aSize, seed), b = random(arena, bSize, seed + 1000);
            MemorySegment want = arena.allocate(cSize * 4, 64), abs = arena.allocate(cSize * 4, 64);
            java.sgemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, a, 0, lda, b, 0, ldb, 0f, want, 0, c.n());
            List<MemorySegment> results = new ArrayList<>();
            for (CudaGemmBackend cuda : cudas) {
                MemorySegment r = arena.allocate(cSize * 4, 64);
                cuda.sgemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, a, 0, lda, b, 0, ldb, 0f, r, 0, c.n());
                results.add(r);
            }
            absInPlace(a, aSize);
            absInPlace(b, bSize);
            java.sgemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, a, 0, lda, b, 0, ldb, 0f, abs, 0, c.n());
            double maxC = 0;
            for (long i = 0; i < cSize; i++) maxC = Math.max(maxC, Math.abs(want.getAtIndex(JAVA_FLOAT, i)));
            List<Accuracy> out = new ArrayList<>();
            for (int r = 0; r < cudas.size(); r++) {
                MemorySegment got = results.get(r);
                double factor = 2.0 * c.k() * 0x1p-24 + (cudas.get(r).options().tf32() ? 0x1p-9 : 0);
                double worst = 0, worstAbs = 0;
                for (long i = 0; i < cSize; i++) {
                    double g = got.getAtIndex(JAVA_FLOAT, i), w = want.getAtIndex(JAVA_FLOAT, i);
                    double err = Math.abs(g - w), bound = factor * abs.getAtIndex(JAVA_FLOAT, i) + 1e-30;
                    if (!Double.isFinite(g)) {
                        worst = Double.NaN;
                        break;
                    }
                    worst = Math.max(worst, err / bound);
                    worstAbs = Math.max(worstAbs, err);
                }
                out.add(new Accuracy(worst, worstAbs / Math.max(maxC, 1e-30)));
            }
            return out;
        }
    }

    /** The row for {@code c}: java, fp32 incl, fp32 W kept, fp32 excl, tf32 incl, tf32 excl, in GFLOP/s. */
    private static List<String> time(GemmBackend java, CudaGemmBackend fp32, CudaGemmBackend tf32, Case c, double scale) {
        try (Arena arena = Arena.ofShared()) {
            int lda = c.transA() ? c.m() : c.k(), ldb = c.transB() ? c.k() : c.n(), ldc = c.n();
            long aSize = (long) c.m() * c.k(), bSize = (long) c.k() * c.n(), cSize = (long) c.m() * c.n();
            MemorySegment a = random(arena, aSize, 7), b = random(arena, bSize, 8), out = arena.allocate(cSize * 4, 64);
            List<String> row = new ArrayList<>();
            row.add(gflops(c, seconds(() -> java.sgemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, a, 0, lda, b, 0, ldb, 0f, out, 0, ldc), 0.3 * scale, null)));
            for (CudaGemmBackend cuda : List.of(fp32, tf32)) {
                Runnable host = () -> cuda.sgemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, a, 0, lda, b, 0, ldb, 0f, out, 0, ldc);
                row.add(gflops(c, seconds(host, 0.2 * scale, null)));
                if (cuda == fp32) {
                    if (c.weightsA()) {
                        try (CudaGemmBackend.Resident w = cuda.keepOnDevice(a)) {
                            row.add(gflops(c, seconds(host, 0.2 * scale, null)));
                        }
                    } else {
                        row.add("-");
                    }
                }
                CudaRuntime rt = cuda.runtime();
                long dA = rt.malloc(aSize * 4), dB = rt.malloc(bSize * 4), dC = rt.malloc(cSize * 4);
                try {
                    rt.copyToDevice(dA, a, aSize * 4);
                    rt.copyToDevice(dB, b, bSize * 4);
                    Runnable device = () -> cuda.deviceGemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, dA, lda, dB, ldb, 0f, dC, ldc);
                    row.add(gflops(c, seconds(device, 0.15 * scale, rt::synchronize)));
                } finally {
                    rt.free(dA);
                    rt.free(dB);
                    rt.free(dC);
                }
            }
            return row;
        }
    }

    /** Seconds per call: warm up, estimate, then enough calls to fill about {@code target} seconds. */
    private static double seconds(Runnable call, double target, Runnable sync) {
        Runnable done = sync == null ? () -> {} : sync;
        call.run();
        done.run();
        long t0 = System.nanoTime();
        call.run();
        done.run();
        double one = Math.max((System.nanoTime() - t0) / 1e9, 1e-7);
        int reps = (int) Math.max(2, Math.min(5000, target / one));
        t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) call.run();
        done.run();
        return (System.nanoTime() - t0) / 1e9 / reps;
    }

    private static String gflops(Case c, double seconds) {
        return String.format(Locale.ROOT, "%.1f", c.flops() / seconds / 1e9);
    }

    static MemorySegment random(Arena arena, long floats, long seed) {
        MemorySegment s = arena.allocate(floats * 4, 64);
        SplittableRandom rng = new SplittableRandom(seed);
        for (long i = 0; i < floats; i++) s.setAtIndex(JAVA_FLOAT, i, (float) (rng.nextDouble() * 2 - 1));
        return s;
    }

    private static void absInPlace(MemorySegment s, long floats) {
        for (long i = 0; i < floats; i++) s.setAtIndex(JAVA_FLOAT, i, Math.abs(s.getAtIndex(JAVA_FLOAT, i)));
    }

    private static void emit(StringBuilder md, String text) {
        System.out.print(text);
        System.out.flush();
        md.append(text);
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim() + ", " + Runtime.getRuntime().availableProcessors() + " cores";
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: say nothing about the model
        }
        return Runtime.getRuntime().availableProcessors() + " cores";
    }

    private static String need(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException("CudaCheck: " + option + " needs a value");
        return args[i];
    }

    /** Writes {@code cuda-check.md} into {@code dir} atomically (temp file, then rename). */
    private static void write(Path dir, CharSequence text) throws IOException {
        if (dir == null) return;
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "cuda-check", ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve("cuda-check.md"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("wrote " + dir.resolve("cuda-check.md"));
    }
}
