package dev.shears.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/library.md's Java example cannot rot: its code block is LibraryExample.java word for word
 * (so it compiles with the build), and running it at a small size (1,280 training and 200 test images, one epoch; SIMD pass) prunes exactly 90% of the
 * weights, learns, and gives the sparse model the masked dense model's accuracy.
 */
class LibraryExampleTest {
    private static Path repoFile(String relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(relative))) return dir.resolve(relative);
        }
        throw new AssertionError(relative + " not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void theDocumentedExampleIsTheCompiledFile() throws IOException {
        String doc = Files.readString(repoFile("docs/library.md"));
        String code = Files.readString(repoFile("tests/src/test/java/dev/shears/tests/LibraryExample.java"));
        int open = doc.indexOf("```java\npackage dev.shears.tests;");
        assertTrue(open >= 0, "docs/library.md has no ```java block starting with the example's package line");
        int start = open + "```java\n".length(), end = doc.indexOf("```", start);
        assertEquals(code, doc.substring(start, end),
                "docs/library.md's example differs from tests/src/test/java/dev/shears/tests/LibraryExample.java: copy the file into the block");
    }

    @Test
    void theExampleRuns() {
        // The scalar pass (-Dshears.simd=off) exists for the kernels' scalar twins, which their own tests
        // cover; through LeNet-5 it would only make this the slowest test of the suite (minutes on 2 cores).
        assumeFalse("off".equals(System.getProperty("shears.simd")), "the example runs in the SIMD pass");
        LibraryExample.Outcome o = LibraryExample.run(1280, 200, 1); // 20 steps, 200 test images: seconds
        long n = o.report().weights();
        assertEquals(n - Math.round(0.9 * n), o.report().kept(), "Global MP + MT (exact) keeps exactly N - round(0.9 N)");
        assertTrue(o.dense() > 30 && o.pruned() > 30, "dense " + o.dense() + "%, pruned " + o.pruned() + "% (chance: 10%)");
        assertEquals(o.pruned(), o.sparse(), 0.501, "the sparse model should classify like the masked dense one (200 images, at most one differs)");
    }
}
