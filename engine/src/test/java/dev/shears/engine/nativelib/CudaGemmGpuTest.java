package dev.shears.engine.nativelib;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.kernels.GemmBackends;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backend contract on a real NVIDIA GPU, plus cuBLAS (FP32 and TF32) against the java GEMM on
 * the benchmark shapes within the rounding-error bound of CudaCheck. Runs only when this JVM's
 * probe finds the CUDA runtime, cuBLAS and a device; skipped, with the probe's reason, otherwise.
 */
class CudaGemmGpuTest extends CudaBackendContract {
    @BeforeEach
    void needDevice() { // per test, so each is reported as skipped with the reason
        CudaGemm.Probe p = CudaGemm.probe();
        Assumptions.assumeTrue(p.available(), "no CUDA device here: " + p.line());
    }

    @Override
    CudaGemmBackend create(CudaGemm.Options options) {
        return CudaGemm.open(options);
    }

    @Test
    void benchmarkShapesMatchTheJavaGemm() {
        CudaGemmBackend strict = open(false, 0), tf32 = open(true, 0);
        long seed = 100;
        for (CudaCheck.Case c : CudaCheck.benchmarkCases()) {
            List<CudaCheck.Accuracy> acc = CudaCheck.compare(List.of(strict, tf32), GemmBackends.java(), c, seed++);
            assertTrue(acc.get(0).ok(), c + " fp32: " + acc.get(0));
            assertTrue(acc.get(1).ok(), c + " tf32: " + acc.get(1));
        }
    }

    @Test
    void theSystemBackendIsTheCudaOne() {
        assertTrue(CudaGemm.load() instanceof CudaGemmBackend, "load() with a device present");
        assertTrue(CudaGemm.describe().contains("device"), CudaGemm.describe());
    }
}
