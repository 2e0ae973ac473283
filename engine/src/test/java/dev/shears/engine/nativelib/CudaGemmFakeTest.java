package dev.shears.engine.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend contract on the fake CUDA library (fakecuda.c, built here with the C compiler), so the
 * binding, the row-major mapping, the buffer cache and the error paths run on machines without a
 * GPU. Skipped, saying why, when there is no C compiler.
 */
class CudaGemmFakeTest extends CudaBackendContract {
    @TempDir
    static Path dir;
    static CudaFakeLibrary.Folders fake;
    static CudaGemm.Probe probe;

    @BeforeAll
    static void buildFake() throws Exception {
        fake = CudaFakeLibrary.build(dir);
        Assumptions.assumeTrue(fake != null, "no C compiler (cc, gcc, clang) on PATH to build the fake CUDA library");
        probe = CudaGemm.probe(CudaFakeLibrary.only(fake.working()), 0);
    }

    @Override
    CudaGemmBackend create(CudaGemm.Options options) {
        assertTrue(probe.available(), probe.line());
        return new CudaGemmBackend(probe.found(), options);
    }

    @Test
    void theProbeDescribesTheDevice() {
        String line = probe.line();
        assertTrue(line.startsWith("libcudart.so.13 (" + fake.working() + "), 1 device: Fake CUDA Device (#0, sm_90, 1 GiB)"), line);
        assertTrue(line.contains("runtime 13.0, driver 13.0, cuBLAS 13.0.7 (libcublas.so.13 (" + fake.working() + "))"), line);
        assertTrue(line.contains("m*n*k >= "), line);
    }

    @Test
    void theCheckReportsAccuracyAndSpeedTables() {
        List<CudaCheck.Case> cases = List.of(new CudaCheck.Case("small fwd", false, false, 16, 96, 72, true),
                new CudaCheck.Case("small wgrad", false, true, 16, 72, 96, false), new CudaCheck.Case("small dgrad", true, false, 72, 96, 16, true));
        StringBuilder md = new StringBuilder();
        assertTrue(CudaCheck.run(md, 60, o -> new CudaGemmBackend(probe.found(), o), cases, cases, 0.01), md.toString());
        String text = md.toString();
        assertTrue(text.contains("| small wgrad | NT | 16 | 72 | 96 | "), text);
        assertEquals(3, text.lines().filter(l -> l.startsWith("| small") && l.split("\\|").length == 9).count(), "speed rows with 7 figures:\n" + text);
        assertFalse(text.contains("FAIL"), text);
    }

    @Test
    void steadyShapesReuseDeviceBuffers() {
        CudaGemmBackend cuda = open(false, 0);
        MemorySegment a = random(96 * 80, 1), b = random(80 * 72, 2), c = random(96 * 72, 3);
        cuda.sgemm(false, false, 96, 72, 80, 1f, a, 0, 80, b, 0, 72, 0f, c, 0, 72);
        long mallocs = CudaFakeLibrary.stat(fake.working(), 0);
        for (int r = 0; r < 5; r++) cuda.sgemm(false, false, 96, 72, 80, 1f, a, 0, 80, b, 0, 72, 1f, c, 0, 72);
        cuda.sgemm(false, false, 50, 30, 40, 1f, a, 0, 40, b, 0, 30, 0f, c, 0, 30); // smaller fits too
        assertEquals(mallocs, CudaFakeLibrary.stat(fake.working(), 0), "no cudaMalloc once the buffers fit");

        MemorySegment big = random(150 * 150, 4), out = random(150 * 150, 5); // 90000 bytes each: past the first 64 KiB
        cuda.sgemm(false, false, 150, 150, 150, 1f, big, 0, 150, big, 0, 150, 0f, out, 0, 150);
        long grown = CudaFakeLibrary.stat(fake.working(), 0);
        assertEquals(mallocs + 3, grown, "each role grows once for a bigger shape");
        long frees = CudaFakeLibrary.stat(fake.working(), 1);
        cuda.close();
        assertEquals(frees + 3, CudaFakeLibrary.stat(fake.working(), 1), "close frees the three buffers");
    }
}
