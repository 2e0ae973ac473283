package dev.shears.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.nativelib.Nvrtc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without NVRTC the device layer takes the shipped PTX; a folder without it, or with a broken file, finds none. */
class NvrtcAbsentTest {
    @Test
    void noNvrtcInAFolderMeansNull(@TempDir Path dir) throws Exception {
        assertNull(Nvrtc.findIn(List.of(dir)));
        Files.writeString(dir.resolve("libnvrtc.so.13"), "not an ELF file\n");
        assertNull(Nvrtc.findIn(List.of(dir)), "a file that does not load is skipped, not a crash");
        assertEquals(List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"), Nvrtc.NAMES);
    }

    @Test
    void theCompileOptionsAreTheScriptsOptions() throws Exception {
        // scripts/cuda-ptx.sh must compile with the options the NVRTC path uses, or the two paths differ
        Path script = null; // the repository's scripts/ folder, from the module folder (Maven) or the root (gpu-check.sh)
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null && script == null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("scripts/cuda-ptx.sh"))) script = d.resolve("scripts/cuda-ptx.sh");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(script != null, "scripts/cuda-ptx.sh not found above " + System.getProperty("user.dir"));
        String text = Files.readString(script);
        for (String option : KernelSources.OPTIONS) assertTrue(text.contains(option), "scripts/cuda-ptx.sh lacks " + option);
    }
}
