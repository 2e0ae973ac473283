package dev.shears.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report: STR-convention MACs (ResNet-50 against PAPER.md's totals), collapse flags, and its files. */
class SparsityReportTest {
    /** torchvision resnet50 conv/FC weights: {MACs per weight, shape...} (v1.5: stride on conv2). */
    static List<long[]> resnet50() {
        List<long[]> out = new ArrayList<>();
        out.add(new long[] {112 * 112, 64, 3, 7, 7});
        int cin = 64, res = 56;
        int[][] stages = {{64, 3}, {128, 4}, {256, 6}, {512, 3}};
        for (int st = 0; st < 4; st++) {
            int w = stages[st][0];
            for (int b = 0; b < stages[st][1]; b++) {
                int o = st > 0 && b == 0 ? res / 2 : res;
                out.add(new long[] {(long) res * res, w, cin, 1, 1});
                out.add(new long[] {(long) o * o, w, w, 3, 3});
                out.add(new long[] {(long) o * o, 4L * w, w, 1, 1});
                if (b == 0) out.add(new long[] {(long) o * o, 4L * w, cin, 1, 1});
                cin = 4 * w;
                res = o;
            }
        }
        out.add(new long[] {1, 1000, 2048});
        return out;
    }

    static List<PrunableLayer> resnet50Layers() {
        MemorySegment shared = Arena.ofAuto().allocate(2_359_296L * 4, 64); // the largest layer; views share it
        List<PrunableLayer> layers = new ArrayList<>();
        for (long[] s : resnet50()) {
            int[] shape = new int[s.length - 1];
            long n = 1;
            for (int i = 0; i < shape.length; i++) n *= shape[i] = (int) s[i + 1];
            layers.add(new PrunableLayer("l" + layers.size(), shape, shared, n, s[0], false));
        }
        return layers;
    }

    @Test
    void resnet50DenseCountsMatchThePaper() {
        List<PrunableLayer> layers = resnet50Layers();
        long[] kept = new long[layers.size()];
        for (int l = 0; l < kept.length; l++) kept[l] = layers.get(l).count();
        SparsityReport r = SparsityReport.of(layers, kept, 2048 * 7 * 7); // the global pool counts, unprunable
        assertEquals(54, layers.size());
        assertEquals(25_502_912L, r.weights(), "PAPER.md 2: STR's conv+FC weight count");
        assertEquals(4_089_284_608L, r.denseMacs(), "PAPER.md 2: STR's dense ResNet-50 FLOPs");
        assertEquals(118_013_952L, r.rows().get(0).denseMacs(), "PAPER.md 2: conv1 = 9,408 x 112^2");
        assertEquals(0, r.flopsPruned());
    }

    @Test
    void sparseMacsScaleByDensityAndCollapseIsFlagged() {
        float[] w = new float[24];
        List<PrunableLayer> layers = List.of(
                new PrunableLayer("stem", new int[] {2, 1, 3, 3}, Fixtures.segment(w), 18, 100, false),
                new PrunableLayer("block.conv", new int[] {2, 2}, Fixtures.segment(w), 4, 10, true),
                new PrunableLayer("head, fc", new int[] {1, 2}, Fixtures.segment(w), 2, 1, false));
        SparsityReport r = SparsityReport.of(layers, new long[] {9, 0, 2}, 7);
        assertEquals(900 + 0 + 2 + 7, r.sparseMacs());
        assertEquals(1800 + 40 + 2 + 7, r.denseMacs());
        assertEquals(1 - 909.0 / 1849, r.flopsPruned(), 1e-12);
        assertEquals(1 - 11.0 / 24, r.sparsity(), 1e-12);
        assertEquals(List.of("block.conv"), r.collapsedLayers());
        assertTrue(r.collapsed());
        assertFalse(r.fatalCollapse(), "an identity path goes around block.conv");
        assertTrue(r.table().contains("COLLAPSED (identity path)"), r.table());

        SparsityReport fatal = SparsityReport.of(layers, new long[] {9, 4, 0}, 0);
        assertEquals(List.of("head, fc"), fatal.fatalLayers());
        assertTrue(fatal.table().contains("LAYER COLLAPSE (fatal): head, fc"), fatal.table());
        assertTrue(fatal.csv().contains("\"head, fc\",[1x2],2,0,1.000000,2,0,true,true") || fatal.csv().contains("\"head, fc\""), fatal.csv());
        assertThrows(IllegalArgumentException.class, () -> SparsityReport.of(layers, new long[] {19, 0, 0}, 0));
    }

    @Test
    void filesAreWrittenAtomicallyAndReadBack(@TempDir Path dir) throws Exception {
        List<PrunableLayer> layers = new ArrayList<>(resnet50Layers().subList(0, 5));
        long[] kept = {100, 0, 4000, 5, 16384};
        SparsityReport r = SparsityReport.of(layers, kept, 0);
        Path json = dir.resolve("out/report.json"), csv = dir.resolve("out/report.csv");
        Files.createDirectories(json.getParent());
        Files.writeString(json, "old contents");
        r.writeJson(json);
        r.writeCsv(csv);
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals(r.kept(), o.getAsJsonObject("totals").get("kept").getAsLong());
        assertEquals(r.sparseMacs(), o.getAsJsonObject("totals").get("sparse_macs").getAsLong());
        assertEquals(5, o.getAsJsonArray("layers").size());
        assertEquals("l1", o.getAsJsonObject("collapse").getAsJsonArray("fatal").get(0).getAsString());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(7, lines.size(), "header, 5 layers, TOTAL");
        assertTrue(lines.get(6).startsWith("TOTAL,," + r.weights() + "," + r.kept() + ","), lines.get(6));
        try (Stream<Path> files = Files.list(json.getParent())) {
            assertEquals(2, files.count(), "no temp files left behind");
        }
    }
}
