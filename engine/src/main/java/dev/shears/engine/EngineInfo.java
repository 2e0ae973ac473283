package dev.shears.engine;

import dev.shears.engine.cuda.CudaDevice;
import dev.shears.engine.kernels.GemmBackends;
import dev.shears.engine.nativelib.NativeLibraries;
import dev.shears.engine.simd.SimdProbe;
import java.util.ArrayList;
import java.util.List;

/** The few lines {@code shears info} prints: Java, SIMD, threads, native libraries, GEMM backend, devices. */
public final class EngineInfo {
    private EngineInfo() {}

    public static List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add("java:     " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ", " + System.getProperty("java.home") + ")");
        out.add("kernels:  " + SimdProbe.decision().describe());
        out.add("threads:  " + Parallel.threads() + " (of " + Runtime.getRuntime().availableProcessors() + " cores; -Dshears.threads=N)");
        out.addAll(NativeLibraries.describe());
        out.add("gemm:     " + GemmBackends.selected().name() + " (-Dshears.gemm=java|openblas|cuda)");
        List<String> cuda = CudaDevice.describeAll();
        out.add("devices:  cpu; " + (cuda.getFirst().startsWith("cuda:") ? String.join("; ", cuda) : "cuda: " + cuda.getFirst()));
        return out;
    }
}
