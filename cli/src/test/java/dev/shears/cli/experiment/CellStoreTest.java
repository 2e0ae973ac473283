package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal: round trip, a line cut short by a kill, a damaged line, another plan's cells. */
class CellStoreTest {
    static CellResult cell(String fp, String method, double s, long seed, double acc) {
        return new CellResult(fp, method, s, seed, s, 1000, Math.round(1000 * (1 - s)), 5000, 4000, 90.5, 12.25, acc, acc + 1, 2, true,
                List.of(new CellResult.Layer("conv1.weight", 100, 50, false, false), new CellResult.Layer("fc.weight", 900, 0, true, true)),
                "a note", 1.5, "test CPU, 2 cores, 2 threads", 10);
    }

    @Test
    void cellsRoundTripThroughTheJournal(@TempDir Path dir) {
        CellStore store = new CellStore(dir);
        CellResult a = cell("fp", "global", 0.9, 0, 80.125), b = cell("fp", "global-mt", 0.99, 2, Double.NaN);
        store.append(a);
        store.append(b);
        CellStore.Loaded l = new CellStore(dir).load("fp");
        assertEquals(2, l.cells().size());
        assertEquals(a.json(), l.cells().get(a.key()).json());
        assertEquals(b.json(), l.cells().get(b.key()).json());
        assertTrue(Double.isNaN(l.cells().get(b.key()).accuracy()));
        assertEquals(List.of("fc.weight"), l.cells().get(a.key()).fatalLayers());
        assertEquals(0.2, l.cells().get(a.key()).flopsPruned(), 1e-12);
        assertEquals(10, l.cells().get(a.key()).classes());
    }

    @Test
    void aCellWrittenBeforeClassesWereRecordedReadsAsUnknown() {
        com.google.gson.JsonObject o = cell("fp", "global", 0.99, 0, 10.0).json();
        o.remove("classes");
        CellResult r = CellResult.parse(o);
        assertEquals(0, r.classes());
        assertTrue(!r.atChance(), "chance is unknown without the class count");
        assertTrue(cell("fp", "global", 0.99, 0, 10.0).atChance());
        assertTrue(!cell("fp", "global", 0.99, 0, 11.5).atChance());
    }

    @Test
    void aLineCutShortByAKillIsIgnoredThenReplaced(@TempDir Path dir) throws Exception {
        CellStore store = new CellStore(dir);
        CellResult a = cell("fp", "global", 0.9, 0, 80);
        store.append(a);
        String half = cell("fp", "uniform", 0.9, 0, 70).json().toString();
        Files.writeString(store.file(), half.substring(0, half.length() / 2), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        CellStore.Loaded l = new CellStore(dir).load("fp");
        assertEquals(1, l.cells().size());
        assertTrue(l.truncatedTail());
        CellStore again = new CellStore(dir);
        CellResult c = cell("fp", "uniform", 0.9, 0, 70);
        again.append(c);
        List<String> lines = Files.readAllLines(store.file());
        assertEquals(2, lines.size(), "the fragment was cut before appending: " + lines);
        CellStore.Loaded l2 = new CellStore(dir).load("fp");
        assertFalse(l2.truncatedTail());
        assertEquals(2, l2.cells().size());
    }

    @Test
    void aDamagedLineInTheMiddleIsAnErrorNamingIt(@TempDir Path dir) throws Exception {
        CellStore store = new CellStore(dir);
        store.append(cell("fp", "global", 0.9, 0, 80));
        Files.writeString(store.file(), "{not json\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        store.append(cell("fp", "global", 0.99, 0, 60));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CellStore(dir).load("fp"));
        assertTrue(e.getMessage().contains("cells.jsonl line 2"), e.getMessage());
    }

    @Test
    void cellsOfAnotherPlanAreKeptButNotReturned(@TempDir Path dir) {
        CellStore store = new CellStore(dir);
        store.append(cell("old", "global", 0.9, 0, 80));
        store.append(cell("new", "global", 0.9, 0, 81));
        store.append(cell("new", "global", 0.9, 0, 82)); // a rerun of the same cell: the latest wins
        CellStore.Loaded l = store.load("new");
        assertEquals(1, l.cells().size());
        assertEquals(1, l.foreign());
        assertEquals(82, l.cells().values().iterator().next().accuracy());
        assertEquals(3, store.rawLines().size());
    }
}
