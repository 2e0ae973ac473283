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
    @Override
    Gpu openDevice() throws Exception {
        Path dir = Files.createTempDirectory("shears-hostkernels");
        Path folder = HostKernels.build(dir);
        if (folder == null) return null;
        return Gpu.of(CudaDevice.open(Device.cuda(0), CudaDriver.probeFolders(List.of(folder))));
    }

    @Override
    String whyNot() {
        return "no C and C++ compiler (cc and c++, gcc and g++, or clang and clang++) on PATH to build the host kernels";
    }
}
