package dev.shears.nn.train;

import dev.shears.nn.io.AtomicFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The per-epoch metrics of a run as {@code metrics.csv} (header + one row per epoch) and
 * {@code metrics.jsonl} (one JSON object per line), each rewritten whole and atomically after
 * every epoch from the run's history, so a resumed run's files never hold a half-written or
 * duplicated epoch. Pinned by TrainerTest.
 */
public final class MetricsLog {
    public static final String CSV = "metrics.csv";
    public static final String JSONL = "metrics.jsonl";
    static final String HEADER = "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";

    private MetricsLog() {}

    public static void write(Path runDir, List<EpochMetrics> history) {
        StringBuilder csv = new StringBuilder(HEADER).append('\n');
        StringBuilder jsonl = new StringBuilder();
        for (EpochMetrics m : history) {
            csv.append(String.format(Locale.ROOT, "%d,%d,%s,%s,%s,%s,%s,%.3f,%.1f\n", m.epoch(), m.step(), num(m.lr()), num(m.trainLoss()),
                    num(m.trainAcc()), num(m.testLoss()), num(m.testAcc()), m.seconds(), m.imagesPerSecond()));
            jsonl.append(RunJson.metrics(m)).append('\n');
        }
        AtomicFiles.writeString(runDir.resolve(CSV), csv.toString());
        AtomicFiles.writeString(runDir.resolve(JSONL), jsonl.toString());
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "";
    }
}
