package dev.shears.cli;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.io.SparseExport;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.onnx.OnnxExport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears export}: a pruned checkpoint to a sparse model file (SparseExport: masked weights
 * as CSR, the rest dense), printing sizes and bytes per nonzero; or, with {@code --format onnx},
 * to an ONNX model (OnnxExport: pruned weights as zeros, batch norm kept or folded). Pinned by
 * InferCliTest and OnnxExportCliTest.
 */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Write a checkpoint as a sparse model (.sparse.safetensors, CSR weights) or as ONNX (--format onnx).", sortOptions = false)
final class ExportCommand implements Runnable {
    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A pruned .safetensors checkpoint (shears prune / train).")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The file to write (a sparse model, or model.onnx).")
    Path out;

    @Option(names = "--format", defaultValue = "sparse", paramLabel = "FORMAT", description = "sparse (default: Shears' CSR file for shears infer) or onnx (opset 17, for ONNX Runtime and other runtimes).")
    String format;

    @Option(names = "--fold-bn", description = "ONNX only: fold each batch norm into the convolution before it (default: BatchNormalization nodes).")
    boolean foldBatchNorm;

    @Override
    public void run() {
        String f = format.trim().toLowerCase(Locale.ROOT);
        if (!f.equals("sparse") && !f.equals("onnx")) throw new UserError("--format " + format + ": unknown format; expected sparse or onnx");
        if (foldBatchNorm && !f.equals("onnx")) throw new UserError("--fold-bn applies to --format onnx only");
        if (!Files.isRegularFile(checkpoint)) throw new UserError("--checkpoint " + checkpoint + ": no such file");
        if (f.equals("onnx")) {
            onnx();
            return;
        }
        try (Checkpoint ck = Checkpoint.read(checkpoint); Workspace masks = new Workspace("export-masks");
             Model model = ModelZoo.create(ck.spec())) {
            ck.restoreModel(model, masks);
            SparseExport.Stats s = SparseExport.write(out, model);
            System.out.println("exported " + out + " (" + ck.spec().get("model") + ")");
            System.out.printf(Locale.ROOT, "sparse weights: %d nonzeros of %d (density %.4f), CSR %d bytes = %.2f bytes per nonzero (4 value + 4 column + row pointers)%n",
                    s.nonzeros(), s.denseWeights(), s.denseWeights() == 0 ? 0.0 : (double) s.nonzeros() / s.denseWeights(), s.csrBytes(), s.bytesPerNonzero());
            System.out.printf(Locale.ROOT, "file bytes: %d (checkpoint %d)%n", Files.size(out), Files.size(checkpoint));
        } catch (java.io.IOException e) {
            throw new UserError("export: " + e.getMessage());
        }
    }

    private void onnx() {
        try (Checkpoint ck = Checkpoint.read(checkpoint); Workspace masks = new Workspace("export-masks");
             Model model = ModelZoo.create(ck.spec())) {
            ck.restoreModel(model, masks);
            OnnxExport.Summary s = OnnxExport.write(model, out, OnnxExport.Options.defaults().withFoldBatchNorm(foldBatchNorm));
            System.out.println("exported " + out + " (" + ck.spec().get("model") + ", ONNX opset " + OnnxExport.OPSET + ", " + s.signature() + ")");
            System.out.printf(Locale.ROOT, "%d nodes, %d initializers; batch norm: %d nodes, %d folded; prunable weights: %d of %d zero (%.2f%%)%n",
                    s.nodes(), s.initializers(), s.batchNormNodes(), s.foldedBatchNorms(), s.zeroWeights(), s.prunableWeights(),
                    s.prunableWeights() == 0 ? 0.0 : 100.0 * s.zeroWeights() / s.prunableWeights());
            System.out.printf(Locale.ROOT, "file bytes: %d (checkpoint %d)%n", Files.size(out), Files.size(checkpoint));
        } catch (java.io.IOException e) {
            throw new UserError("export: " + e.getMessage());
        }
    }
}
