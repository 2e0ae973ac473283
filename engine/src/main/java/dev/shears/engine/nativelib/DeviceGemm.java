package dev.shears.engine.nativelib;

/**
 * cuBLAS for the device layer: row-major {@code C = alpha op(A) op(B) + beta C} on device pointers,
 * queued on the device layer's stream, so GEMMs and our kernels run in order with no copies. A thin
 * face on {@link CudaGemmBackend#deviceGemm} (its own handle, FP32 or TF32 by {@code -Dshears.cuda.tf32}).
 * Not the host-operand GEMM backend ({@code -Dshears.gemm=cuda}). Pinned on a GPU by CudaKernelsGpuTest.
 */
public final class DeviceGemm implements AutoCloseable {
    private final CudaGemmBackend backend;

    private DeviceGemm(CudaGemmBackend backend) {
        this.backend = backend;
    }

    /**
     * A handle whose calls queue on {@code stream}.
     * @throws IllegalStateException naming why when cuBLAS or a device is absent
     */
    public static DeviceGemm open(long stream) {
        CudaGemmBackend b = CudaGemm.open(CudaGemm.Options.fromSystemProperties());
        if (b == null) throw new IllegalStateException("cuBLAS for the device layer: " + CudaGemm.probe().line());
        b.useStream(stream);
        return new DeviceGemm(b);
    }

    /** Row-major, leading dimensions in floats, every pointer a device address. */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("device GEMM sizes must be >= 0, got m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        backend.deviceGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /** TF32 tensor cores allowed. */
    public boolean tf32() {
        return backend.options().tf32();
    }

    @Override
    public void close() {
        backend.close();
    }
}
