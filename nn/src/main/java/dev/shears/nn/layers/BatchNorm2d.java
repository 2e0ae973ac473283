package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Batch normalisation over NCHW, as PyTorch's BatchNorm2d: in training, batch statistics per
 * channel (biased variance to normalise, unbiased for the running update, momentum weighting the
 * new value); in evaluation, the running statistics. weight (gamma) 1 and bias (beta) 0 at start;
 * running_mean 0 and running_var 1 are buffers. Sums run in double, parallel over channels.
 * Pinned by GradientCheckTest and the golden tests.
 */
public final class BatchNorm2d implements Layer {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final String name;
    private final int c, h, w;
    private final double eps, momentum;
    private final Parameter gamma;      // (c)
    private final Parameter beta;       // (c)
    private final Tensor runningMean;   // (c)
    private final Tensor runningVar;    // (c)
    private final float[] mean, invStd; // (c): the statistics the last forward normalised with
    private int batch;
    private boolean lastTraining;
    private Tensor x, y, dx;            // (N, c, h, w)

    public BatchNorm2d(Params params, String name, int[] inShape) {
        this(params, name, inShape, 1e-5, 0.1);
    }

    public BatchNorm2d(Params params, String name, int[] inShape, double eps, double momentum) {
        if (inShape.length != 3) throw new IllegalArgumentException("layer '" + name + "' expects (C, H, W) inputs, got rank " + inShape.length);
        this.name = name;
        this.c = inShape[0];
        this.h = inShape[1];
        this.w = inShape[2];
        this.eps = eps;
        this.momentum = momentum;
        this.gamma = params.parameter(name + ".weight", false, 0, c);
        this.beta = params.parameter(name + ".bias", false, 0, c);
        this.runningMean = params.buffer(name + ".running_mean", c);
        this.runningVar = params.buffer(name + ".running_var", c);
        Params.constant(gamma.value(), 1f);
        Params.constant(runningVar, 1f);
        this.mean = new float[c];
        this.invStd = new float[c];
    }

    public Parameter weight() { return gamma; }
    public Parameter bias() { return beta; }
    public Tensor runningMean() { return runningMean; }
    public Tensor runningVar() { return runningVar; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {c, h, w}; }

    @Override
    public void allocate(Activations acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", batch, c, h, w);
        dx = acts.floats(name + ".dx", batch, c, h, w);
    }

    // x: (N, c, h, w) -> y: (N, c, h, w)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        long count = (long) n * h * w;
        if (training && count < 2) {
            throw new IllegalArgumentException("layer '" + name + "': batch norm in training needs more than one value per channel, got input "
                    + dev.shears.engine.Shape.str(x.shape()));
        }
        this.x = x;
        this.lastTraining = training;
        int p = h * w;
        MemorySegment xs = x.segment(), ys = y.segment();
        MemorySegment g = gamma.value().segment(), b = beta.value().segment();
        MemorySegment rm = runningMean.segment(), rv = runningVar.segment();
        Parallel.forRange(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double mu, var;
                if (training) {
                    double s = 0;
                    for (int i = 0; i < n; i++) {
                        long base = ((long) i * c + ch) * p;
                        for (int j = 0; j < p; j++) s += xs.getAtIndex(F, base + j);
                    }
                    mu = s / count;
                    double ss = 0;
                    for (int i = 0; i < n; i++) {
                        long base = ((long) i * c + ch) * p;
                        for (int j = 0; j < p; j++) {
                            double d = xs.getAtIndex(F, base + j) - mu;
                            ss += d * d;
                        }
                    }
                    var = ss / count;
                    rm.setAtIndex(F, ch, (float) ((1 - momentum) * rm.getAtIndex(F, ch) + momentum * mu));
                    rv.setAtIndex(F, ch, (float) ((1 - momentum) * rv.getAtIndex(F, ch) + momentum * ss / (count - 1)));
                } else {
                    mu = rm.getAtIndex(F, ch);
                    var = rv.getAtIndex(F, ch);
                }
                double inv = 1.0 / Math.sqrt(var + eps);
                mean[ch] = (float) mu;
                invStd[ch] = (float) inv;
                float scale = (float) (g.getAtIndex(F, ch) * inv);
                float shift = (float) (b.getAtIndex(F, ch) - mu * g.getAtIndex(F, ch) * inv);
                for (int i = 0; i < n; i++) {
                    long base = ((long) i * c + ch) * p;
                    for (int j = 0; j < p; j++) ys.setAtIndex(F, base + j, xs.getAtIndex(F, base + j) * scale + shift);
                }
            }
        });
        return y;
    }

    // dy: (N, c, h, w) -> dx; dgamma += sum dy * xhat; dbeta += sum dy
    @Override
    public Tensor backward(Tensor dy) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        int p = h * w;
        long count = (long) n * p;
        MemorySegment xs = x.segment(), ds = dy.segment(), dxs = dx.segment();
        MemorySegment g = gamma.value().segment(), dg = gamma.grad().segment(), db = beta.grad().segment();
        boolean training = lastTraining;
        Parallel.forRange(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                float mu = mean[ch], inv = invStd[ch];
                double sumDy = 0, sumDyXhat = 0;
                for (int i = 0; i < n; i++) {
                    long base = ((long) i * c + ch) * p;
                    for (int j = 0; j < p; j++) {
                        double d = ds.getAtIndex(F, base + j);
                        sumDy += d;
                        sumDyXhat += d * ((xs.getAtIndex(F, base + j) - mu) * inv);
                    }
                }
                dg.setAtIndex(F, ch, dg.getAtIndex(F, ch) + (float) sumDyXhat);
                db.setAtIndex(F, ch, db.getAtIndex(F, ch) + (float) sumDy);
                float scale = g.getAtIndex(F, ch) * inv;
                // training: dx = gamma*inv * (dy - mean(dy) - xhat * mean(dy*xhat)); evaluation: dx = gamma*inv * dy
                float meanDy = training ? (float) (sumDy / count) : 0f;
                float meanDyXhat = training ? (float) (sumDyXhat / count) : 0f;
                for (int i = 0; i < n; i++) {
                    long base = ((long) i * c + ch) * p;
                    for (int j = 0; j < p; j++) {
                        float xhat = (xs.getAtIndex(F, base + j) - mu) * inv;
                        dxs.setAtIndex(F, base + j, scale * (ds.getAtIndex(F, base + j) - meanDy - xhat * meanDyXhat));
                    }
                }
            }
        });
        return dx;
    }
}
