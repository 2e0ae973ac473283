package dev.shears.nn.layers;

import dev.shears.engine.Tensor;
import dev.shears.engine.kernels.BatchNorm;
import dev.shears.nn.Parameter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Batch normalisation over NCHW, as PyTorch's BatchNorm2d: in training, batch statistics per
 * channel (biased variance to normalise, unbiased for the running update, momentum weighting the
 * new value); in evaluation, the running statistics. weight (gamma) 1 and bias (beta) 0 at start;
 * running_mean 0 and running_var 1 are buffers. The arithmetic is the engine's BatchNorm family:
 * one read of x for the statistics (shifted sums), one normalise-affine pass; backward one pass for
 * both reductions and one for dx (in place when dy is private); channel by channel, so each second
 * pass reads the channel from cache. A following ReLU can run inside
 * the same passes ({@link #forwardRelu}/{@link #backwardRelu}, which the container calls; the
 * mask is recomputed from x, never stored). Pinned by GradientCheckTest, BatchNormReluTest and
 * the golden tests.
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
    private final double[] mean, invStd;  // (c): the statistics the last forward normalised with
    private final double[] sum, sumSq, center; // (c): per-channel reductions
    private final float[] forwardScale, forwardShift; // (c): the last forward's y = scale x + shift (the fused ReLU's mask is its sign)
    private final float[] scale, shift, xCoefficient; // (c): backward's dx = scale g + xCoefficient x + shift
    private int batch;
    private boolean lastTraining;
    private boolean lastRelu;        // the last forward ran with the fused ReLU
    private long count;              // values per channel in the last forward (N h w)
    private final BatchNorm.ChannelStep forwardCoefficients = ch -> forwardCoefficients(ch, true);
    private final BatchNorm.ChannelStep backwardCoefficients = this::backwardCoefficients;
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
        this.forwardScale = new float[c];
        this.forwardShift = new float[c];
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
        dx = gradientInPlace ? null : acts.inputGradient(this, name + ".dx", batch, c, h, w);
    }

    // x: (N, c, h, w) -> y: (N, c, h, w)
    @Override
    public Tensor forward(Tensor x, boolean training) {
        return forward(x, training, false);
    }

    // x: (N, c, h, w) -> y = relu(bn(x)): (N, c, h, w), one pass over x after the statistics
    /** This layer and the ReLU after it in one step (the container runs the pair; see Sequential). */
    Tensor forwardRelu(Tensor x, boolean training) {
        return forward(x, training, true);
    }

    private Tensor forward(Tensor x, boolean training, boolean relu) {
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
        this.lastRelu = relu;
        this.count = count;
        if (training) {
            // channel by channel: statistics, this channel's affine map (and running update), normalise
            BatchNorm.trainingForward(x.segment(), y.segment(), n, c, p, center, sumSq, forwardCoefficients, forwardScale, forwardShift, relu);
        } else {
            for (int ch = 0; ch < c; ch++) forwardCoefficients(ch, false);
            BatchNorm.normalize(x.segment(), y.segment(), n, c, p, forwardScale, forwardShift, relu);
        }
        return y;
    }

    /** Channel ch's y = scale x + shift from the batch statistics (center, sumSq: training, also updating the running ones) or the running ones. */
    private void forwardCoefficients(int ch, boolean training) {
        MemorySegment g = gamma.value().segment(), b = beta.value().segment();
        MemorySegment rm = runningMean.segment(), rv = runningVar.segment();
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
        forwardScale[ch] = (float) (g.getAtIndex(F, ch) * inv);
        forwardShift[ch] = (float) (b.getAtIndex(F, ch) - mu * g.getAtIndex(F, ch) * inv);
    }

    // dy: (N, c, h, w) -> dx; dgamma += sum dy * xhat; dbeta += sum dy
    @Override
    public Tensor backward(Tensor dy) {
        if (lastRelu) throw new IllegalStateException("layer '" + name + "': the last forward ran with the fused ReLU; backward must too");
        return backward(dy, false);
    }

    // dy (of the ReLU's output): (N, c, h, w) -> dx; the ReLU mask applied inside both passes
    /** Backward of {@link #forwardRelu}: dy is the gradient of the ReLU's output. */
    Tensor backwardRelu(Tensor dy) {
        if (!lastRelu) throw new IllegalStateException("layer '" + name + "': the last forward ran without the fused ReLU");
        return backward(dy, true);
    }

    private Tensor backward(Tensor dy, boolean relu) {
        int n = Shapes.batchOf(name, dy, outputShape());
        Shapes.requireBatch(name, n, batch);
        int p = h * w;
        Tensor out = gradientInPlace ? dy : dx;
        float[] maskScale = relu ? forwardScale : null, maskShift = relu ? forwardShift : null;
        // channel by channel: sum g and sum g (x - mean), this channel's gradients and dx map, dx (may be dy itself)
        BatchNorm.backward(dy.segment(), x.segment(), out.segment(), n, c, p, maskScale, maskShift, mean, sum, sumSq, backwardCoefficients,
                scale, xCoefficient, shift);
        return out;
    }

    /** Channel ch: dgamma += sum g xhat, dbeta += sum g; dx = scale g + xCoefficient x + shift. */
    private void backwardCoefficients(int ch) {
        MemorySegment g = gamma.value().segment(), dg = gamma.grad().segment(), db = beta.grad().segment();
        double sumDy = sum[ch], sumDyXhat = sumSq[ch] * invStd[ch];
        dg.setAtIndex(F, ch, dg.getAtIndex(F, ch) + (float) sumDyXhat);
        db.setAtIndex(F, ch, db.getAtIndex(F, ch) + (float) sumDy);
        // training: dx = a (g - mean(g) - xhat mean(g xhat)) = a g + b x + k; evaluation: dx = a g
        double a = g.getAtIndex(F, ch) * invStd[ch];
        double bx = lastTraining ? -a * invStd[ch] * sumDyXhat / count : 0;
        double k = lastTraining ? -a * sumDy / count - bx * mean[ch] : 0;
        scale[ch] = (float) a;
        shift[ch] = (float) k;
        xCoefficient[ch] = (float) bx;
    }
}
