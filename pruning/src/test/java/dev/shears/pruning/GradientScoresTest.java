package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.train.BatchSource;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SNIP, GraSP and SynFlow scores against their definitions computed independently in double:
 * SNIP's |g * w| and GraSP's w * Hg with gradients from finite differences of a double-precision
 * re-implementation of the loss; SynFlow's |dR/dw * w| from its hand derivation on a two-layer
 * net and on a deep chain (whose R overflows float32 unless the scores are rescaled). Also: the
 * models come back unchanged, and the pruning built on the scores is exact and keeps earlier cuts.
 */
class GradientScoresTest {
    private static final int F = 4, H = 5, K = 3;

    // ---------------------------------------------------------------- a double-precision MLP

    /** Prunable weights of the MLP (fc1 then fc2) and its biases, read from the model. */
    private record Mlp(double[] w, double[] b1, double[] b2) {
        static Mlp of(TinyModel m) {
            double[] w = new double[H * F + K * H];
            float[] w1 = m.parameter("fc1.weight").value().toFloatArray(), w2 = m.parameter("fc2.weight").value().toFloatArray();
            for (int i = 0; i < w1.length; i++) w[i] = w1[i];
            for (int i = 0; i < w2.length; i++) w[w1.length + i] = w2[i];
            return new Mlp(w, doubles(m.parameter("fc1.bias").value().toFloatArray()), doubles(m.parameter("fc2.bias").value().toFloatArray()));
        }

        /** Mean over the first {@code batches} batches of the batch-mean cross-entropy. */
        double loss(double[] weights, BatchSource data, int batches) {
            double total = 0;
            int used = 0;
            try (BatchSource.Epoch it = data.epoch(0)) {
                while (used < batches && it.hasNext()) {
                    BatchSource.Batch b = it.next();
                    double sum = 0;
                    for (int s = 0; s < b.size(); s++) {
                        double[] h = new double[H], z = new double[K];
                        for (int i = 0; i < H; i++) {
                            double a = b1[i];
                            for (int j = 0; j < F; j++) a += weights[i * F + j] * b.images().get((long) s * F + j);
                            h[i] = Math.max(0, a);
                        }
                        double max = Double.NEGATIVE_INFINITY;
                        for (int k = 0; k < K; k++) {
                            double a = b2[k];
                            for (int i = 0; i < H; i++) a += weights[H * F + k * H + i] * h[i];
                            z[k] = a;
                            max = Math.max(max, a);
                        }
                        double e = 0;
                        for (int k = 0; k < K; k++) e += Math.exp(z[k] - max);
                        sum += max + Math.log(e) - z[b.labels().getInt(s)];
                    }
                    total += sum / b.size();
                    used++;
                }
            }
            return total / used;
        }

