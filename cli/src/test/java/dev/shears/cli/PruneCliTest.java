package dev.shears.cli;

import static dev.shears.cli.Run.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelZoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shears prune} from the command line: impossible options are one line with exit code 2;
 * a LeNet-5 trained for one epoch on a small subset is pruned one-shot (and fine-tuned),
 * iteratively, with SNIP, and gradually from scratch; every run folder holds the pruned
 * checkpoint with masks, the report with exactly k pruned, and fine-tuned checkpoints whose
 * pruned weights are still zero.
 */
class PruneCliTest {
    @TempDir
    static Path dir;
    static Path dense;

    private static void assertOneLineError(Run r, String fragment) {
        assertEquals(2, r.code(), "exit code; stdout: " + r.out() + " stderr: " + r.err());
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(1, lines.size(), "expected one line on stderr, got:\n" + r.err());
        assertTrue(lines.getFirst().startsWith("shears prune: "), lines.getFirst());
        assertTrue(lines.getFirst().contains(fragment), "'" + lines.getFirst() + "' lacks '" + fragment + "'");
    }

    private static final String[] DATA = {"--train-size", "64", "--test-size", "48", "--batch", "32", "--progress", "off"};

    private static String[] with(String[] base, String... more) {
        String[] all = new String[base.length + more.length];
        System.arraycopy(more, 0, all, 0, more.length);
        System.arraycopy(base, 0, all, more.length, base.length);
        return all;
    }

    @BeforeAll
    static void trainDense() {
        Run r = shears(with(DATA, "train", "--model", "lenet5", "--epochs", "1", "--lr", "0.05", "--out", dir.resolve("dense").toString()));
        assertEquals(0, r.code(), r.err());
        dense = dir.resolve("dense").resolve("last.safetensors");
    }

    private static String out(String name) {
        return dir.resolve(name).toString();
    }

