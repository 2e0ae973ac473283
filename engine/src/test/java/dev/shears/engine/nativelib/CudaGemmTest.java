package dev.shears.engine.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fallback paths on any machine: no library, a file that is not a library, a library without
 * the symbols, a runtime without a device, cuBLAS needing libcublasLt, and this machine's own probe
 * (describe() and load() agree). Options parse with errors that name the option.
 */
class CudaGemmTest {
    @TempDir
    static Path dir;
    private static CudaFakeLibrary.Folders built;

    @BeforeAll
    static void buildFake() throws Exception {
        built = CudaFakeLibrary.build(dir.resolve("fake"));
    }

    private static CudaFakeLibrary.Folders fake() {
        Assumptions.assumeTrue(built != null, "no C compiler (cc, gcc, clang) on PATH to build the fake CUDA library");
        return built;
    }

    @Test
    void anEmptyFolderMeansNotFoundAndTheJavaGemm() throws Exception {
        Path empty = Files.createTempDirectory(dir, "empty");
        CudaGemm.Probe p = CudaGemm.probe(CudaFakeLibrary.only(empty), 0);
        assertFalse(p.available());
        assertTrue(p.line().startsWith("not found (looked for libcudart.so.13/.12 in " + empty), p.line());
        assertTrue(p.line().contains("java GEMM used"), p.line());
    }

    @Test
    void aFileThatIsNotALibraryIsNamed() throws Exception {
        CudaFakeLibrary.Folders f = fake();
        CudaGemm.Probe p = CudaGemm.probe(CudaFakeLibrary.only(f.notALibrary()), 0);
        assertFalse(p.available());
        assertTrue(p.line().startsWith("cannot load " + f.notALibrary().resolve("libcudart.so.13")), p.line());
        assertTrue(p.line().endsWith("; java GEMM used"), p.line());
    }

    @Test
    void aLibraryWithoutTheSymbolsIsNamed() throws Exception {
        CudaFakeLibrary.Folders f = fake();
        CudaGemm.Probe p = CudaGemm.probe(CudaFakeLibrary.only(f.noSymbols()), 0);
        assertFalse(p.available());
        assertTrue(p.line().contains("symbol cudaGetDeviceCount not found"), p.line());
        assertTrue(p.line().contains(f.noSymbols().resolve("libcudart.so.13").toString()), p.line());
    }

    @Test
    void noDeviceGivesTheRuntimesErrorName() throws Exception {
        CudaFakeLibrary.Folders f = fake();
        CudaGemm.Probe p = CudaGemm.probe(CudaFakeLibrary.only(f.noDevice()), 0);
        assertFalse(p.available());
        assertEquals("libcudart.so.13 (" + f.noDevice() + ") loaded, but no usable device: cudaGetDeviceCount failed: "
                + "cudaErrorNoDevice (100): no CUDA-capable device is detected; java GEMM used", p.line());
    }

    @Test
    void aMissingDeviceOrdinalIsNamed() throws Exception {
        CudaFakeLibrary.Folders f = fake();
        CudaGemm.Probe p = CudaGemm.probe(CudaFakeLibrary.only(f.working()), 3);
        assertFalse(p.available());
        assertTrue(p.line().startsWith("-Dshears.cuda.device=3 but libcudart.so.13"), p.line());
    }

    @Test
    void cublasIsFoundByItsSonameWhenOnlyTheRuntimeSitsInAFolder() throws Exception {
        CudaFakeLibrary.Folders f = fake();
        List<CudaLocator.Candidate> c = CudaLocator.candidates(List.of(f.cudartOnly()), true);
        assertEquals(new CudaLocator.Candidate(f.cudartOnly().resolve("libcudart.so.13").toString(), "libcublas.so.13"), c.getFirst());
    }

    @Test
    void cublasLtIsPreloadedFromTheSameFolderWhenCublasNeedsIt() throws Exception {
        CudaFakeLibrary.Folders f = fake();
        Path cublas = f.needsLt().resolve("libcublas.so.13");
        assertThrows(IllegalArgumentException.class, () -> SymbolLookup.libraryLookup(cublas, Arena.global()),
                "the fake cuBLAS should not load on its own (it needs libcublasLt.so.13, which is on no search path)");
        Cublas loaded = Cublas.load(cublas.toString());
        assertEquals("13.0.7", loaded.version());
        loaded.destroy(loaded.create());
    }

    @Test
    void thisMachinesProbeAgreesWithLoadAndDescribe() {
        CudaGemm.Probe p = CudaGemm.probe();
        String line = CudaGemm.describe();
        assertTrue(line.startsWith("cuda:     "), line);
        assertEquals(p.available(), CudaGemm.load() != null);
        if (!p.available()) {
            assertTrue(line.endsWith("java GEMM used") || line.contains("java GEMM used;"), line);
            // A runtime that loads without a driver names the error as the runtime does (cudaError...).
            if (line.contains("no usable device")) assertTrue(line.contains("cudaError"), line);
        }
    }

    @Test
    void optionsNameTheOptionWhenBad() {
        assertEquals(CudaGemm.DEFAULT_MIN_FLOPS, CudaGemm.Options.fromSystemProperties().minFlops());
        IllegalArgumentException neg = assertThrows(IllegalArgumentException.class, () -> new CudaGemm.Options(false, -1, 0));
        assertTrue(neg.getMessage().contains("-Dshears.cuda.minFlops"), neg.getMessage());
        String old = System.getProperty("shears.cuda.tf32");
        try {
            System.setProperty("shears.cuda.tf32", "yes");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CudaGemm.Options::fromSystemProperties);
            assertTrue(e.getMessage().contains("-Dshears.cuda.tf32=yes"), e.getMessage());
        } finally {
            if (old == null) System.clearProperty("shears.cuda.tf32");
            else System.setProperty("shears.cuda.tf32", old);
        }
    }

    @Test
    void checkMainSaysNoDeviceAndWritesItsReport() throws Exception {
        Assumptions.assumeFalse(CudaGemm.probe().available(), "this machine has a device; CudaGemmGpuTest covers it");
        Path out = Files.createTempDirectory(dir, "out");
        CudaCheck.main(new String[] {"--out", out.toString()});
        String report = Files.readString(out.resolve("cuda-check.md"));
        assertTrue(report.contains("No CUDA library or device, nothing to check: "), report);
        assertTrue(report.contains("gemm:     "), report);
    }
}
