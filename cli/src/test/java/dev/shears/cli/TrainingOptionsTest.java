package dev.shears.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** train and prune share one definition of the training options: same names, defaults and help; each keeps its own LR-schedule option name. */
class TrainingOptionsTest {
    static final List<String> SHARED = List.of("--batch", "--optimizer", "--lr", "--momentum", "--nesterov", "--weight-decay", "--no-decay-norm-bias", "--adamw",
            "--schedule-per-epoch", "--milestones", "--gamma", "--warmup-epochs", "--label-smoothing", "--mask-gradients", "--augment", "--train-size",
            "--test-size", "--seed", "--progress", "--threads");

    @Test
    void trainAndPruneShareTheTrainingOptions() {
        CommandLine root = new CommandLine(new Main());
        CommandSpec train = root.getSubcommands().get("train").getCommandSpec(), prune = root.getSubcommands().get("prune").getCommandSpec();
        for (String name : SHARED) {
            OptionSpec t = train.findOption(name), p = prune.findOption(name);
            assertNotNull(t, "train lacks " + name);
            assertNotNull(p, "prune lacks " + name);
            assertEquals(t.defaultValue(), p.defaultValue(), name);
            assertArrayEquals(t.description(), p.description(), name);
        }
        assertEquals("128", train.findOption("--batch").defaultValue());
        assertEquals("0.1", train.findOption("--lr").defaultValue());
        assertNotNull(train.findOption("--schedule"));
        assertNotNull(prune.findOption("--lr-schedule"));
        assertNull(train.findOption("--lr-schedule"));
        assertEquals("fashion-mnist", train.findOption("--dataset").defaultValue(), "train's data options stay its own");
        assertNull(prune.findOption("--dataset").defaultValue(), "prune's dataset defaults to the checkpoint's");
    }
}
