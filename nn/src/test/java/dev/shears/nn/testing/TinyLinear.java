package dev.shears.nn.testing;

import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.train.Seeded;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A test model: input dropout (rate p, reseeded per epoch), then a linear softmax classifier
 * {@code logits = x W^T + b}, with one buffer (the running mean of the input, like batch norm's)
 * so checkpoints and resumes have every kind of state to carry. Plain loops, deterministic.
 */
public final class TinyLinear implements Model, Seeded {
    private final Workspace ws = new Workspace("tiny");
    private final int in, classes;
    private final double dropout;
    private final Parameter weight, bias;
    private final Tensor runningMean;
    private final Map<Integer, Tensor[]> acts = new HashMap<>(); // per batch size: dropped input (N, in), logits (N, classes)
    private SplittableRandom rng = new SplittableRandom(0);
    private Tensor lastX;

    public TinyLinear(int in, int classes, double dropout, long seed) {
        this.in = in;
        this.classes = classes;
        this.dropout = dropout;
        weight = new Parameter(ws, "fc.weight", true, 1, classes, in);
        bias = new Parameter(ws, "fc.bias", false, 0, classes);
        runningMean = ws.floats("in.running_mean", in);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < weight.size(); i++) weight.value().set(i, (float) ((r.nextDouble() * 2 - 1) / Math.sqrt(in)));
    }

    @Override
    public Map<String, String> spec() {
        return Map.of("name", "tiny-linear", "in", Integer.toString(in), "classes", Integer.toString(classes));
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public Map<String, Tensor> buffers() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("in.running_mean", runningMean);
        return m;
    }

    public Parameter weight() { return weight; }

    public Tensor runningMean() { return runningMean; }

    @Override
    public void reseed(long seed, int epoch) {
        rng = new SplittableRandom(seed * 1_000_003L + epoch);
    }

    // x: (N, in...) -> logits (N, classes)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = x.dim(0);
        if (x.size() != (long) n * in) throw new IllegalArgumentException("tiny-linear expects (N, " + in + "), got " + dev.shears.engine.Shape.str(x.shape()));
        Tensor[] a = acts.computeIfAbsent(n, k -> new Tensor[] {ws.floats("x" + k, k, in), ws.floats("logits" + k, k, classes)});
        MemorySegment src = x.segment(), xd = a[0].segment(), out = a[1].segment();
        MemorySegment w = weight.value().segment(), b = bias.value().segment(), rm = runningMean.segment();
        for (int j = 0; j < in && training; j++) {
            double s = 0;
            for (int r = 0; r < n; r++) s += src.getAtIndex(JAVA_FLOAT, (long) r * in + j);
            rm.setAtIndex(JAVA_FLOAT, j, (float) (0.9 * rm.getAtIndex(JAVA_FLOAT, j) + 0.1 * s / n));
        }
        for (long i = 0; i < (long) n * in; i++) {
            float v = src.getAtIndex(JAVA_FLOAT, i);
            if (training && dropout > 0) v = rng.nextDouble() < dropout ? 0f : (float) (v / (1 - dropout));
            xd.setAtIndex(JAVA_FLOAT, i, v);
        }
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < classes; c++) {
                float s = b.getAtIndex(JAVA_FLOAT, c);
                for (int j = 0; j < in; j++) s += xd.getAtIndex(JAVA_FLOAT, (long) r * in + j) * w.getAtIndex(JAVA_FLOAT, (long) c * in + j);
                out.setAtIndex(JAVA_FLOAT, (long) r * classes + c, s);
            }
        }
        lastX = a[0];
        return a[1];
    }

    // dLogits: (N, classes); dW += dL^T x, db += sum_rows dL
    @Override
    public void backward(Tensor dLogits) {
        int n = dLogits.dim(0);
        MemorySegment d = dLogits.segment(), xd = lastX.segment();
        MemorySegment gw = weight.grad().segment(), gb = bias.grad().segment();
        for (int c = 0; c < classes; c++) {
            float sb = gb.getAtIndex(JAVA_FLOAT, c);
            for (int r = 0; r < n; r++) sb += d.getAtIndex(JAVA_FLOAT, (long) r * classes + c);
            gb.setAtIndex(JAVA_FLOAT, c, sb);
            for (int j = 0; j < in; j++) {
                float s = gw.getAtIndex(JAVA_FLOAT, (long) c * in + j);
                for (int r = 0; r < n; r++) s += d.getAtIndex(JAVA_FLOAT, (long) r * classes + c) * xd.getAtIndex(JAVA_FLOAT, (long) r * in + j);
                gw.setAtIndex(JAVA_FLOAT, (long) c * in + j, s);
            }
        }
    }

    @Override
    public void close() {
        ws.close();
    }
}
