package dev.shears.pruning.rnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.optim.Optimizer;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.pruning.ParameterPruning;
import dev.shears.pruning.PruningMethods;
import dev.shears.pruning.PruningResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Both pruning variants of a FastGRNN: rank pruning keeps the components a full sort of the
 * scores says, masks whole rows/columns of the factors, leaves a model that computes exactly
 * what a smaller-rank model built from the kept slices computes, and survives fine-tuning;
 * unstructured Global MP over the cell's matrices prunes exactly k with the full sort's threshold
 * and leaves the classifier alone.
 */
class RankPruningTest {
    private static final int T = 5, F = 9, H = 12, CLASSES = 3;

    private static Network lowRank(int rw, int ru, long seed) {
        return ModelZoo.create("fastgrnn", new ModelConfig(1, T, F, CLASSES, seed, Map.of("hidden", Integer.toString(H), "rank-w", Integer.toString(rw), "rank-u", Integer.toString(ru))));
    }

    private static double[] l1Rows(Parameter p) {
        int r = p.shape()[0], c = p.shape()[1];
        float[] v = p.value().toFloatArray();
        double[] s = new double[r];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) s[i] += Math.abs(v[i * c + j]);
        return s;
    }

    /** The indices a full sort keeps: the {@code target} largest scores (ties: lower index kept). */
    private static List<Integer> topBySort(double[] s, int target) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < s.length; i++) idx.add(i);
        idx.sort(Comparator.<Integer>comparingDouble(i -> -s[i]).thenComparingInt(i -> i));
        List<Integer> top = new ArrayList<>(idx.subList(0, target));
        top.sort(Integer::compare);
        return top;
    }

    private static List<Integer> keptOf(boolean[] kept) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < kept.length; i++) if (kept[i]) out.add(i);
        return out;
    }

    private static float[] forward(Network net, float[] x, int n) {
        try (Tensor t = Tensor.allocate(DType.F32, n, T, F)) {
            t.copyFrom(x);
            return net.forward(t, false).toFloatArray();
        }
    }

    @Test
    void keepsTheTopComponentsAndComputesWhatTheSmallerModelComputes() {
        int n = 4;
        try (Network net = lowRank(9, 12, 1); Network small = lowRank(3, 5, 1); Workspace ws = new Workspace("masks")) {
            Parameter w1 = net.parameter("rnn.W1"), u1 = net.parameter("rnn.U1");
            double[] sw = l1Rows(w1), su = l1Rows(u1);
            RankPruning.Result r = RankPruning.prune(net, 3, 5, RankPruning.Score.FIRST_FACTOR, ws);
            List<Integer> keepW = topBySort(sw, 3), keepU = topBySort(su, 5);
            assertEquals(keepW, keptOf(r.w().kept()), "W components kept");
            assertEquals(keepU, keptOf(r.u().kept()), "U components kept");
            assertArrayEquals(sw, r.w().scores(), 1e-6);
            // masks remove whole rows of the first factor and columns of the second
            for (String f : List.of("W", "U")) {
                Parameter first = net.parameter("rnn." + f + "1"), second = net.parameter("rnn." + f + "2");
                List<Integer> keep = f.equals("W") ? keepW : keepU;
                int rank = first.shape()[0], cols = first.shape()[1];
                for (int i = 0; i < rank; i++) {
                    for (int j = 0; j < cols; j++) assertEquals(keep.contains(i) ? 1f : 0f, first.mask().get((long) i * cols + j), first.name());
                    for (int j = 0; j < H; j++) assertEquals(keep.contains(i) ? 1f : 0f, second.mask().get((long) j * rank + i), second.name());
                }
            }
            assertEquals(3L * F + H * 3L + 5L * H + H * 5L, r.factorWeightsKept(), r.summary());
            // a (3, 5)-rank model with the kept slices computes the same logits
            for (Parameter p : small.parameters()) {
                String name = p.name();
                if (name.matches("rnn\\.[WU][12]")) {
                    Parameter big = net.parameter(name);
                    List<Integer> keep = name.startsWith("rnn.W") ? keepW : keepU;
                    float[] src = big.value().toFloatArray(), dst = new float[(int) p.size()];
                    int[] bs = big.shape(), ps = p.shape();
                    if (name.endsWith("1")) { // rows
                        for (int i = 0; i < keep.size(); i++) System.arraycopy(src, keep.get(i) * bs[1], dst, i * ps[1], ps[1]);
                    } else { // columns
                        for (int j = 0; j < bs[0]; j++) for (int i = 0; i < keep.size(); i++) dst[j * ps[1] + i] = src[j * bs[1] + keep.get(i)];
                    }
                    p.value().copyFrom(dst);
                } else {
                    p.value().copyFrom(net.parameter(name).value().toFloatArray());
                }
            }
            float[] x = new float[n * T * F];
            SplittableRandom rng = new SplittableRandom(3);
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            float[] a = forward(net, x, n), b = forward(small, x, n);
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-5, "logit " + i);
        }
    }

    @Test
    void fineTuningKeepsTheRanks() {
        int n = 6;
        try (Network net = lowRank(9, 12, 2); Workspace ws = new Workspace("masks"); Workspace opt = new Workspace("opt");
             Tensor x = Tensor.allocate(DType.F32, n, T, F); Tensor d = Tensor.allocate(DType.F32, n, CLASSES)) {
            RankPruning.prune(net, 4, 6, RankPruning.Score.PRODUCT, ws);
            Optimizer adam = OptimizerConfig.adam(0).create(net.parameters(), opt);
            SplittableRandom rng = new SplittableRandom(4);
            for (int step = 0; step < 5; step++) {
                for (long i = 0; i < x.size(); i++) x.set(i, (float) rng.nextGaussian());
                net.forward(x, true);
                for (long i = 0; i < d.size(); i++) d.set(i, (float) rng.nextGaussian());
                adam.zeroGrad();
                net.backward(d);
                adam.step(0.05);
            }
            for (String f : List.of("rnn.W1", "rnn.W2", "rnn.U1", "rnn.U2")) {
                Parameter p = net.parameter(f);
                for (long i = 0; i < p.size(); i++) if (p.mask().get(i) == 0f) assertEquals(0f, p.value().get(i), f + " pruned weight moved");
            }
            // rank pruning again to the same ranks changes nothing: the kept components still lead
            RankPruning.Result again = RankPruning.prune(net, 4, 6, RankPruning.Score.PRODUCT, ws);
            assertEquals(4, again.w().rankAfter());
            long nonzeroRows = Arrays.stream(l1Rows(net.parameter("rnn.U1"))).filter(v -> v > 0).count();
            assertEquals(6, nonzeroRows, "U1 rows left");
        }
    }

    @Test
    void scoreChoicesAndTies() {
        try (Network net = lowRank(3, 3, 3); Workspace ws = new Workspace("masks")) {
            // W1 rows: L1 3, 3, 1 (a tie at the top); W2 columns: L1 1, 5, 12
            Parameter w1 = net.parameter("rnn.W1"), w2 = net.parameter("rnn.W2");
            float[] a = new float[3 * F], b = new float[H * 3];
            for (int j = 0; j < 3; j++) { a[j] = 1; a[F + j] = -1; }
            a[2 * F] = 1;
            b[0] = 1;
            b[1] = 5;
            b[2] = -12;
            w1.value().copyFrom(a);
            w2.value().copyFrom(b);
            RankPruning.Result first = RankPruning.prune(net, 2, 3, RankPruning.Score.FIRST_FACTOR, ws);
            assertEquals(List.of(0, 1), keptOf(first.w().kept()), "lowest first-factor score (component 2) goes");
            w1.clearMask();
            w2.clearMask();
            w1.value().copyFrom(a);
            w2.value().copyFrom(b);
            RankPruning.Result one = RankPruning.prune(net, 1, 3, RankPruning.Score.FIRST_FACTOR, ws);
            assertEquals(List.of(0), keptOf(one.w().kept()), "tie between 0 and 1: the higher index goes first");
            w1.clearMask();
            w2.clearMask();
            w1.value().copyFrom(a);
            w2.value().copyFrom(b);
            assertEquals(List.of(1, 2), keptOf(RankPruning.prune(net, 2, 3, RankPruning.Score.SECOND_FACTOR, ws).w().kept()));
            w1.clearMask();
            w2.clearMask();
            w1.value().copyFrom(a);
            w2.value().copyFrom(b);
            // products: 3, 15, 12
            assertEquals(List.of(1, 2), keptOf(RankPruning.prune(net, 2, 3, RankPruning.Score.PRODUCT, ws).w().kept()));
            assertEquals(RankPruning.Score.SECOND_FACTOR, RankPruning.Score.parse("second-factor"));
        }
    }

    @Test
    void clearErrors() {
        try (Network full = ModelZoo.create("fastgrnn", new ModelConfig(1, T, F, CLASSES, 0, Map.of("hidden", "8")));
             Network net = lowRank(4, 6, 0); Workspace ws = new Workspace("masks")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RankPruning.prune(full, 2, 2, RankPruning.Score.FIRST_FACTOR, ws));
            assertTrue(e.getMessage().contains("low-rank FastGRNN") && e.getMessage().contains("rank-w"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> RankPruning.prune(net, 5, 2, RankPruning.Score.FIRST_FACTOR, ws));
            assertTrue(e.getMessage().contains("--rank-w must be from 1 to the current rank of W (4), got 5"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> RankPruning.prune(net, 2, 0, RankPruning.Score.FIRST_FACTOR, ws));
            assertTrue(e.getMessage().contains("--rank-u"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> RankPruning.Score.parse("l2"));
            assertTrue(e.getMessage().contains("first-factor"), e.getMessage());
        }
    }

    @Test
    void unstructuredGlobalMagnitudeOverTheCellMatrices() {
        for (String model : List.of("fastgrnn", "gru")) {
            Map<String, String> options = model.equals("fastgrnn") ? Map.of("hidden", "16", "rank-w", "full", "rank-u", "full") : Map.of("hidden", "16");
            try (Network net = ModelZoo.create(model, new ModelConfig(1, T, F, CLASSES, 5, options)); Workspace ws = new Workspace("masks")) {
                List<Parameter> cell = RankPruning.cellWeights(net);
                assertTrue(cell.stream().noneMatch(p -> p.name().startsWith("fc.")), "the head is not in the pool");
                long total = cell.stream().mapToLong(Parameter::size).sum();
                List<Float> all = new ArrayList<>();
                for (Parameter p : cell) for (float v : p.value().toFloatArray()) all.add(Math.abs(v));
                all.sort(Float::compare);
                double sparsity = 0.8;
                long k = Math.round(sparsity * total);
                float threshold = all.get((int) k); // the smallest kept magnitude under a full sort
                PruningResult r = ParameterPruning.prune(cell, PruningMethods.create("global"), sparsity, ws, name -> false);
                assertEquals(k, r.prunedTotal(), model);
                long zeros = 0;
                for (Parameter p : cell) {
                    for (long i = 0; i < p.size(); i++) {
                        boolean pruned = p.mask().get(i) == 0f;
                        if (pruned) zeros++;
                        float mag = Math.abs(pruned ? 0f : p.value().get(i));
                        if (!pruned) assertTrue(mag >= threshold, model + " kept " + mag + " below the sort's threshold " + threshold);
                    }
                }
                assertEquals(k, zeros, model + ": exactly k weights pruned");
                assertNull(net.parameter("fc.weight").mask(), model + ": classifier untouched");
            }
        }
    }
}
