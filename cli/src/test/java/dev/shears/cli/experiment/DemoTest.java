package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny demo end to end (seconds): the table, the computed effects, the report and the plots, then a resume. */
class DemoTest {
    @Test
    void aTinyDemoRunsEndToEnd(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        new Demo(dir, 1, 1, 64, List.of(0.999), "50", 128, 64, false, "off", null)
                .run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("What the numbers show:"), text);
        assertTrue(text.contains("Global MP vs uniform at 99.9%:"), text);
        assertTrue(text.contains("Layer collapse: Global MP empties") || text.contains("Layer collapse (the paper's empirical test") || text.contains("No layer collapse"), text);
        assertTrue(text.contains("Report: " + dir.resolve("report.md").toAbsolutePath()), text);
        for (String f : List.of("report.md", "results.csv", "results.json", "plan.json", "cells.jsonl", Report.ACCURACY_SPARSITY, Report.ACCURACY_FLOPS, Report.LAYERS)) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        assertEquals(1 + 4, Files.readAllLines(dir.resolve("results.csv")).size());

        // the command line: --resume reuses every finished cell
        int code = Main.run("demo", "--out", dir.toString(), "--epochs", "1", "--finetune-epochs", "1", "--finetune-samples", "64", "--sparsities", "0.999", "--mt", "50",
                "--train-size", "128", "--test-size", "64", "--progress", "off", "--resume");
        assertEquals(0, code);
        assertEquals(4, Files.readAllLines(dir.resolve("cells.jsonl")).size(), "nothing ran twice");
    }

    @Test
    void experimentDryRunPrintsThePlanAndAnEstimate(@TempDir Path dir) {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int code;
        try {
            // the recipe with a small model, so the timing takes a moment; CIFAR-10 is not on this machine, so its published size counts
            code = Main.run("experiment", "--recipe", "paper-mobilenetv2-cifar10-98", "--model", "lenet5", "--dry-run", "--out", dir.toString());
        } finally {
            System.setOut(old);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertTrue(text.contains("plan paper-mobilenetv2-cifar10-98") && text.contains("global-mt") && text.contains("0.02%"), text);
        assertTrue(text.contains("Changed from the recipe by --model"), text);
        assertTrue(text.contains("cells (6)"), text);
        assertTrue(text.contains("50,000 training and 10,000 test samples"), text);
        assertTrue(text.contains("estimate: about"), text);
        assertTrue(!Files.exists(dir.resolve("cells.jsonl")), "a dry run runs nothing");
    }
}
