package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.DepthwiseKernel;
import dev.shears.engine.kernels.DepthwiseScalar;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link DepthwiseKernel} for stride 1: in the wide layout every tap reads the
 * input at a fixed offset from the output position, so a whole plane (oh rows of wp, the wp-ow
 * extra columns computed and discarded) is one contiguous vector loop per tap, small planes (4x4,
 * 8x8) included. Stride 2 and planes shorter than a vector run the scalar spec. Pinned by ConvTest
 * (both twins against a double-precision reference on awkward shapes).
 */
public final class DepthwiseSimd implements DepthwiseKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final int L = S.length();
    private final DepthwiseScalar scalar = new DepthwiseScalar();

    /** Whether the wide loop applies: stride 1, a plane of at least one vector, reads within the slack. */
    private static boolean wide(int k, int stride, int oh, int wp) {
        return stride == 1 && oh * wp >= L && L + k + 2 < SLACK;
    }

    @Override
    public void forward(float[] in, int wp, float[] taps, int k, int stride, float bias, float[] out, int oh, int ow) {
        if (!wide(k, stride, oh, wp)) {
            scalar.forward(in, wp, taps, k, stride, bias, out, oh, ow);
            return;
        }
        int n = oh * wp;
        FloatVector b = FloatVector.broadcast(S, bias);
        // body: one accumulator per output vector, all k*k taps folded in before the single store;
        // no tail: the last vector runs into out's and in's slack (the contract's zeros)
        for (int q = 0; q < n; q += L) {
            FloatVector acc = b;
            for (int ki = 0; ki < k; ki++) {
                int row = q + ki * wp;
                for (int kj = 0; kj < k; kj++) {
                    acc = FloatVector.fromArray(S, in, row + kj).fma(FloatVector.broadcast(S, taps[ki * k + kj]), acc);
                }
            }
            acc.intoArray(out, q);
        }
    }

    @Override
    public void weightGradient(float[] in, int wp, float[] dy, int k, int stride, int oh, int ow, double[] sums) {
        if (!wide(k, stride, oh, wp)) {
            scalar.weightGradient(in, wp, dy, k, stride, oh, ow, sums);
            return;
        }
        int n = oh * wp;
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                int off = ki * wp + kj;
                // body: two accumulators hide the FMA latency; dy is zero past the valid columns and rows, so no tail
                FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
                int q = 0;
                for (; q + L < n; q += 2 * L) {
                    a0 = FloatVector.fromArray(S, dy, q).fma(FloatVector.fromArray(S, in, q + off), a0);
                    a1 = FloatVector.fromArray(S, dy, q + L).fma(FloatVector.fromArray(S, in, q + L + off), a1);
                }
                if (q < n) a0 = FloatVector.fromArray(S, dy, q).fma(FloatVector.fromArray(S, in, q + off), a0);
                sums[ki * k + kj] += KernelSpecies.sumLanes(a0.add(a1)); // reduce in lane order
            }
        }
    }

    @Override
    public void inputGradient(float[] dy, float[] taps, int k, int stride, int oh, int ow, float[] din, int wp) {
        if (!wide(k, stride, oh, wp)) {
            scalar.inputGradient(dy, taps, k, stride, oh, ow, din, wp);
            return;
        }
        int n = oh * wp;
        // body: per tap an axpy of the whole wide plane (dy's extra columns are zero, so they add nothing)
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                int off = ki * wp + kj;
                FloatVector wt = FloatVector.broadcast(S, taps[ki * k + kj]);
                for (int q = 0; q < n; q += L) {
                    FloatVector.fromArray(S, dy, q).fma(wt, FloatVector.fromArray(S, din, q + off)).intoArray(din, q + off);
                }
            }
        }
    }
}
