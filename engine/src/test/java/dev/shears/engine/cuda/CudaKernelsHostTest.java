package dev.shears.engine.cuda;

import dev.shears.engine.nativelib.CudaDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel contract on the CPU: our .cu sources compiled as C++ for the host and driven through the
 * real device layer (CudaDevice, CudaKernels' argument packing, CudaOps) by a fake libcuda
 * (HostKernels). It checks the kernels' arithmetic and indexing and the tests' own references without a
 * GPU; the GPU run (CudaKernelsGpuTest) checks the PTX, the parallel reductions and the launch shapes.
 * Skipped, saying so, without a C and a C++ compiler.
 */
class CudaKernelsHostTest extends CudaKernelsContract {
    private Path dir;

    @Override
    Gpu openDevice() throws Exception {
        dir = Files.createTempDirectory("shears-hostkernels");
        Path folder = HostKernels.build(dir);
        if (folder == null) return null;
        return Gpu.of(CudaDevice.open(Device.cuda(0), CudaDriver.probeFolders(List.of(folder))));
    }

    @Override
    @org.junit.jupiter.api.AfterAll
    void close() {
        super.close();
        if (dir == null) return;
        try (var files = Files.walk(dir)) { // the loaded library may go too: the mapping stays until the JVM exits
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            // a temp folder left behind is not a test failure
        }
    }

    @org.junit.jupiter.api.Test
    void theKernelBenchRunsEveryOp() {
        List<String> lines = CudaKernelBench.run(gpu.device, 64, 1, false);
        // header, column names, the launch, 5 ops + im2col/col2im for each of 3 stages, sgd, adam, cross-entropy, pooling, dropout
        org.junit.jupiter.api.Assertions.assertEquals(2 + 1 + 3 * 7 + 5, lines.size(), String.join("\n", lines));
        for (String line : lines.subList(2, lines.size())) org.junit.jupiter.api.Assertions.assertFalse(line.contains("not run"), line);
        org.junit.jupiter.api.Assertions.assertEquals(0, gpu.device.allocatorStats().bytesInUse(), "the bench returns its buffers");
    }

    @Override
    String whyNot() {
        return "no C and C++ compiler (cc and c++, gcc and g++, or clang and clang++) on PATH to build the host kernels";
    }
}
