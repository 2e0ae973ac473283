package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line becomes a plan: a recipe with the user's overrides, or a custom sweep; mistakes are one-line errors. */
class ExperimentCommandTest {
    static Plan plan(String... args) {
        ExperimentCommand cmd = new ExperimentCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.plan();
    }

    @Test
    void optionsOverrideARecipeEverywhereAndTheReportSaysSo() {
        Plan p = plan("--recipe", "paper-wrn28-8-cifar10", "--finetune-epochs", "2", "--sparsities", "0.9,0.95", "--seeds", "0", "--dataset", "fashion-mnist");
        assertEquals(200, p.dense().epochs(), "the dense recipe is untouched");
        assertEquals(2, p.finetune().epochs());
        assertEquals(2, p.finetuneFor("global", 0.95).epochs(), "the per-sparsity rows get the override too");
        assertEquals(0.0256, p.finetuneFor("global", 0.95).lr(), "but keep their own learning rate");
        assertEquals(List.of(0.9, 0.95), p.sparsities());
        assertEquals(List.of(0L), p.seeds());
        assertEquals("fashion-mnist", p.dataset());
        assertEquals("wrn-28-8", p.model());
        assertTrue(p.notes().getLast().contains("--dataset, --sparsities, --seeds, --finetune-epochs"), p.notes().getLast());
    }

    @Test
    void aCustomSweepHasDefaultsAndNormalisedMethodNames() {
        Plan p = plan("--model", "lenet5", "--methods", "Global,LAMP", "--finetune-samples", "500", "--mt", "1%");
        assertEquals("custom", p.name());
        assertEquals(List.of("global", "lamp"), p.methods());
        assertEquals(500, p.finetune().samplesPerEpoch());
        assertEquals(0, p.dense().samplesPerEpoch());
        assertEquals("fashion-mnist", p.dataset());
        assertEquals("1%", p.mt());
        assertNull(p.denseCheckpoint());
    }

    @Test
    void mistakesAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan("--methods", "global"));
        assertTrue(e.getMessage().contains("--recipe NAME or --model NAME"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> plan("--recipe", "paper-resnet18"));
        assertTrue(e.getMessage().contains("unknown recipe 'paper-resnet18'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> plan("--model", "lenet5", "--methods", "global-mt"));
        assertTrue(e.getMessage().contains("needs --mt"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> plan("--model", "lenet5", "--dense", "/no/such/file.safetensors"));
        assertTrue(e.getMessage().contains("/no/such/file.safetensors"), e.getMessage());
    }

    @Test
    void theReportedCommandNamesTheSubcommandOnce() {
        assertEquals("shears experiment --model lenet5 --out x", ExperimentCommand.commandLine(List.of("experiment", "--model", "lenet5", "--out", "x")));
        assertEquals("shears experiment --model lenet5", ExperimentCommand.commandLine(List.of("--model", "lenet5")));
        assertEquals("shears experiment", ExperimentCommand.commandLine(List.of("experiment")));
    }
}