    @Test
    void impossibleOptionsAreOneLine() {
        String ck = dense.toString();
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "magnitude", "--sparsity", "0.9", "--out", out("e")), "unknown --method 'magnitude'");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "1", "--out", out("e")), "--sparsity must be in [0, 1), got 1.0");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "-0.5", "--out", out("e")), "--sparsity must be in [0, 1)");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--out", out("e")), "--sparsity is required");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--mt", "30%", "--out", out("e")), "impossible MT");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--mt", "lots", "--out", out("e")), "--mt 'lots'");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--mt", "5", "--mt-mode", "loose", "--out", out("e")), "unknown MT mode");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "erk", "--sparsity", "0.9", "--mt", "500", "--out", out("e")), "--mt applies to");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global-mt", "--sparsity", "0.9", "--out", out("e")), "needs --mt");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--keep-first-dense", "--out", out("e")), "--keep-first-dense applies");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "synflow", "--sparsity", "0.9", "--schedule", "iterative", "--out", out("e")), "synflow is iterative");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--schedule", "gradual", "--out", out("e")), "--schedule must be one-shot or iterative");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--rounds", "4", "--out", out("e")), "--rounds applies to --schedule iterative");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "rank", "--sparsity", "0.9", "--out", out("e")), "--rank-w and --rank-u");
        assertOneLineError(shears("prune", "--checkpoint", out("none.safetensors"), "--method", "global", "--sparsity", "0.9", "--out", out("e")), "no such file");
        assertOneLineError(shears("prune", "--method", "global", "--sparsity", "0.9", "--out", out("e")), "--checkpoint is required");
        assertOneLineError(shears("prune", "--model", "lenet5", "--method", "gradual-global", "--sparsity", "0.9", "--out", out("e")), "give --epochs");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--finetune-epochs", "1", "--lr", "-1", "--out", out("e")), "--lr must be > 0");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--synflow-rounds", "0", "--out", out("e")), "--synflow-rounds");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--method", "global", "--sparsity", "0.9", "--dataset", "cifar10", "--finetune-epochs", "1", "--out", out("e")), "cifar10");
        assertOneLineError(shears("prune", "--checkpoint", ck, "--sparsity", "0.9", "--out", out("e")), "--method");
        assertFalse(Files.exists(dir.resolve("e").resolve(PruneCommand.REPORT_JSON)), "a failed run writes no report");
    }

    /** The prunable weights of a checkpoint: total, pruned by its masks, and zero-valued among the pruned. */
    private static long[] counts(Path file) {
        try (Checkpoint ck = Checkpoint.read(file); Model m = ModelZoo.create(ck.spec()); Workspace ws = new Workspace("t")) {
            ck.restoreModel(m, ws);
            long n = 0, pruned = 0, zero = 0;
            for (Parameter p : m.parameters()) {
                if (!p.prunable()) continue;
                n += p.size();
                for (long i = 0; i < p.size(); i++) {
                    if (p.mask() != null && p.mask().get(i) == 0f) {
                        pruned++;
                        if (p.value().get(i) == 0f) zero++;
                    }
                }
            }
            return new long[] {n, pruned, zero};
        }
    }

    private static JsonObject json(Path file) throws Exception {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    @Test
    void oneShotGlobalWithFineTuningKeepsExactlyKZeros() throws Exception {
        Path run = dir.resolve("oneshot");
        Run r = shears(with(DATA, "prune", "--checkpoint", dense.toString(), "--method", "global", "--sparsity", "0.9", "--finetune-epochs", "1",
                "--lr", "0.01", "--out", run.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("TOTAL"), r.out());
        long[] c = counts(run.resolve(PruneCommand.PRUNED));
        long k = Math.round(0.9 * c[0]);
        assertEquals(k, c[1]);
        assertEquals(k, c[2]);
        long[] f = counts(run.resolve("last.safetensors"));
        assertEquals(k, f[1], "fine-tuning keeps the masks");
        assertEquals(k, f[2], "pruned weights stay exactly zero");
        JsonObject report = json(run.resolve(PruneCommand.REPORT_JSON));
        assertEquals(c[0] - k, report.getAsJsonObject("totals").get("kept").getAsLong());
        assertTrue(Files.readString(run.resolve(PruneCommand.REPORT_CSV)).startsWith("layer,shape,weights,kept"));
        assertEquals(2, Files.readAllLines(run.resolve("metrics.csv")).size());
        JsonObject s = json(run.resolve(PruneCommand.SUMMARY));
        assertEquals("global", s.get("method").getAsString());
        assertTrue(s.has("accuracy_before") && s.has("accuracy_pruned") && s.has("accuracy_finetuned_last"), s.toString());
        Run e = shears("eval", "--checkpoint", run.resolve("last.safetensors").toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("on 48 test images"), e.out());
        assertOneLineError(shears(with(DATA, "prune", "--checkpoint", dense.toString(), "--method", "global", "--sparsity", "0.5", "--out", run.toString())),
                "already holds a run");
    }

    @Test
    void iterativeMtSnipAndSynflowEachPruneToTarget() throws Exception {
        Path it = dir.resolve("iterative");
        Run r = shears(with(DATA, "prune", "--checkpoint", dense.toString(), "--method", "global", "--sparsity", "0.8", "--schedule", "iterative",
                "--rounds", "2", "--finetune-epochs", "1", "--lr", "0.01", "--out", it.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(it.resolve("round-1").resolve("last.safetensors")));
        long[] c = counts(it.resolve("round-2").resolve("last.safetensors"));
        assertEquals(Math.round(0.8 * c[0]), c[1]);
        assertEquals(c[1], c[2]);
        assertEquals(Math.round(0.8 * c[0]), counts(it.resolve(PruneCommand.PRUNED))[1]);

        for (String[] m : new String[][] {{"global", "--mt", "0.5%", "--mt-mode", "exact"}, {"snip", "--score-batches", "2"}, {"synflow", "--synflow-rounds", "4"},
                {"uniform", "--keep-first-dense"}}) {
            Path run = dir.resolve("m-" + m[0] + m.length);
            String[] args = with(DATA, "prune", "--checkpoint", dense.toString(), "--method", m[0], "--sparsity", "0.95", "--out", run.toString());
            String[] all = java.util.Arrays.copyOf(args, args.length + m.length - 1);
            System.arraycopy(m, 1, all, args.length, m.length - 1);
            Run x = shears(all);
            assertEquals(0, x.code(), m[0] + ": " + x.err());
            long[] y = counts(run.resolve(PruneCommand.PRUNED));
            assertEquals(Math.round(0.95 * y[0]), y[1], m[0]);
        }
    }

    @Test
    void gradualGlobalFromAnUntrainedModelEndsOnTarget() throws Exception {
        Path run = dir.resolve("gradual");
        Run r = shears(with(DATA, "prune", "--model", "lenet5", "--method", "gradual-global", "--sparsity", "0.75", "--epochs", "2",
                "--lr", "0.05", "--gradual-start", "0", "--gradual-end", "0.75", "--out", run.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("gradual Global MP: s_t = "), r.out());
        long[] c = counts(run.resolve("last.safetensors"));
        assertEquals(Math.round(0.75 * c[0]), c[1]);
        assertEquals(c[1], c[2]);
        JsonObject s = json(run.resolve(PruneCommand.SUMMARY));
        assertEquals(3, s.get("pruning_events").getAsInt()); // 4 steps; window [0, 3], dt 1: events at steps 1, 2, 3 (step 0 has s_i = 0)
        assertEquals(0.75, s.get("sparsity_reached").getAsDouble(), 1.0 / c[0]);
    }

    @Test
    void rankPrunesALowRankFastGrnnToTheGivenRanks() throws Exception {
        Path ck = dir.resolve("fastgrnn.safetensors");
        try (Model m = ModelZoo.create("fastgrnn", new dev.shears.nn.models.ModelConfig(1, 8, 9, 2, 1,
                java.util.Map.of("hidden", "16", "rank-w", "6", "rank-u", "5")))) {
            Checkpoint.save(ck, m, null, java.util.Map.of());
        }
        Path run = dir.resolve("rank");
        Run r = shears("prune", "--checkpoint", ck.toString(), "--method", "rank", "--rank-w", "4", "--rank-u", "3", "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("W rank 6 -> 4, U rank 5 -> 3"), r.out());
        try (Checkpoint c = Checkpoint.read(run.resolve(PruneCommand.PRUNED)); Model m = ModelZoo.create(c.spec()); Workspace ws = new Workspace("t")) {
            c.restoreModel(m, ws);
            Parameter w1 = m.parameters().stream().filter(p -> p.name().endsWith(".W1")).findFirst().orElseThrow();
            int rows = w1.shape()[0], cols = w1.shape()[1], alive = 0;
            for (int i = 0; i < rows; i++) if (w1.mask().get((long) i * cols) != 0f) alive++;
            assertEquals(4, alive, "rows of W1 left");
        }
        assertOneLineError(shears("prune", "--checkpoint", ck.toString(), "--method", "rank", "--rank-w", "9", "--rank-u", "3", "--out", out("r2")), "--rank-w");
        assertOneLineError(shears("prune", "--checkpoint", dense.toString(), "--method", "rank", "--rank-w", "4", "--rank-u", "3", "--out", out("r3")), "low-rank FastGRNN");
    }
}
