package dev.shears.cli;

import static dev.shears.cli.Run.shears;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.nn.io.Safetensors;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shears train | eval | bench train} from the command line: every option mistake is one
 * line on stderr and exit code 2; a LeNet-5 run on a small subset of the embedded data, stopped
 * after one epoch and resumed, ends with the same tensors, bit for bit, as an uninterrupted run;
 * eval reads the checkpoint back; damaged checkpoints are one-line errors.
 */
class TrainCliTest {
    @TempDir
    Path dir;

    private static void assertOneLineError(Run r, String fragment) {
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(1, lines.size(), "expected one line on stderr, got:\n" + r.err());
        assertTrue(lines.getFirst().startsWith("shears "), lines.getFirst());
        assertTrue(lines.getFirst().contains(fragment), "'" + lines.getFirst() + "' lacks '" + fragment + "'");
    }

    @Test
    void optionMistakesAreOneClearLine() throws Exception {
        assertOneLineError(shears("train", "--epochs", "abc"), "--epochs");
        assertOneLineError(shears("train", "--no-such-option"), "--no-such-option");
        assertOneLineError(shears("train", "--dataset", "fashion-mnist"), "--model is required");
        assertOneLineError(shears("train", "--model", "lenet5", "--lr", "-1", "--out", dir.resolve("x").toString()), "--lr must be > 0, got -1.0");
        assertOneLineError(shears("train", "--model", "lenet5", "--schedule", "wavy", "--out", dir.resolve("x").toString()), "--schedule must be cosine, step or constant");
        assertOneLineError(shears("train", "--model", "lenet5", "--warmup-epochs", "5", "--epochs", "5", "--schedule", "cosine", "--out", dir.resolve("x").toString()), "--warmup-epochs");
        assertOneLineError(shears("train", "--model", "lenet5", "--optimizer", "adam", "--nesterov", "--out", dir.resolve("x").toString()), "--nesterov applies to --optimizer sgd");
        assertOneLineError(shears("train", "--model", "no-such-net", "--out", dir.resolve("x").toString()), "unknown model 'no-such-net'");
        assertOneLineError(shears("train", "--model", "lenet5", "--dataset", "cifar10", "--out", dir.resolve("x").toString()), "cifar10");
        assertOneLineError(shears("train", "--resume", dir.toString(), "--lr", "0.1"), "option --lr cannot be combined with --resume");
        assertOneLineError(shears("train", "--resume", dir.resolve("none").toString()), "does not exist");
        assertOneLineError(shears("eval", "--checkpoint", dir.resolve("missing.safetensors").toString()), "no such file");
        assertOneLineError(shears("eval"), "--checkpoint");
        assertOneLineError(shears("bench", "train", "--input", "3x32"), "--input must be CxHxW");
        Path junk = dir.resolve("junk.safetensors");
        Files.writeString(junk, "this is not a checkpoint");
        assertOneLineError(shears("eval", "--checkpoint", junk.toString()), junk + ": header length");
    }

    private static final String[] RECIPE = {"--model", "lenet5", "--train-size", "64", "--test-size", "48", "--batch", "32", "--lr", "0.05",
            "--momentum", "0.9", "--nesterov", "--weight-decay", "1e-4", "--label-smoothing", "0.1", "--schedule", "constant", "--warmup-epochs", "1",
            "--seed", "3", "--progress", "off"};

    private static String[] args(String[] base, String... more) {
        String[] all = new String[base.length + more.length + 1];
        all[0] = "train";
        System.arraycopy(base, 0, all, 1, base.length);
        System.arraycopy(more, 0, all, 1 + base.length, more.length);
        return all;
    }

    @Test
    void aStoppedAndResumedRunEqualsAnUninterruptedOne() throws Exception {
        Path full = dir.resolve("full"), part = dir.resolve("part");
        Run a = shears(args(RECIPE, "--epochs", "2", "--out", full.toString()));
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("done: 2 epochs"), a.out());
        assertEquals(3, Files.readAllLines(full.resolve("metrics.csv")).size());

        Run b1 = shears(args(RECIPE, "--epochs", "1", "--out", part.toString()));
        assertEquals(0, b1.code(), b1.err());
        assertOneLineError(shears(args(RECIPE, "--epochs", "2", "--out", part.toString())), "already holds a run");
        Run b2 = shears("train", "--resume", part.toString(), "--epochs", "2", "--progress", "off");
        assertEquals(0, b2.code(), b2.err());
        assertTrue(b2.out().contains("resuming at epoch 2"), b2.out());

        try (Safetensors.Contents x = Safetensors.read(full.resolve("last.safetensors")); Safetensors.Contents y = Safetensors.read(part.resolve("last.safetensors"))) {
            assertEquals(x.entries().keySet(), y.entries().keySet());
            assertTrue(x.entries().containsKey("conv1.weight") && x.entries().containsKey("optim.fc4.weight.momentum_buffer"), x.entries().keySet().toString());
            for (Map.Entry<String, Safetensors.Entry> e : x.entries().entrySet()) {
                assertArrayEquals(e.getValue().data().toArray(ValueLayout.JAVA_BYTE), y.entries().get(e.getKey()).data().toArray(ValueLayout.JAVA_BYTE), e.getKey());
            }
        }
        List<String> fullCsv = Files.readAllLines(full.resolve("metrics.csv")), partCsv = Files.readAllLines(part.resolve("metrics.csv"));
        assertEquals(fullCsv.size(), partCsv.size());
        for (int i = 1; i < fullCsv.size(); i++) { // same figures but the timings (the last two columns)
            String[] f = fullCsv.get(i).split(","), p = partCsv.get(i).split(",");
            assertArrayEquals(java.util.Arrays.copyOf(f, 7), java.util.Arrays.copyOf(p, 7), "metrics row " + i);
        }

        Run e = shears("eval", "--checkpoint", full.resolve("last.safetensors").toString());
        assertEquals(0, e.code(), e.err());
        String acc = fullCsv.getLast().split(",")[6];
        assertTrue(e.out().startsWith("accuracy " + String.format(java.util.Locale.ROOT, "%.2f", Double.parseDouble(acc)) + "%"), e.out() + " vs " + acc);
        assertTrue(e.out().contains("on 48 test images"), e.out());

        byte[] bytes = Files.readAllBytes(full.resolve("last.safetensors"));
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertOneLineError(shears("eval", "--checkpoint", cut.toString()), "truncated");
    }
}
