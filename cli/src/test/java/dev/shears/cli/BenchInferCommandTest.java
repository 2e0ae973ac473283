package dev.shears.cli;

import static dev.shears.cli.Run.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code shears bench infer} on a small LeNet-5: prints both latencies, a speed-up, a max abs
 * diff near zero and the per-layer choice with --explain; option mistakes are one-line errors.
 */
class BenchInferCommandTest {
    @Test
    void reportsBothPathsAndTheirAgreement() {
        Run r = shears("bench", "infer", "--model", "lenet5", "--input", "1x28x28", "--sparsity", "0.9", "--batch", "2",
                "--iters", "3", "--warmup", "1", "--explain");
        assertEquals(0, r.code(), r.err());
        for (String key : List.of(".dense.ms.med", ".dense.ms.p90", ".sparse.ms.med", ".sparse.ms.p90", ".layers_sparse")) {
            assertTrue(r.out().contains(key), "missing " + key + " in:\n" + r.out());
        }
        assertTrue(Pattern.compile("\\.speedup \\d+\\.\\dx").matcher(r.out()).find(), r.out());
        Matcher m = Pattern.compile("max_abs_diff (\\S+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(1)) < 1e-3, r.out());
        assertTrue(r.out().contains("sparse_us"), "--explain table missing:\n" + r.out());
        Matcher d = Pattern.compile("conv_linear_density (\\S+)").matcher(r.out());
        assertTrue(d.find(), r.out());
        assertEquals(0.1, Double.parseDouble(d.group(1)), 0.01, "Global MP at 0.9 keeps 10% of the prunable weights");
    }

    @Test
    void badSparsityIsAnError() {
        Run r = shears("bench", "infer", "--model", "lenet5", "--input", "1x28x28", "--sparsity", "1.5");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--sparsity"), r.err());
    }
}