        /** Central finite differences of {@link #loss}. */
        double[] gradient(double[] weights, BatchSource data, int batches) {
            double[] g = new double[weights.length];
            double step = 1e-6;
            for (int i = 0; i < weights.length; i++) {
                double[] plus = weights.clone(), minus = weights.clone();
                plus[i] += step;
                minus[i] -= step;
                g[i] = (loss(plus, data, batches) - loss(minus, data, batches)) / (2 * step);
            }
            return g;
        }
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static double[] flat(Scorer.Scores s) {
        List<Double> out = new ArrayList<>();
        for (ScoreSegment seg : s.segments()) for (long i = 0; i < seg.count(); i++) out.add((double) seg.values().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i));
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static void assertClose(double[] expected, double[] actual, double relativeToMax, String what) {
        assertEquals(expected.length, actual.length, what);
        double tol = relativeToMax * maxAbs(expected);
        assertTrue(tol > 0, what + ": reference is all zero");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, what + " at " + i + ": expected " + Arrays.toString(expected) + " got " + Arrays.toString(actual));
        }
    }

    /** Every parameter's value and gradient, to check a scorer leaves the model as it found it. */
    private static List<float[]> state(TinyModel m) {
        List<float[]> s = new ArrayList<>();
        for (Parameter p : m.parameters()) {
            s.add(p.value().toFloatArray());
            s.add(p.grad().toFloatArray());
        }
        return s;
    }

    private static void assertSameState(List<float[]> a, List<float[]> b) {
        for (int i = 0; i < a.size(); i++) {
            float[] x = a.get(i), y = b.get(i);
            for (int j = 0; j < x.length; j++) assertEquals(Float.floatToRawIntBits(x[j]), Float.floatToRawIntBits(y[j]), "tensor " + i + " index " + j);
        }
    }

    // ---------------------------------------------------------------- SNIP

    @Test
    void snipIsAbsoluteGradientTimesWeightOverTheScoreBatches() {
        for (int batches : new int[] {1, 2}) {
            try (TinyModel m = TinyModel.mlp(7, F, H, K); RandomSource data = new RandomSource(3, 12, 6, K, F, 1, 1); Arena a = Arena.ofConfined()) {
                Mlp ref = Mlp.of(m);
                double[] g = ref.gradient(ref.w(), data, batches), expected = new double[g.length];
                for (int i = 0; i < g.length; i++) expected[i] = Math.abs(g[i] * ref.w()[i]);
                List<float[]> before = state(m);
                Scorer.Scores s = GradientScores.snip(m, data, batches).score(Pruning.layers(m), a);
                assertEquals(KeyOrder.MAGNITUDE, s.order());
                assertClose(expected, flat(s), 1e-3, "SNIP, " + batches + " batch(es)");
                List<float[]> after = state(m);
                for (int i = 1; i < after.size(); i += 2) Arrays.fill(before.get(i), 0f); // gradients end zeroed
                assertSameState(before, after);
            }
        }
    }

    // ---------------------------------------------------------------- GraSP

    @Test
    void graspIsWeightTimesHessianGradientProductWithThePapersSign() {
        double step = 1e-2;
        try (TinyModel m = TinyModel.mlp(11, F, H, K); RandomSource data = new RandomSource(4, 12, 12, K, F, 1, 1); Arena a = Arena.ofConfined()) {
            Mlp ref = Mlp.of(m);
            double[] w = ref.w(), g = ref.gradient(w, data, 1);
            double wn = 0, gn = 0;
            for (int i = 0; i < w.length; i++) {
                wn += w[i] * w[i];
                gn += g[i] * g[i];
            }
            double eps = step * Math.sqrt(wn) / Math.sqrt(gn);
            double[] plus = w.clone(), minus = w.clone();
            for (int i = 0; i < w.length; i++) {
                plus[i] += eps * g[i];
                minus[i] -= eps * g[i];
            }
            double[] gp = ref.gradient(plus, data, 1), gm = ref.gradient(minus, data, 1), signed = new double[w.length];
            for (int i = 0; i < w.length; i++) signed[i] = w[i] * (gp[i] - gm[i]) / (2 * eps); // = -S, S = -w Hg
            Scorer.Scores s = GradientScores.grasp(m, data, 1, step).score(Pruning.layers(m), a);
            assertEquals(KeyOrder.SIGNED, s.order());
            assertClose(signed, flat(s), 2e-2, "GraSP w*Hg");

            // Pruning removes the highest S = -w Hg, i.e. the lowest w Hg: check on the clear cases.
            double sparsity = 0.4;
            int k = (int) Math.round(sparsity * w.length);
            double[] sorted = signed.clone();
            Arrays.sort(sorted);
            try (Workspace masks = new Workspace("masks")) {
                Pruning.prune(m, "grasp", sparsity, PruneOptions.DEFAULT.withGraspStep(step), data, masks);
                float[] m1 = m.parameter("fc1.weight").mask().toFloatArray(), m2 = m.parameter("fc2.weight").mask().toFloatArray();
                double tol = 2e-2 * maxAbs(signed);
                for (int i = 0; i < w.length; i++) {
                    float kept = i < m1.length ? m1[i] : m2[i - m1.length];
                    if (signed[i] < sorted[k - 1] - tol) assertEquals(0f, kept, "weight " + i + " has one of the highest S; it must go");
                    if (signed[i] > sorted[k] + tol) assertEquals(1f, kept, "weight " + i + " has one of the lowest S; it must stay");
                }
            }
        }
    }

    // ---------------------------------------------------------------- SynFlow

    /** Hand derivation for Linear(F->H) -> ReLU -> Linear(H->K), all |w|, no biases, input ones, R = sum of outputs. */
    private static double[] synflowByHand(double[] w1, double[] w2) {
        double[] s = new double[w1.length + w2.length];
        for (int i = 0; i < H; i++) {
            double into = 0, out = 0; // sum_j |W1_ij| (the unit's value for input ones), sum_k |W2_ki|
            for (int j = 0; j < F; j++) into += Math.abs(w1[i * F + j]);
            for (int k = 0; k < K; k++) out += Math.abs(w2[k * H + i]);
            for (int j = 0; j < F; j++) s[i * F + j] = Math.abs(w1[i * F + j]) * out;   // dR/dW1_ij = sum_k |W2_ki| * 1
            for (int k = 0; k < K; k++) s[w1.length + k * H + i] = Math.abs(w2[k * H + i]) * into; // dR/dW2_ki = h_i
        }
        return s;
    }

    private static double[] normalised(double[] x) {
        double m = maxAbs(x);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] / m;
        return y;
    }

    @Test
    void synflowMatchesTheHandDerivationAndIgnoresBiasesAndSigns() {
        try (TinyModel m = TinyModel.mlp(5, F, H, K); Arena a = Arena.ofConfined()) {
            double[] w1 = doubles(m.parameter("fc1.weight").value().toFloatArray()), w2 = doubles(m.parameter("fc2.weight").value().toFloatArray());
            List<float[]> before = state(m);
            double[] got = flat(GradientScores.synflow(m).score(Pruning.layers(m), a));
            assertClose(normalised(synflowByHand(w1, w2)), normalised(got), 1e-5, "SynFlow");
            assertSameState(before, state(m));
            // Biases and the signs of weights do not enter R = 1^T (prod |W_l|) 1.
            m.parameter("fc1.bias").value().set(0, 100f);
            m.parameter("fc2.bias").value().set(1, -3f);
            Parameter w = m.parameter("fc1.weight");
            for (long i = 0; i < w.size(); i += 2) w.value().set(i, -w.value().get(i));
            double[] again = flat(GradientScores.synflow(m).score(Pruning.layers(m), a));
            assertClose(normalised(got), normalised(again), 1e-6, "SynFlow after changing biases and signs");
        }
    }

    /** R = 1^T |W_L| ... |W_1| 1 of a chain and |dR/dw * w| for every weight, in double. */
    private static double[] chainByHand(List<double[]> w, int width) {
        int depth = w.size();
        double[][] fwd = new double[depth + 1][width], bwd = new double[depth + 1][width];
        Arrays.fill(fwd[0], 1);
        for (int l = 0; l < depth; l++) {
            for (int i = 0; i < width; i++) for (int j = 0; j < width; j++) fwd[l + 1][i] += Math.abs(w.get(l)[i * width + j]) * fwd[l][j];
        }
        Arrays.fill(bwd[depth], 1);
        for (int l = depth - 1; l >= 0; l--) {
            for (int i = 0; i < width; i++) for (int j = 0; j < width; j++) bwd[l][j] += Math.abs(w.get(l)[i * width + j]) * bwd[l + 1][i];
        }
        double[] s = new double[depth * width * width];
        for (int l = 0; l < depth; l++) {
            for (int i = 0; i < width; i++) for (int j = 0; j < width; j++) {
                s[(l * width + i) * width + j] = Math.abs(w.get(l)[i * width + j]) * bwd[l + 1][i] * fwd[l][j];
            }
        }
        return s;
    }

    @Test
    void synflowRescalesSoADeepNetworkBeyondFloatRangeScoresExactly() {
        int width = 6, depth = 40;
        try (TinyModel m = TinyModel.chain(9, width, depth); Arena a = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(2);
            List<double[]> w = new ArrayList<>();
            for (int l = 0; l < depth; l++) {
                Parameter p = m.parameter("fc" + l + ".weight");
                double[] v = new double[(int) p.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (r.nextDouble() * 2 - 1) * 3; // |w| ~ 1.5, each layer multiplies R by ~9: R ~ 2^127 .. 2^130
                    p.value().set(i, (float) v[i]);
                    v[i] = (float) v[i];
                }
                w.add(v);
            }
            double[] expected = chainByHand(w, width);
            GradientScores.SynFlow sf = GradientScores.synflow(m);
            double[] got = flat(sf.score(Pruning.layers(m), a));
            assertTrue(sf.log2R() > 128, "the test network's R must overflow float32 unscaled, log2 R = " + sf.log2R());
            // the scores carry 2^scale: compare them with the reference directly, relative to the largest
            double[] scaled = new double[expected.length];
            for (int i = 0; i < expected.length; i++) scaled[i] = Math.scalb(expected[i], sf.scale());
            assertClose(scaled, got, 1e-4, "deep chain SynFlow, scaled by 2^" + sf.scale());
        }
    }

    @Test
    void iterativeSynflowFollowsTheGeometricDensityAndKeepsEarlierCuts() {
        int rounds = 4;
        double sparsity = 0.8;
        try (TinyModel m = TinyModel.mlp(13, F, H, K); Workspace masks = new Workspace("masks")) {
            double[] w1 = doubles(m.parameter("fc1.weight").value().toFloatArray()), w2 = doubles(m.parameter("fc2.weight").value().toFloatArray());
            int n = w1.length + w2.length;
            boolean[] pruned = new boolean[n];
            for (int r = 1; r <= rounds; r++) { // the reference loop: hand scores on the masked weights, full sort, pruned first
                double[] a1 = w1.clone(), a2 = w2.clone();
                for (int i = 0; i < n; i++) if (pruned[i]) { if (i < a1.length) a1[i] = 0; else a2[i - a1.length] = 0; }
                double[] s = synflowByHand(a1, a2);
                for (int i = 0; i < n; i++) if (pruned[i]) s[i] = -1;
                Integer[] order = new Integer[n];
                for (int i = 0; i < n; i++) order[i] = i;
                Arrays.sort(order, (x, y) -> s[x] != s[y] ? Double.compare(s[x], s[y]) : Integer.compare(x, y));
                long k = Math.round(Pruning.geometricSparsity(sparsity, r, rounds) * n);
                for (int i = 0; i < k; i++) pruned[order[i]] = true;
            }
            Pruning.prune(m, "synflow", sparsity, PruneOptions.DEFAULT.withSynflowRounds(rounds), null, masks);
            float[] m1 = m.parameter("fc1.weight").mask().toFloatArray(), m2 = m.parameter("fc2.weight").mask().toFloatArray();
            boolean[] got = new boolean[n];
            for (int i = 0; i < n; i++) got[i] = (i < m1.length ? m1[i] : m2[i - m1.length]) == 0f;
            assertArrayEquals(pruned, got);
            long zeros = 0;
            for (boolean b : got) if (b) zeros++;
            assertEquals(Math.round(sparsity * n), zeros);
        }
    }

    @Test
    void geometricSparsityEndsExactlyOnTarget() {
        assertEquals(0.9, Pruning.geometricSparsity(0.9, 3, 3));
        assertEquals(1 - Math.pow(0.1, 1.0 / 3), Pruning.geometricSparsity(0.9, 1, 3), 1e-15);
        double prev = 0;
        for (int r = 1; r <= 100; r++) {
            double s = Pruning.geometricSparsity(0.99, r, 100);
            assertTrue(s > prev);
            prev = s;
        }
    }
}
