package dev.shears.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shears.engine.nativelib.CudaDriver;
import org.junit.jupiter.api.Test;

/**
 * The kernel contract on a real NVIDIA GPU (cuda:0); every test skipped, with the probe's reason, on
 * machines without one. scripts/gpu-check.sh runs it twice: kernels compiled by NVRTC when the host has
 * it, and the PTX shipped in the jar ({@code -Dshears.cuda.kernels=ptx}).
 */
class CudaKernelsGpuTest extends CudaKernelsContract {
    @Override
    Gpu openDevice() {
        return Gpu.openIfPresent();
    }

    @Override
    String whyNot() {
        return "no CUDA device here: " + CudaDriver.probe().line();
    }

    @Test
    void cublasOnTheDeviceStreamMatchesTheScalarGemmAndOrdersWithOurKernels() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(20);
        dev.shears.engine.kernels.GemmScalar spec = new dev.shears.engine.kernels.GemmScalar();
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 576, 129}, {16, 1024, 144}, {129, 10, 257}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (int form = 0; form < 4; form++) {
                boolean ta = (form & 1) != 0, tb = (form & 2) != 0;
                int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
                float[] a = dev.shears.engine.testing.TestData.uniform(rng, (ta ? k : m) * lda, -1f, 1f);
                float[] b = dev.shears.engine.testing.TestData.uniform(rng, (tb ? n : k) * ldb, -1f, 1f);
                float[] c = dev.shears.engine.testing.TestData.uniform(rng, m * ldc, -1f, 1f);
                float[] want = c.clone();
                spec.sgemm(ta, tb, m, n, k, 0.75f, java.lang.foreign.MemorySegment.ofArray(a), 0, lda, java.lang.foreign.MemorySegment.ofArray(b), 0, ldb,
                        -0.5f, java.lang.foreign.MemorySegment.ofArray(want), 0, ldc);
                for (int i = 0; i < want.length; i++) want[i] = want[i] < 0f ? 0f : want[i];
                long dC = gpu.put(c);
                gpu.ops.gemm(ta, tb, m, n, k, 0.75f, gpu.put(a), lda, gpu.put(b), ldb, -0.5f, dC, ldc);
                gpu.ops.relu(dC, dC, c.length); // queued after the GEMM on the same stream: it must see the GEMM's result
                float[] got = gpu.get(dC, c.length);
                double tol = dev.shears.engine.testing.TestData.sumTolerance(k) * (gpu.device.gemm().tf32() ? 1000 : 1);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(want[i], got[i], tol, "gemm " + java.util.Arrays.toString(s) + (ta ? " T" : " N") + (tb ? "T" : "N") + " [" + i + "]");
                }
                gpu.reset();
            }
        }
    }

    @Test
    void theKernelsCameFromTheAskedPath() {
        String mode = System.getProperty("shears.cuda.kernels", "auto");
        CudaKernels.Path path = gpu.device.kernels().path();
        if (mode.equals("ptx")) assertEquals(CudaKernels.Path.SHIPPED_PTX, path);
        if (mode.equals("nvrtc")) assertEquals(CudaKernels.Path.NVRTC, path);
        System.out.println("CudaKernelsGpuTest: " + gpu.device.describe());
    }
}
