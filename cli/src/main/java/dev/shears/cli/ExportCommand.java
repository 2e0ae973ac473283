package dev.shears.cli;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.io.SparseExport;
import dev.shears.nn.models.ModelZoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears export}: a pruned checkpoint to a sparse model file (SparseExport: masked weights
 * as CSR, the rest dense), printing sizes and bytes per nonzero. Not a converter for foreign
 * formats. Pinned by InferCliTest.
 */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Write a pruned checkpoint as a sparse model (.sparse.safetensors, CSR weights).", sortOptions = false)
final class ExportCommand implements Runnable {
    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A pruned .safetensors checkpoint (shears prune / train).")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The sparse model file to write.")
    Path out;

    @Override
    public void run() {
        if (!Files.isRegularFile(checkpoint)) throw new UserError("--checkpoint " + checkpoint + ": no such file");
        try (Checkpoint ck = Checkpoint.read(checkpoint); Workspace masks = new Workspace("export-masks");
             Model model = ModelZoo.create(ck.spec())) {
            ck.restoreModel(model, masks);
            EvalCommand.requireFinite(model, checkpoint, "export");
            SparseExport.Stats s = SparseExport.write(out, model);
            System.out.println("exported " + out + " (" + ck.spec().get("model") + ")");
            System.out.printf(Locale.ROOT, "sparse weights: %d nonzeros of %d (density %.4f), CSR %d bytes = %.2f bytes per nonzero (4 value + 4 column + row pointers)%n",
                    s.nonzeros(), s.denseWeights(), s.denseWeights() == 0 ? 0.0 : (double) s.nonzeros() / s.denseWeights(), s.csrBytes(), s.bytesPerNonzero());
            System.out.printf(Locale.ROOT, "file bytes: %d (checkpoint %d)%n", Files.size(out), Files.size(checkpoint));
        } catch (java.io.IOException e) {
            throw new UserError("export: " + e.getMessage());
        }
    }
}
