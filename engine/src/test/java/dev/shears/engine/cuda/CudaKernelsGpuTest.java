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
    void theKernelsCameFromTheAskedPath() {
        String mode = System.getProperty("shears.cuda.kernels", "auto");
        CudaKernels.Path path = gpu.device.kernels().path();
        if (mode.equals("ptx")) assertEquals(CudaKernels.Path.SHIPPED_PTX, path);
        if (mode.equals("nvrtc")) assertEquals(CudaKernels.Path.NVRTC, path);
        System.out.println("CudaKernelsGpuTest: " + gpu.device.describe());
    }
}
