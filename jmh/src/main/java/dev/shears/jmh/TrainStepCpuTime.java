package dev.shears.jmh;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.train.SoftmaxCrossEntropy;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One training step (forward, loss, backward; no optimizer) of a zoo model at batch 128 in
 * three builds of the same model in one JVM: every layer alone with one dx buffer per layer
 * (-Dshears.fuse=off -Dshears.sharedGradients=off while it is built: the layout before the fused
 * steps), fused BN/residual + ReLU steps, and fused steps with shared dx buffers. Steps are
 * interleaved round by round so machine load hits the builds alike; thread CPU time on one
 * thread, medians and ratios to the first build, and each build's activation bytes. Not a JMH
 * benchmark; run with -Dshears.threads=1:
 *   java -Dshears.threads=1 --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp jmh/target/benchmarks.jar dev.shears.jmh.TrainStepCpuTime [model] [rounds]
 */
public final class TrainStepCpuTime {
    private TrainStepCpuTime() {}

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "resnet32";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        if (!"1".equals(System.getProperty("shears.threads"))) System.err.println("note: run with -Dshears.threads=1");
        int n = 128;
        ModelConfig cfg = ModelConfig.cifar10();
        String[] names = {"unfused+private_dx", "fused+private_dx", "fused+shared_dx"};
        String[][] props = {{"off", "off"}, {"on", "off"}, {"on", "on"}};
        Network[] nets = new Network[names.length];
        int[] labels = new int[n];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(cfg.classes());
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (Tensor x = Tensor.allocate(DType.F32, n, cfg.channels(), cfg.height(), cfg.width());
             Tensor d = Tensor.allocate(DType.F32, n, cfg.classes())) {
            for (long i = 0; i < x.size(); i++) x.set(i, (float) rng.nextDouble(-1, 1));
            for (int v = 0; v < names.length; v++) {
                System.setProperty("shears.fuse", props[v][0]);
                System.setProperty("shears.sharedGradients", props[v][1]);
                nets[v] = ModelZoo.create(model, cfg);
            }
            System.clearProperty("shears.fuse");
            System.clearProperty("shears.sharedGradients");
            double[][] ms = new double[names.length][rounds];
            for (int r = -2; r < rounds; r++) {
                for (int v = 0; v < names.length; v++) {
                    long t0 = mx.getCurrentThreadCpuTime();
                    nets[v].zeroGrad();
                    Tensor logits = nets[v].forward(x, true);
                    SoftmaxCrossEntropy.compute(logits, labels, 0, d);
                    nets[v].backward(d);
                    long t1 = mx.getCurrentThreadCpuTime();
                    if (r >= 0) ms[v][r] = (t1 - t0) / 1e6;
                }
            }
            for (int v = 0; v < names.length; v++) {
                System.out.println(String.format(Locale.ROOT, "%s.b%d.train_step.%s %.1f ms (thread CPU time, median of %d; %.2fx the first; activations %.0f MiB)",
                        model, n, names[v], Stats.median(ms[v]), rounds, Stats.median(ms[0]) / Stats.median(ms[v]), nets[v].activationBytes() / 1048576.0));
            }
        } finally {
            for (Network net : nets) if (net != null) net.close();
        }
    }
}
