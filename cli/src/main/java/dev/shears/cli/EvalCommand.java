package dev.shears.cli;

import dev.shears.datasets.Dataset;
import dev.shears.datasets.DatasetException;
import dev.shears.datasets.Splits;
import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.nn.io.Checkpoint;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.train.Evaluator;
import dev.shears.nn.train.LoaderSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shears eval}: rebuilds the model a checkpoint describes, loads its weights (and masks),
 * and prints accuracy and mean cross-entropy on a dataset split (by default the one the run was
 * trained on). A truncated or foreign file is a one-line error. Pinned by CliTest.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a checkpoint: accuracy and loss on a dataset split.", sortOptions = false)
final class EvalCommand implements Runnable {
    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A .safetensors checkpoint written by shears train.")
    Path checkpoint;

    @Option(names = "--dataset", description = "Dataset name (default: the one the checkpoint was trained on, with its --data and subsets; else fashion-mnist).")
    String dataset;

    @Option(names = "--data", description = "Data folder (default: the checkpoint's, else the dataset's built-in source).")
    Path data;

    @Option(names = "--split", defaultValue = "test", description = "test or train (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--batch", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Override
    public void run() {
        TrainCommand.applyThreads(threads);
        if (batch < 1) throw new UserError("--batch must be >= 1, got " + batch);
        String which = split.trim().toLowerCase(Locale.ROOT);
        if (!which.equals("test") && !which.equals("train")) throw new UserError("--split must be test or train, got '" + split + "'");
        if (!Files.isRegularFile(checkpoint)) throw new UserError("--checkpoint " + checkpoint + ": no such file");
        try (Checkpoint ck = Checkpoint.read(checkpoint); Workspace masks = new Workspace("eval-masks")) {
            Map<String, String> meta = ck.metadata();
            Splits splits;
            if (dataset == null && data == null && meta.containsKey(TrainCommand.DATA_NAME)) {
                splits = TrainCommand.openData(meta); // the run's own data, subsets included
            } else {
                String name = dataset != null ? dataset : meta.getOrDefault(TrainCommand.DATA_NAME, "fashion-mnist");
                splits = TrainCommand.openData(name, data);
            }
            Dataset d = which.equals("test") ? splits.test() : splits.train();
            try (Model model = ModelZoo.create(ck.spec())) {
                int[] s = d.sampleShape();
                if (s.length == 2) s = new int[] {1, s[0], s[1]}; // a sequence (T, F) is 1 x T x F to the zoo (fastgrnn, gru)
                Map<String, String> spec = model.spec();
                if (s.length != 3 || !spec.get("channels").equals(Integer.toString(s[0])) || !spec.get("height").equals(Integer.toString(s[1]))
                        || !spec.get("width").equals(Integer.toString(s[2])) || !spec.get("classes").equals(Integer.toString(d.classes()))) {
                    throw new UserError(checkpoint + " holds " + spec.get("model") + " for " + spec.get("channels") + "x" + spec.get("height") + "x" + spec.get("width")
                            + " inputs and " + spec.get("classes") + " classes, but " + d.name() + " has samples " + Arrays.toString(s) + " and " + d.classes() + " classes");
                }
                ck.restoreModel(model, masks);
                requireFinite(model, checkpoint, "evaluation");
                Evaluator.Result r;
                try (LoaderSource src = LoaderSource.evaluation(d, batch)) {
                    r = Evaluator.evaluate(model, src);
                }
                String epoch = meta.containsKey("training") ? " after epoch " + com.google.gson.JsonParser.parseString(meta.get("training")).getAsJsonObject().get("epoch") : "";
                System.out.printf(Locale.ROOT, "accuracy %.2f%%  loss %.4f  on %,d %s images of %s (%s%s, %s)%n", r.accuracy(), r.loss(), r.count(), which, d.name(),
                        spec.get("model"), epoch, checkpoint);
            }
        } catch (DatasetException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** A NaN or infinity in the loaded model is an error naming the file, tensor and index (prune's check). */
    static void requireFinite(Model model, Path file, String purpose) {
        try {
            dev.shears.pruning.Pruning.requireFinite(model, purpose);
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": " + e.getMessage());
        }
    }
}
