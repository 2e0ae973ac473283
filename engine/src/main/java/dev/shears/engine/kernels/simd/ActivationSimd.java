package dev.shears.engine.kernels.simd;

import dev.shears.engine.kernels.ActivationKernel;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD twin of ActivationScalar. Every kernel has the same shape: guard (shorter than a vector:
 * the scalar loop), bound, body of one vector per step (lanes are independent, there is nothing
 * to accumulate, and the JIT unrolls the loop itself), a masked vector tail; no reduce, no scalar
 * tail. relu is bit-exact with the spec (a compare and a blend); exp and tanh use
 * {@code lanewise(EXP / TANH)}, which the Vector API specifies to the accuracy of Math.exp /
 * Math.tanh (1 ulp in double, then narrowed), not bit-identical to the spec and not guaranteed
 * semi-monotonic. Pinned by ActivationsTest.
 */
public final class ActivationSimd implements ActivationKernel {
    private static final VectorSpecies<Float> S = KernelSpecies.FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ActivationKernel SCALAR = new dev.shears.engine.kernels.ActivationScalar();

    private static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER);
    }

    private static FloatVector load(MemorySegment s, long index, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, index * 4, ORDER, m);
    }

    @Override
    public void reluForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        if (n < S.length()) { // guard
            SCALAR.reluForward(x, xOffset, y, yOffset, n);
            return;
        }
        FloatVector zero = FloatVector.zero(S);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) { // body
            FloatVector v = load(x, xOffset + i);
            v.blend(zero, v.compare(VectorOperators.LT, 0f)).intoMemorySegment(y, (yOffset + i) * 4, ORDER);
        }
        if (i < n) { // tail
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = load(x, xOffset + i, m);
            v.blend(zero, v.compare(VectorOperators.LT, 0f)).intoMemorySegment(y, (yOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void reluBackward(MemorySegment x, long xOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        if (n < S.length()) {
            SCALAR.reluBackward(x, xOffset, dy, dyOffset, dx, dxOffset, n);
            return;
        }
        FloatVector zero = FloatVector.zero(S);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) {
            VectorMask<Float> pass = load(x, xOffset + i).compare(VectorOperators.GT, 0f);
            zero.blend(load(dy, dyOffset + i), pass).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VectorMask<Float> pass = load(x, xOffset + i, m).compare(VectorOperators.GT, 0f);
            zero.blend(load(dy, dyOffset + i, m), pass).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void addReluForward(MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment y, long yOffset, int n) {
        if (n < S.length()) { // guard
            SCALAR.addReluForward(a, aOffset, b, bOffset, y, yOffset, n);
            return;
        }
        FloatVector zero = FloatVector.zero(S);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) { // body
            FloatVector v = load(a, aOffset + i).add(load(b, bOffset + i));
            v.blend(zero, v.compare(VectorOperators.LT, 0f)).intoMemorySegment(y, (yOffset + i) * 4, ORDER);
        }
        if (i < n) { // tail
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = load(a, aOffset + i, m).add(load(b, bOffset + i, m));
            v.blend(zero, v.compare(VectorOperators.LT, 0f)).intoMemorySegment(y, (yOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void addReluBackward(MemorySegment x, long xOffset, MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment dx, long dxOffset, int n) {
        if (n < S.length()) { // guard
            SCALAR.addReluBackward(x, xOffset, a, aOffset, b, bOffset, dx, dxOffset, n);
            return;
        }
        FloatVector zero = FloatVector.zero(S);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) { // body
            VectorMask<Float> pass = load(x, xOffset + i).compare(VectorOperators.GT, 0f);
            zero.blend(load(a, aOffset + i).add(load(b, bOffset + i)), pass).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER);
        }
        if (i < n) { // tail
            VectorMask<Float> m = S.indexInRange(i, n);
            VectorMask<Float> pass = load(x, xOffset + i, m).compare(VectorOperators.GT, 0f);
            zero.blend(load(a, aOffset + i, m).add(load(b, bOffset + i, m)), pass).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void clampForward(MemorySegment x, long xOffset, float min, float max, MemorySegment y, long yOffset, int n) {
        if (n < S.length()) { // guard
            SCALAR.clampForward(x, xOffset, min, max, y, yOffset, n);
            return;
        }
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) { // body: MAX and MIN lanewise follow Math.max / Math.min
            load(x, xOffset + i).lanewise(VectorOperators.MAX, min).lanewise(VectorOperators.MIN, max)
                    .intoMemorySegment(y, (yOffset + i) * 4, ORDER);
        }
        if (i < n) { // tail
            VectorMask<Float> m = S.indexInRange(i, n);
            load(x, xOffset + i, m).lanewise(VectorOperators.MAX, min).lanewise(VectorOperators.MIN, max)
                    .intoMemorySegment(y, (yOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void clampBackward(MemorySegment x, long xOffset, float min, float max, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        if (n < S.length()) {
            SCALAR.clampBackward(x, xOffset, min, max, dy, dyOffset, dx, dxOffset, n);
            return;
        }
        FloatVector zero = FloatVector.zero(S);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector v = load(x, xOffset + i);
            VectorMask<Float> pass = v.compare(VectorOperators.GT, min).and(v.compare(VectorOperators.LT, max));
            zero.blend(load(dy, dyOffset + i), pass).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = load(x, xOffset + i, m);
            VectorMask<Float> pass = v.compare(VectorOperators.GT, min).and(v.compare(VectorOperators.LT, max));
            zero.blend(load(dy, dyOffset + i, m), pass).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void sigmoidForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        if (n < S.length()) {
            SCALAR.sigmoidForward(x, xOffset, y, yOffset, n);
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector e = load(x, xOffset + i).neg().lanewise(VectorOperators.EXP);
            one.div(e.add(one)).intoMemorySegment(y, (yOffset + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector e = load(x, xOffset + i, m).neg().lanewise(VectorOperators.EXP);
            one.div(e.add(one)).intoMemorySegment(y, (yOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void sigmoidBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        if (n < S.length()) {
            SCALAR.sigmoidBackward(y, yOffset, dy, dyOffset, dx, dxOffset, n);
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector s = load(y, yOffset + i);
            load(dy, dyOffset + i).mul(s.mul(one.sub(s))).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector s = load(y, yOffset + i, m);
            load(dy, dyOffset + i, m).mul(s.mul(one.sub(s))).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void tanhForward(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int n) {
        if (n < S.length()) {
            SCALAR.tanhForward(x, xOffset, y, yOffset, n);
            return;
        }
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) {
            load(x, xOffset + i).lanewise(VectorOperators.TANH).intoMemorySegment(y, (yOffset + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            load(x, xOffset + i, m).lanewise(VectorOperators.TANH).intoMemorySegment(y, (yOffset + i) * 4, ORDER, m);
        }
    }

    @Override
    public void tanhBackward(MemorySegment y, long yOffset, MemorySegment dy, long dyOffset, MemorySegment dx, long dxOffset, int n) {
        if (n < S.length()) {
            SCALAR.tanhBackward(y, yOffset, dy, dyOffset, dx, dxOffset, n);
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f);
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector t = load(y, yOffset + i);
            load(dy, dyOffset + i).mul(one.sub(t.mul(t))).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector t = load(y, yOffset + i, m);
            load(dy, dyOffset + i, m).mul(one.sub(t.mul(t))).intoMemorySegment(dx, (dxOffset + i) * 4, ORDER, m);
        }
    }
}
