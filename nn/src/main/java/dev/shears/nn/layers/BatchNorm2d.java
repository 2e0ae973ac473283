package dev.shears.nn.layers;

import dev.shears.engine.Parallel;
import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.Elementwise;
import dev.shears.engine.kernels.Reductions;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Batch normalisation over NCHW, as PyTorch's BatchNorm2d: in training, batch statistics per
 * channel (biased variance to normalise, unbiased for the running update, momentum weighting the
 * new value); in evaluation, the running statistics. weight (gamma) 1 and bias (beta) 0 at start;
 * running_mean 0 and running_var 1 are buffers. Per-channel sums in double (Reductions, two-pass
 * variance); the normalisation is one affine pass per plane (Elementwise.affine; backward
 * Elementwise.affine2, in place when dy is private), parallel over planes.
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
    private static final int PLANE_GRAIN = 1 << 13;
    private final double[] mean, invStd;  // (c): the statistics the last forward normalised with
    private final double[] sum, sumSq, center; // (c): per-channel reductions
    private final float[] scale, shift, xCoefficient; // (c): per-channel affine maps of a pass
    private int batch;
    private boolean lastTraining;
    private boolean gradientInPlace; // dy is private: dx is computed into it
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
        this.mean = new double[c];
        this.invStd = new double[c];
        this.sum = new double[c];
        this.sumSq = new double[c];
        this.center = new double[c];
        this.scale = new float[c];
        this.shift = new float[c];
        this.xCoefficient = new float[c];
    }

    public Parameter weight() { return gamma; }
    public Parameter bias() { return beta; }
    public Tensor runningMean() { return runningMean; }
    public Tensor runningVar() { return runningVar; }
    public double eps() { return eps; }
    /** PyTorch's momentum: running = (1 - momentum) * running + momentum * batch statistic. */
    public double momentum() { return momentum; }

    @Override public String name() { return name; }
    @Override public int[] inputShape() { return new int[] {c, h, w}; }
    @Override public int[] outputShape() { return new int[] {c, h, w}; }
    @Override public boolean ownsOutput() { return true; }
    @Override public boolean ownsInputGradient() { return true; }
    @Override public void receivesPrivateGradient() { gradientInPlace = true; }

    @Override
    public void allocate(ActivationMemory acts, int batch) {
        this.batch = batch;
        y = acts.floats(name + ".out", batch, c, h, w);
        dx = gradientInPlace ? null : acts.floats(name + ".dx", batch, c, h, w);
    }

    // x: (N, c, h, w) -> y: (N, c, h, w)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        int n = Shapes.batchOf(name, x, inputShape());
        Shapes.requireBatch(name, n, batch);
        int p = h * w;
        long count = (long) n * p;
        if (training && count < 2) {
            throw new IllegalArgumentException("layer '" + name + "': batch norm in training needs more than one value per channel, got input "
                    + dev.shears.engine.Shape.str(x.shape()));
        }
        this.x = x;
        this.lastTraining = training;
        MemorySegment xs = x.segment(), ys = y.segment();
        MemorySegment g = gamma.value().segment(), b = beta.value().segment();
        MemorySegment rm = runningMean.segment(), rv = runningVar.segment();
        if (training) {
            Reductions.channelSum(xs, 0, n, c, p, sum);
            for (int ch = 0; ch < c; ch++) center[ch] = sum[ch] / count;
            Reductions.channelCenteredSumOfSquares(xs, 0, n, c, p, center, sumSq);
        }
        for (int ch = 0; ch < c; ch++) {
            double mu, var;
            if (training) {
                mu = center[ch];
                var = sumSq[ch] / count;
                rm.setAtIndex(F, ch, (float) ((1 - momentum) * rm.getAtIndex(F, ch) + momentum * mu));
                rv.setAtIndex(F, ch, (float) ((1 - momentum) * rv.getAtIndex(F, ch) + momentum * sumSq[ch] / (count - 1)));
            } else {
                mu = rm.getAtIndex(F, ch);
                var = rv.getAtIndex(F, ch);
            }
            double inv = 1.0 / Math.sqrt(var + eps);
            mean[ch] = mu;
            invStd[ch] = inv;
            scale[ch] = (float) (g.getAtIndex(F, ch) * inv);
            shift[ch] = (float) (b.getAtIndex(F, ch) - mu * g.getAtIndex(F, ch) * inv);
        }
        // y = x * scale + shift, one contiguous (h, w) plane at a time
        Parallel.forRange(n * c, Math.max(1, PLANE_GRAIN / p), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                int ch = plane % c;
                long at = (long) plane * p;
                Elementwise.affine(xs, at, scale[ch], shift[ch], ys, at, p);
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
        Tensor out = gradientInPlace ? dy : dx;
        MemorySegment xs = x.segment(), ds = dy.segment(), dxs = out.segment();
        MemorySegment g = gamma.value().segment(), dg = gamma.grad().segment(), db = beta.grad().segment();
        Reductions.channelSum(ds, 0, n, c, p, sum);
        Reductions.channelCenteredDot(ds, 0, xs, 0, n, c, p, mean, sumSq); // sum dy * (x - mean)
        for (int ch = 0; ch < c; ch++) {
            double sumDy = sum[ch], sumDyXhat = sumSq[ch] * invStd[ch];
            dg.setAtIndex(F, ch, dg.getAtIndex(F, ch) + (float) sumDyXhat);
            db.setAtIndex(F, ch, db.getAtIndex(F, ch) + (float) sumDy);
            // training: dx = a (dy - mean(dy) - xhat mean(dy xhat)) = a dy + b x + k; evaluation: dx = a dy
            double a = g.getAtIndex(F, ch) * invStd[ch];
            double bx = lastTraining ? -a * invStd[ch] * sumDyXhat / count : 0;
            double k = lastTraining ? -a * sumDy / count - bx * mean[ch] : 0;
            scale[ch] = (float) a;
            shift[ch] = (float) k;
            xCoefficient[ch] = (float) bx;
        }
        Parallel.forRange(n * c, Math.max(1, PLANE_GRAIN / p), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                int ch = plane % c;
                long at = (long) plane * p;
                Elementwise.affine2(scale[ch], ds, at, xCoefficient[ch], xs, at, shift[ch], dxs, at, p); // dx may be dy itself
            }
        });
        return out;
    }

}
