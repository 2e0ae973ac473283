package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A plan's work items, their split into shards (deterministic, balanced by cost), and the shard from the scheduler's environment. */
class WorkItemsTest {
    static Plan plan(List<String> methods, List<Long> seeds) {
        return new Plan("t", "lenet5", Map.of(), "fashion-mnist", null, null, null, "none", Stage.sgd(10, 128, 0.1, 0.9, false, 5e-4),
                Stage.sgd(2, 128, 0.01, 0.9, false, 5e-4), List.of(new Plan.Rule(null, 0.99, Stage.sgd(6, 128, 0.01, 0.9, false, 5e-4))), methods,
                List.of(0.5, 0.9, 0.99), seeds, null, "paper", null, List.of());
    }

    @Test
    void oneDenseItemPerSeedAndOneItemPerCell() {
        Plan p = plan(List.of("global", "uniform", "gradual-global"), List.of(0L, 1L));
        List<WorkItems.Item> items = WorkItems.of(p);
        assertEquals(2 + p.cells().size(), items.size());
        assertEquals(List.of("dense-s0", "dense-s1"), items.subList(0, 2).stream().map(WorkItems.Item::id).toList());
        WorkItems.Item cell = items.stream().filter(i -> i.id().equals("cell-uniform@0.9#1")).findFirst().orElseThrow();
        assertEquals("dense-s1", cell.needs(p));
        WorkItems.Item gradual = items.stream().filter(i -> i.id().equals("cell-gradual-global@0.5#0")).findFirst().orElseThrow();
        assertNull(gradual.needs(p), "gradual-global trains from scratch");
        assertTrue(items.get(0).cost() > cell.cost(), "ten dense epochs cost more than two fine-tuning ones");
        double at99 = items.stream().filter(i -> i.id().equals("cell-global@0.99#0")).findFirst().orElseThrow().cost();
        assertTrue(at99 > cell.cost(), "the 6-epoch rule at 99% costs more than the default 2 epochs");
        Plan gradualOnly = plan(List.of("gradual-global"), List.of(0L, 1L));
        assertEquals(gradualOnly.cells().size(), WorkItems.of(gradualOnly).size(), "no dense model when no cell needs one");
    }

    @Test
    void theSplitIsDeterministicCompleteAndBalanced() {
        Plan p = plan(List.of("global", "uniform", "lamp", "erk"), List.of(0L, 1L, 2L));
        List<WorkItems.Item> items = WorkItems.of(p);
        for (int n : new int[] {1, 2, 3, 4, 7, 16, 50}) {
            Map<String, Integer> s = WorkItems.shards(items, n);
            assertEquals(s, WorkItems.shards(WorkItems.of(plan(List.of("global", "uniform", "lamp", "erk"), List.of(0L, 1L, 2L))), n), "same plan, same split");
            assertEquals(items.size(), s.size(), "every item in exactly one shard");
            double[] load = new double[n];
            double biggest = 0;
            for (WorkItems.Item it : items) {
                int k = s.get(it.id());
                assertTrue(k >= 0 && k < n);
                load[k] += it.cost();
                biggest = Math.max(biggest, it.cost());
            }
            double max = java.util.Arrays.stream(load).max().orElseThrow(), min = java.util.Arrays.stream(load).min().orElseThrow();
            if (n <= items.size()) assertTrue(max - min <= biggest + 1e-9, n + " shards: loads " + java.util.Arrays.toString(load) + " differ by more than one item");
        }
        Map<String, Integer> two = WorkItems.shards(items, 2);
        assertTrue(!two.get("dense-s0").equals(two.get("dense-s1")), "the two biggest items (dense models) go to different shards");
    }

    @Test
    void theShardComesFromTheOptionOrTheScheduler() {
        assertEquals(new WorkItems.Shard(1, 4), WorkItems.Shard.parse("1/4", null, Map.of()));
        Map<String, String> slurm = new HashMap<>(Map.of("SLURM_ARRAY_TASK_ID", "7", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "5"));
        assertEquals(new WorkItems.Shard(2, 4), WorkItems.Shard.parse("auto", null, slurm), "an array 5-8 numbers its tasks from 5");
        assertEquals(new WorkItems.Shard(3, 6), WorkItems.Shard.parse("auto", null, Map.of("JOB_COMPLETION_INDEX", "3", "SHEARS_SHARD_COUNT", "6")));
        assertEquals(new WorkItems.Shard(3, 5), WorkItems.Shard.parse("auto", 5, Map.of("JOB_COMPLETION_INDEX", "3", "SHEARS_SHARD_COUNT", "6")), "the option wins");
        String e = assertThrows(IllegalArgumentException.class, () -> WorkItems.Shard.parse("auto", null, Map.of("JOB_COMPLETION_INDEX", "3"))).getMessage();
        assertTrue(e.contains("--shard-count"), e);
        e = assertThrows(IllegalArgumentException.class, () -> WorkItems.Shard.parse("auto", null, Map.of())).getMessage();
        assertTrue(e.contains("SLURM_ARRAY_TASK_ID") && e.contains("--shard I/N"), e);
        e = assertThrows(IllegalArgumentException.class, () -> WorkItems.Shard.parse("4/4", null, Map.of())).getMessage();
        assertTrue(e.contains("0 <= I < N"), e);
        e = assertThrows(IllegalArgumentException.class, () -> WorkItems.Shard.parse("two", null, Map.of())).getMessage();
        assertTrue(e.contains("I/N"), e);
    }
}
