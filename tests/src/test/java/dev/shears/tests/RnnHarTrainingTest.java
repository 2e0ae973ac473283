package dev.shears.tests;

import static org.junit.jupiter.api.Assertions.*;

import dev.shears.cli.Main;
import dev.shears.datasets.Augment;
import dev.shears.datasets.Datasets;
import dev.shears.datasets.Splits;
import dev.shears.nn.models.ModelConfig;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.optim.OptimizerConfig;
import dev.shears.nn.optim.Schedule;
import dev.shears.nn.train.LoaderSource;
import dev.shears.nn.train.Progress;
import dev.shears.nn.train.TrainConfig;
import dev.shears.nn.train.TrainResult;
import dev.shears.nn.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HAR-2 end to end on small generated UCI HAR folders (the real files' layout: nine
 * {@code Inertial Signals/*_<split>.txt} files of 128 readings per line, {@code y_<split>.txt}
 * labels 1..6): the reader gives (128, 9) sequences in two classes, and fastgrnn and gru learn
 * a class signal hidden in noise through the trainer (Adam, as the paper), also through
 * {@code shears train}. Sizes are small so this runs in seconds.
 */
class RnnHarTrainingTest {
    @TempDir
    Path tmp;

    static final List<String> CHANNELS = List.of("body_acc_x", "body_acc_y", "body_acc_z", "body_gyro_x", "body_gyro_y", "body_gyro_z",
            "total_acc_x", "total_acc_y", "total_acc_z");

    /**
     * Writes {@code train} and {@code test} windows: N(0, 1) noise on every channel, plus, for the
     * HAR-2 class of the activity (even UCI labels: upstairs, sitting, laying), a slow offset on
     * body_gyro_x and a wave on total_acc_z.
     */
    static void writeHar(Path parent, long seed, int train, int test) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        Path root = parent.resolve("UCI HAR Dataset");
        String[] splits = {"train", "test"};
        int[] sizes = {train, test};
        for (int s = 0; s < 2; s++) {
            int n = sizes[s];
            Path dir = Files.createDirectories(root.resolve(splits[s]).resolve("Inertial Signals"));
            int[] labels = new int[n];
            StringBuilder y = new StringBuilder();
            for (int i = 0; i < n; i++) {
                labels[i] = 1 + rng.nextInt(6);
                y.append(labels[i]).append('\n');
            }
            Files.writeString(root.resolve(splits[s]).resolve("y_" + splits[s] + ".txt"), y);
            for (int c = 0; c < 9; c++) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < n; i++) {
                    boolean positive = labels[i] % 2 == 0;
                    for (int t = 0; t < 128; t++) {
                        double v = rng.nextGaussian();
                        if (positive && c == 3) v += 0.8;
                        if (positive && c == 8) v += Math.sin(t * 0.3);
                        text.append(t == 0 ? "  " : " ").append((float) v);
                    }
                    text.append('\n');
                }
                Files.writeString(dir.resolve(CHANNELS.get(c) + "_" + splits[s] + ".txt"), text, StandardCharsets.US_ASCII);
            }
        }
    }

    @Test
    void fastgrnnAndGruLearnHar2() throws IOException {
        writeHar(tmp, 1, 96, 48);
        Splits splits = Datasets.open("har-2", tmp);
        assertArrayEquals(new int[] {128, 9}, splits.train().sampleShape());
        assertEquals(2, splits.train().classes());
        assertEquals(96, splits.train().size());
        for (String model : List.of("fastgrnn", "gru")) {
            ModelConfig cfg = new ModelConfig(1, 128, 9, 2, 3, Map.of("hidden", "16"));
            int epochs = 5;
            TrainConfig config = new TrainConfig(epochs, 16, OptimizerConfig.adam(0), Schedule.constant(0.01, epochs, 0), 0, 3,
                    tmp.resolve("run-" + model), Progress.Mode.OFF);
            try (Network net = ModelZoo.create(model, cfg);
                 LoaderSource train = LoaderSource.training(splits.train(), 16, 3, Augment.none());
                 LoaderSource test = LoaderSource.evaluation(splits.test(), 64);
                 Trainer trainer = new Trainer(net, config).log(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
                TrainResult r = trainer.fit(train, test);
                assertTrue(r.best().testAcc() >= 90, model + " on HAR-2: best test accuracy " + r.best().testAcc() + "% (chance is 50%), history " + r.history());
                assertTrue(r.last().trainLoss() < r.history().getFirst().trainLoss(), model + ": training loss went down");
                assertTrue(Files.exists(tmp.resolve("run-" + model).resolve(Trainer.LAST)), "checkpoint written");
            }
        }
    }

    @Test
    void shearsTrainRunsFastgrnnOnHar2Files() throws IOException {
        writeHar(tmp, 2, 48, 24);
        Path out = tmp.resolve("cli-run");
        int rc = Main.run("train", "--model", "fastgrnn", "--model-option", "hidden=8", "--model-option", "rank-w=4", "--model-option", "rank-u=6",
                "--dataset", "har-2", "--data", tmp.toString(), "--optimizer", "adam", "--lr", "0.01", "--weight-decay", "0", "--schedule", "constant",
                "--epochs", "1", "--batch", "16", "--progress", "off", "--out", out.toString());
        assertEquals(0, rc, "shears train exit code");
        assertTrue(Files.exists(out.resolve(Trainer.LAST)), "checkpoint in " + out);
        int eval = Main.run("eval", "--checkpoint", out.resolve(Trainer.LAST).toString());
        assertEquals(0, eval, "shears eval of the checkpoint");
    }
}
