package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Summaries (mean, sample std), the findings computed from them, and the files the report writes. */
class ReportTest {
    static final String FP = "fp";

    static Plan plan() {
        return new Plan("report-test", "lenet5", Map.of(), "fashion-mnist", null, null, null, "none", Stage.sgd(1, 32, 0.05, 0.9, false, 0),
                Stage.sgd(1, 32, 0.01, 0.9, false, 0), List.of(), List.of("global", "global-mt", "uniform", "lamp"), List.of(0.5, 0.99),
                List.of(0L, 1L), "100", "paper", null, List.of());
    }

    /** A LeNet-5-shaped cell: fc3 emptied when {@code collapse}. */
    static CellResult cell(String method, double s, long seed, double acc, double flopsPruned, boolean collapse) {
        long fc3 = collapse ? 0 : 100;
        List<CellResult.Layer> layers = List.of(new CellResult.Layer("conv1", 500, 400, false, false), new CellResult.Layer("conv2", 25_000, 1_000, false, false),
                new CellResult.Layer("fc3", 400_000, fc3, collapse, collapse), new CellResult.Layer("fc4", 5_000, 500, false, false));
        long dense = 2_000_000, sparse = Math.round(dense * (1 - flopsPruned));
        return new CellResult(FP, method, s, seed, s, 430_500, Math.round(430_500 * (1 - s)), dense, sparse, 90, collapse ? 10 : 50, acc, acc + 0.5,
                1, !collapse, layers, null, 2, "test host");
    }

    static List<CellResult> cells() {
        List<CellResult> c = new ArrayList<>();
        for (long seed : new long[] {0, 1}) {
            double d = seed == 0 ? -1 : 1; // +-1 around the mean: sample std sqrt(2)
            c.add(cell("global", 0.5, seed, 89 + d, 0.3, false));
            c.add(cell("global-mt", 0.5, seed, 89 + d, 0.3, false));
            c.add(cell("uniform", 0.5, seed, 88 + d, 0.5, false));
            c.add(cell("lamp", 0.5, seed, 90 + d, 0.25, false));
            c.add(cell("global", 0.99, seed, 10, 0.9, true));
            c.add(cell("global-mt", 0.99, seed, 70 + d, 0.88, false));
            c.add(cell("uniform", 0.99, seed, 12 + d, 0.99, false));
            c.add(cell("lamp", 0.99, seed, 60, 0.9, false));
        }
        return c;
    }

    @Test
    void summariesAreMeansAndSampleStandardDeviationsOverSeeds() {
        List<Summary> s = Summary.of(plan(), cells());
        assertEquals(8, s.size());
        Summary g = s.getFirst();
        assertEquals("global", g.method());
        assertEquals(89, g.accuracy().mean(), 1e-12);
        assertEquals(Math.sqrt(2), g.accuracy().std(), 1e-12);
        assertEquals(2, g.runs());
        Summary collapsed = s.stream().filter(x -> x.method().equals("global") && x.sparsity() == 0.99).findFirst().orElseThrow();
        assertEquals(2, collapsed.collapsedRuns());
        assertEquals(2, collapsed.cutRuns());
        assertEquals(List.of("fc3"), collapsed.collapsedLayers());
        assertEquals(0, collapsed.accuracy().std());
        assertEquals("89.00 ± 1.41", g.accuracy().format());
    }

    @Test
    void findingsAreComputedFromTheNumbers() {
        Plan p = plan();
        List<CellResult> c = cells();
        List<String> f = Findings.of(p, Summary.of(p, c), c);
        String all = String.join("\n", f);
        assertTrue(all.contains("Claim 1 does not hold everywhere here: 3 of 4 comparisons"), all);
        assertTrue(all.contains("lamp at 50%: 90.00% vs Global MP 89.00% (+1.00 points, within one standard deviation)"), all);
        assertTrue(all.contains("uniform at 99%: 12.00% vs Global MP 10.00% (+2.00 points)"), all);
        assertTrue(all.contains("Global MP vs uniform at 99%: 10.00% vs 12.00% (Global MP is BELOW uniform"), all);
        assertTrue(all.contains("Layer collapse: Global MP empties fc3 at 99% in 2 of 2 runs (accuracy 10.00%, network cut); Global MP + MT (100) keeps 100 weights there (accuracy 70.00%)"), all);
        assertTrue(all.contains("FLOPs pruned by Global MP at each sparsity: 50%: 30% vs uniform 50%"), all);
        assertTrue(all.contains("Global MP at 99% (10.00% with 10% of the FLOPs) is beaten on both axes by uniform at 99% (12.00% accuracy with 1% of the FLOPs), lamp at 99%"), all);
        assertTrue(all.contains("it is not beaten on both axes at 50%"), all);

        // the same grid where Global MP wins everywhere and nothing collapses
        List<CellResult> good = new ArrayList<>();
        for (CellResult x : c) {
            double acc = x.method().equals("global") ? 95 : x.accuracy();
            good.add(cell(x.method(), x.sparsity(), x.seed(), acc, x.method().equals("global") ? 0.999 : x.flopsPruned(), false));
        }
        String ok = String.join("\n", Findings.of(p, Summary.of(p, good), good));
        assertTrue(ok.contains("Claim 1 holds here: Global MP is at least as accurate as uniform, lamp at every sparsity run (4 comparisons)"), ok);
        assertTrue(ok.contains("No layer collapse"), ok);
        assertTrue(ok.contains("Claim 2: no other method reaches higher accuracy with fewer FLOPs"), ok);
    }

    @Test
    void reportFilesAndPlotsAreWritten(@TempDir Path dir) throws Exception {
        Plan p = plan();
        List<CellResult> c = cells();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Report.write(dir, p, c, 16, Report.Context.of(List.of("a note")).withCommand("shears experiment --x"), true, new PrintStream(log));
        String md = Files.readString(dir.resolve(Report.MD));
        assertTrue(md.contains("shears experiment --x") && md.contains("a note") && md.contains("| 99% |") && md.contains("## Machine and versions"), md);
        assertTrue(md.contains("| 50% | 89.00 ± 1.41 | 89.00 ± 1.41 | 88.00 ± 1.41 | 90.00 ± 1.41 |"), md);
        assertTrue(md.contains("2/2 (fc3; cut)"), md);
        List<String> csv = Files.readAllLines(dir.resolve(Report.CSV));
        assertEquals(Report.CSV_HEADER, csv.getFirst());
        assertEquals(17, csv.size());
        assertTrue(csv.get(5).startsWith("global,0.99,0,"), csv.get(5));
        assertTrue(csv.get(5).contains(",fc3,fc3,false,"), csv.get(5));
        String json = Files.readString(dir.resolve(Report.JSON));
        assertTrue(json.contains("\"findings\"") && json.contains("\"total_cells\": 16"), json.substring(0, 300));
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            for (String f : List.of(Report.MD, Report.CSV, Report.JSON, Report.ACCURACY_SPARSITY)) {
                assertTrue(Files.getPosixFilePermissions(dir.resolve(f)).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ), f + " is readable by others");
            }
        }
        for (String png : Report.PLOTS) {
            byte[] b = Files.readAllBytes(dir.resolve(png));
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(b, 4), png + " is a PNG; log: " + log);
            assertTrue(md.contains("](" + png + ")"), md);
        }
    }
}
