package dev.shears.cli.experiment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A plan as work items for workers that share one folder: one dense model per seed (unless the plan
 * prunes a given checkpoint, or every method is gradual-global) and one item per cell, each cell
 * needing its seed's dense model; a cost per item (the samples it trains and evaluates, as the
 * dry run's estimate counts them) and a deterministic split into N shards that balances that cost
 * (longest first, each to the least loaded shard). Not a scheduler: workers claim items (see
 * {@link Claims}). Pinned by WorkItemsTest.
 */
final class WorkItems {
    /** One unit of work. {@code cell} is null for a dense model. */
    record Item(String id, long seed, Plan.Cell cell, double cost) {
        boolean dense() {
            return cell == null;
        }

        /** The dense item this cell needs, or null (dense items, gradual-global, a given checkpoint). */
        String needs(Plan plan) {
            if (cell == null || cell.method().equals("gradual-global") || plan.denseCheckpoint() != null) return null;
            return denseId(seed);
        }

        String describe() {
            return cell == null ? "dense model, seed " + seed : cell.method() + " at " + SweepProgress.percent(cell.sparsity()) + ", seed " + seed;
        }
    }

    /** Worker {@code index} of {@code count}. */
    record Shard(int index, int count) {
        /** "I/N", or "auto": Slurm's array task id and count, else Kubernetes' completion index with {@code count} (or SHEARS_SHARD_COUNT). */
        static Shard parse(String spec, Integer count, Map<String, String> env) {
            String s = spec.trim();
            if (s.equalsIgnoreCase("auto")) {
                if (env.containsKey("SLURM_ARRAY_TASK_ID")) {
                    String n = env.get("SLURM_ARRAY_TASK_COUNT");
                    if (n == null) throw new IllegalArgumentException("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (submit the workers as one array, --array=0-N)");
                    int min = Integer.parseInt(env.getOrDefault("SLURM_ARRAY_TASK_MIN", "0"));
                    return check(Integer.parseInt(env.get("SLURM_ARRAY_TASK_ID")) - min, Integer.parseInt(n), spec);
                }
                if (env.containsKey("JOB_COMPLETION_INDEX")) {
                    Integer n = count != null ? count : env.containsKey("SHEARS_SHARD_COUNT") ? Integer.valueOf(env.get("SHEARS_SHARD_COUNT")) : null;
                    if (n == null) throw new IllegalArgumentException("--shard auto under Kubernetes (JOB_COMPLETION_INDEX is set) needs the worker count: --shard-count N or SHEARS_SHARD_COUNT=N");
                    return check(Integer.parseInt(env.get("JOB_COMPLETION_INDEX")), n, spec);
                }
                throw new IllegalArgumentException("--shard auto found neither Slurm (SLURM_ARRAY_TASK_ID) nor Kubernetes (JOB_COMPLETION_INDEX) in the environment; give --shard I/N");
            }
            int slash = s.indexOf('/');
            try {
                if (slash > 0) return check(Integer.parseInt(s.substring(0, slash).trim()), Integer.parseInt(s.substring(slash + 1).trim()), spec);
            } catch (NumberFormatException e) {
                // the message below
            }
            throw new IllegalArgumentException("--shard must be I/N (e.g. 0/4) or auto, got '" + spec + "'");
        }

        private static Shard check(int i, int n, String spec) {
            if (n < 1 || i < 0 || i >= n) throw new IllegalArgumentException("--shard " + spec + " gives worker " + i + " of " + n + "; expected 0 <= I < N");
            return new Shard(i, n);
        }
    }

    static String denseId(long seed) {
        return "dense-s" + seed;
    }

    static String cellId(Plan.Cell c) {
        return "cell-" + c.key();
    }

    private WorkItems() {}

    /** Every item of the plan: the dense models first (seed order), then the cells in plan order. */
    static List<Item> of(Plan plan) {
        Estimate.DataShape shape = shape(plan);
        List<Item> out = new ArrayList<>();
        boolean needDense = plan.denseCheckpoint() == null && plan.methods().stream().anyMatch(m -> !m.equals("gradual-global"));
        if (needDense) {
            for (long seed : plan.seeds()) {
                double cost = 3.0 * plan.dense().epochs() * perEpoch(plan.dense(), shape.train()) + (plan.dense().epochs() + 1.0) * shape.test();
                out.add(new Item(denseId(seed), seed, null, cost));
            }
        }
        for (Plan.Cell c : plan.cells()) {
            Stage st = plan.stageFor(c);
            double cost = 3.0 * st.epochs() * perEpoch(st, shape.train()) + (st.epochs() + 1.0) * shape.test();
            out.add(new Item(cellId(c), c.seed(), c, cost));
        }
        return out;
    }

    /** The shard (0..n-1) of each item, by id: longest item first to the least loaded shard (ties: plan order, lowest shard). */
    static Map<String, Integer> shards(List<Item> items, int n) {
        if (n < 1) throw new IllegalArgumentException("the shard count must be >= 1, got " + n);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) order.add(i);
        order.sort(Comparator.<Integer>comparingDouble(i -> -items.get(i).cost()).thenComparingInt(i -> i));
        double[] load = new double[n];
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        for (int i : order) {
            int best = 0;
            for (int s = 1; s < n; s++) if (load[s] < load[best]) best = s;
            load[best] += items.get(i).cost();
            out.put(items.get(i).id(), best);
        }
        return out;
    }

    private static Estimate.DataShape shape(Plan plan) {
        Estimate.DataShape k;
        try {
            k = Estimate.known(plan.dataset());
        } catch (IllegalArgumentException e) {
            k = new Estimate.DataShape(50_000, 10_000, new int[] {3, 32, 32}, 10, "a guess");
        }
        return new Estimate.DataShape(plan.trainSize() != null ? Math.min(plan.trainSize(), k.train()) : k.train(),
                plan.testSize() != null ? Math.min(plan.testSize(), k.test()) : k.test(), k.sampleShape(), k.classes(), k.source());
    }

    private static double perEpoch(Stage s, int train) {
        return s.samplesPerEpoch() > 0 ? Math.min(train, s.samplesPerEpoch()) : train;
    }
}
