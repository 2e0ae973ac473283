package dev.shears.engine.cuda;

import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.nativelib.CudaDriver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times each device op on the shapes of a ResNet-32 training step at batch 128 (CIFAR, 32x32), with
 * CUDA events around R back-to-back launches, for scripts/gpu-check.sh: a table of op, shape, time per
 * call and effective bandwidth, plus the bare launch cost. A first look at where a device step would
 * spend its time before the layers are wired; not a JMH benchmark and not a test. Runs with
 * {@code --scale S} (batch 128/S) so the smoke test can use small shapes.
 * Usage: java ... dev.shears.engine.cuda.CudaKernelBench [--scale S] [--reps R]
 */
public final class CudaKernelBench {
    /** One timed op: its label, the bytes it moves per call (for GB/s), and the call. */
    record Op(String label, double bytes, Runnable call) {}

    /** A result line: microseconds per call (median of 5 batches of R calls) and GB/s. */
    record Row(String label, double micros, double gbPerS) {}

    private CudaKernelBench() {}

    public static void main(String[] args) {
        int scale = 1, reps = 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--scale" -> scale = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("CudaKernelBench: unknown argument " + args[i] + " (expected --scale S, --reps R)");
            }
        }
        CudaDriver.Probe p = CudaDriver.probe();
        if (!p.available()) {
            System.out.println("CudaKernelBench: " + p.line());
            return;
        }
        try (CudaDevice dev = CudaDevice.open(Device.cuda(0))) {
            for (String line : run(dev, scale, reps, true)) System.out.println(line);
        }
    }

    /** The table's lines; {@code withGemm}: include the cuBLAS GEMMs (they need libcublas and a real device). */
    static List<String> run(CudaDevice dev, int scale, int reps, boolean withGemm) {
        CudaOps ops = dev.ops();
        int batch = Math.max(2, 128 / scale);
        List<DeviceBuffer> held = new ArrayList<>();
        java.util.function.LongFunction<Long> buf = n -> {
            DeviceBuffer b = dev.allocate(n);
            dev.zero(b.address(), n);
            held.add(b);
            return b.address();
        };
        List<Op> list = new ArrayList<>();
        list.add(new Op("launch (fill, 1 float)", 4, () -> ops.fill(buf0(held, dev), 0f, 1)));
        // the three stages of ResNet-32: 16 channels at 32x32, 32 at 16x16, 64 at 8x8
        int[][] stages = {{16, 32}, {32, 16}, {64, 8}};
        for (int[] st : stages) {
            int c = st[0], hw = st[1], p = hw * hw, n = batch * c * p;
            String shape = batch + "x" + c + "x" + hw + "x" + hw;
            long x = buf.apply(n), y = buf.apply(n), dy = buf.apply(n), dx = buf.apply(n);
            long g = buf.apply(c), b = buf.apply(c), rm = buf.apply(c), rv = buf.apply(c), mean = buf.apply(2L * c), inv = buf.apply(2L * c);
            long sc = buf.apply(c), sh = buf.apply(c), dg = buf.apply(c), db = buf.apply(c);
            ops.fill(g, 1f, c);
            ops.fill(rv, 1f, c);
            list.add(new Op("relu " + shape, 8.0 * n, () -> ops.relu(x, y, n)));
            list.add(new Op("relu backward " + shape, 12.0 * n, () -> ops.reluBackward(x, dy, dx, n)));
            list.add(new Op("add (residual) " + shape, 12.0 * n, () -> ops.add(x, dy, y, n)));
            list.add(new Op("batch norm forward " + shape, 12.0 * n, () -> ops.batchNormForward(x, y, batch, c, p, g, b, rm, rv, 0.1, 1e-5, true,
                    mean, inv, sc, sh)));
            list.add(new Op("batch norm backward " + shape, 20.0 * n, () -> ops.batchNormBackward(dy, x, dx, batch, c, p, mean, inv, g, dg, db, true,
                    sc, sh, b)));
            ConvGeometry geo = ConvGeometry.square(c, hw, hw, 3, 1, 1);
            long cols = buf.apply((long) c * 9 * batch * p);
            list.add(new Op("im2col 3x3 " + shape, 4.0 * n + 4.0 * c * 9 * batch * p, () -> ops.im2col(geo, batch, x, (long) c * p, cols, (long) batch * p)));
            list.add(new Op("col2im 3x3 " + shape, 8.0 * n + 4.0 * c * 9 * batch * p, () -> ops.col2im(geo, batch, cols, (long) batch * p, dx, (long) c * p)));
            long w = buf.apply((long) c * c * 9);
            if (withGemm) list.add(new Op("gemm fwd " + c + "x" + batch * p + "x" + c * 9 + " (cuBLAS)", 4.0 * (c * 9L * batch * p + (long) c * batch * p), () ->
                    ops.gemm(false, false, c, batch * p, c * 9, 1f, w, c * 9, cols, batch * p, 0f, y, batch * p)));
        }
        int params = 464154;
        long wt = buf.apply(params), gr = buf.apply(params), mo = buf.apply(params), m2 = buf.apply(params), mask = buf.apply(params);
        ops.fill(mask, 1f, params);
        list.add(new Op("sgd step (ResNet-32 params, masked)", 20.0 * params, () -> ops.sgdStep(wt, gr, mo, mask, params, 0.1f, 0.9f, 5e-4f, true, 0f,
                false, true)));
        list.add(new Op("adam step (ResNet-32 params, masked)", 28.0 * params, () -> ops.adamStep(wt, gr, mo, m2, mask, params, 1e-3f, 0.9f, 0.999f,
                1e-8f, 0f, 1f, 3, true)));
        long logits = buf.apply(batch * 10L), labels = buf.apply(batch), dl = buf.apply(batch * 10L), rl = buf.apply(2L * batch), rc = buf.apply(batch);
        long lt = buf.apply(2), ct = buf.apply(2);
        list.add(new Op("cross-entropy " + batch + "x10", 12.0 * batch * 10, () -> ops.crossEntropy(logits, labels, dl, batch, 10, 0.1f, rl, rc, lt, ct)));
        long pooled = buf.apply(batch * 64L), act = buf.apply(batch * 64L * 64);
        list.add(new Op("global avg pool " + batch + "x64x8x8", 4.0 * batch * 64 * 65, () -> ops.globalAvgPool(act, pooled, batch * 64, 64)));
        list.add(new Op("dropout " + batch + "x64x8x8", 12.0 * batch * 64 * 64, () -> ops.dropout(act, act, act, batch * 64L * 64, 0.1, 7, 1)));

        CudaDriver d = dev.driver();
        long start = d.createEvent(), end = d.createEvent();
        List<String> out = new ArrayList<>();
        out.add("# CudaKernelBench " + dev.describe() + ", batch " + batch + ", " + reps + " calls per timing, median of 5");
        out.add(String.format(Locale.ROOT, "%-48s %12s %10s", "op", "us/call", "GB/s"));
        for (Op op : list) {
            try {
                op.call().run(); // warm-up (and the first cuBLAS call's setup)
                double[] t = new double[5];
                for (int r = 0; r < t.length; r++) {
                    d.record(start, dev.stream());
                    for (int i = 0; i < reps; i++) op.call().run();
                    d.record(end, dev.stream());
                    d.synchronizeEvent(end);
                    t[r] = d.elapsedMillis(start, end) * 1000.0 / reps;
                }
                Arrays.sort(t);
                Row row = new Row(op.label(), t[2], op.bytes() / (t[2] * 1e-6) / 1e9);
                out.add(String.format(Locale.ROOT, "%-48s %12.2f %10.1f", row.label(), row.micros(), row.gbPerS()));
            } catch (RuntimeException e) {
                out.add(String.format(Locale.ROOT, "%-48s %s", op.label(), "not run: " + e.getMessage()));
            }
        }
        dev.synchronize();
        d.destroyEvent(start);
        d.destroyEvent(end);
        for (DeviceBuffer b : held) b.close();
        return out;
    }

    private static long buf0(List<DeviceBuffer> held, CudaDevice dev) {
        if (held.isEmpty()) held.add(dev.allocate(64));
        return held.getFirst().address();
    }
}
