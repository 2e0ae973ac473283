package dev.shears.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * ThresholdBench's operations timed in thread CPU time on one thread, for a shared machine where
 * wall-clock JMH figures drift with other people's load: each figure is the median CPU time of
 * one call after warm-up. Not a JMH benchmark; run with -Dshears.threads=1 (else the pool's
 * other threads' work is not counted):
 *   java -Dshears.threads=1 --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp jmh/target/benchmarks.jar dev.shears.jmh.ThresholdCpuTime [repeats]
 * (add -Dshears.select=histogram for the select without its guessed window).
 */
public final class ThresholdCpuTime {
    private ThresholdCpuTime() {}

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        if (!"1".equals(System.getProperty("shears.threads"))) System.err.println("note: run with -Dshears.threads=1");
        ThresholdBench b = new ThresholdBench();
        b.sparsity = 0.9;
        b.setUp();
        try {
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            String[] names = {"radixSelect", "streamingPass", "fullSort"};
            double[][] ms = new double[names.length][repeats];
            Object sink = null;
            for (int r = -3; r < repeats; r++) { // three uncounted warm-up rounds
                for (int op = 0; op < names.length; op++) {
                    if (op == 2 && r < 0 && r != -1) continue; // the sort warms up once
                    long t0 = mx.getCurrentThreadCpuTime();
                    sink = switch (op) {
                        case 0 -> b.radixSelect();
                        case 1 -> b.streamingPass();
                        default -> b.fullSort();
                    };
                    long t1 = mx.getCurrentThreadCpuTime();
                    if (r >= 0) ms[op][r] = (t1 - t0) / 1e6;
                }
            }
            System.out.println("# select=" + System.getProperty("shears.select", "default") + " threads="
                    + System.getProperty("shears.threads", "all") + " repeats=" + repeats + " last=" + sink);
            for (int op = 0; op < names.length; op++) {
                double[] v = ms[op].clone();
                Arrays.sort(v);
                System.out.printf("%-14s median %9.2f ms cpu   min %9.2f ms%n", names[op], v[v.length / 2], v[0]);
            }
        } finally {
            b.tearDown();
        }
    }
}
