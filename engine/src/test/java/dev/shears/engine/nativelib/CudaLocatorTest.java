package dev.shears.engine.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where libraries are looked for, on a fake file-system root: wheels, toolkits, overrides, majors. */
class CudaLocatorTest {
    @TempDir
    Path root;

    private Path touch(String relative) throws IOException {
        Path p = root.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "");
        return p;
    }

    @Test
    void aPyTorchVenvWheelIsFound() throws IOException {
        Path cudart = touch("opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcudart.so.13");
        Path cublas = touch("opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13");
        CudaLocator.Search s = CudaLocator.search(null, Map.of(), root);
        assertTrue(s.folders().contains(cudart.getParent()), s.folders().toString());
        assertEquals(new CudaLocator.Candidate(cudart.toString(), cublas.toString()), s.candidates().getFirst());
    }

    @Test
    void cuda12WheelsSplitAcrossFoldersArePaired() throws IOException {
        Path cudart = touch("usr/local/lib/python3.11/dist-packages/nvidia/cuda_runtime/lib/libcudart.so.12");
        Path cublas = touch("usr/local/lib/python3.11/dist-packages/nvidia/cublas/lib/libcublas.so.12");
        List<CudaLocator.Candidate> c = CudaLocator.search(null, Map.of(), root).candidates();
        assertTrue(c.contains(new CudaLocator.Candidate(cudart.toString(), cublas.toString())), c.toString());
        assertEquals(new CudaLocator.Candidate("libcudart.so.13", "libcublas.so.13"), c.getFirst(), "13 is tried first, by soname");
    }

    @Test
    void newerMajorComesFirstAndTheToolkitBeforeTheSystemFolders() throws IOException {
        touch("usr/lib/x86_64-linux-gnu/libcudart.so.12");
        touch("usr/lib/x86_64-linux-gnu/libcublas.so.12");
        Path cudart = touch("usr/local/cuda-13.0/targets/x86_64-linux/lib/libcudart.so.13");
        Path cublas = touch("usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublas.so.13");
        CudaLocator.Search s = CudaLocator.search(null, Map.of(), root);
        assertEquals(new CudaLocator.Candidate(cudart.toString(), cublas.toString()), s.candidates().get(0));
        assertTrue(s.candidates().get(1).cudart().endsWith("usr/lib/x86_64-linux-gnu/libcudart.so.12"), s.candidates().toString());
        assertTrue(s.folders().indexOf(cudart.getParent()) < s.folders().indexOf(root.resolve("usr/lib/x86_64-linux-gnu")));
    }

    @Test
    void environmentFoldersComeBeforeTheDefaults() throws IOException {
        Path home = Files.createDirectories(root.resolve("my/cuda/lib64"));
        Path ld = Files.createDirectories(root.resolve("ld/path"));
        touch("usr/local/cuda/lib64/libcudart.so.13");
        CudaLocator.Search s = CudaLocator.search(null, Map.of("CUDA_HOME", root.resolve("my/cuda").toString(), "LD_LIBRARY_PATH", ld + ":/nonexistent"), root);
        assertEquals(home, s.folders().getFirst());
        assertTrue(s.folders().contains(ld), s.folders().toString());
        assertTrue(s.folders().indexOf(root.resolve("usr/local/cuda/lib64")) > 0);
    }

    @Test
    void theOverrideIsTheOnlyFolderAndMayNameAFile() throws IOException {
        touch("usr/local/cuda/lib64/libcudart.so.13");
        Path mine = touch("mine/libcudart.so.13");
        CudaLocator.Search s = CudaLocator.search(mine.toString(), Map.of("CUDA_HOME", "/usr/local/cuda"), root);
        assertTrue(s.overridden());
        assertEquals(List.of(mine.getParent()), s.folders());
        assertEquals(new CudaLocator.Candidate(mine.toString(), "libcublas.so.13"), s.candidates().getFirst());
        assertTrue(CudaLocator.search("/no/such/dir", Map.of(), root).folders().isEmpty());
    }
}
