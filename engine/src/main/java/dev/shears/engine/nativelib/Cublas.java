package dev.shears.engine.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The few cuBLAS calls Shears needs, as FFM downcalls: handle create/destroy, math mode,
 * {@code cublasSgemm_v2} (strict FP32) and {@code cublasGemmEx} (FP32 data, TF32 tensor-core
 * compute when allowed), and the version. Column-major, as cuBLAS is; the row-major mapping is
 * CudaGemm's. Every non-success {@code cublasStatus_t} becomes a {@link CudaException}.
 * Pinned on a GPU by CudaGemmGpuTest; the status names by CudaExceptionTest.
 */
final class Cublas {
    /** {@code cublasOperation_t}. */
    static final int OP_N = 0, OP_T = 1;
    /** {@code cublasMath_t}: default (FP32 stays FP32) and TF32 tensor-op math. */
    static final int DEFAULT_MATH = 0, TF32_TENSOR_OP_MATH = 3;
    /** {@code cublasComputeType_t}: strict FP32, and FP32 with TF32 tensor cores. */
    static final int COMPUTE_32F = 68, COMPUTE_32F_FAST_TF32 = 77;
    /** {@code cudaDataType} CUDA_R_32F and {@code cublasGemmAlgo_t} CUBLAS_GEMM_DEFAULT. */
    static final int R_32F = 0, GEMM_DEFAULT = -1;

    private final String source;
    private final MethodHandle create, destroy, setMathMode, setStream, sgemm, gemmEx, getProperty;

    private Cublas(SymbolLookup lib, String source) {
        this.source = source;
        create = either(lib, "cublasCreate_v2", "cublasCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = either(lib, "cublasDestroy_v2", "cublasDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setMathMode = CudaRuntime.bind(lib, "cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        setStream = CudaRuntime.optional(lib, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // handle, transa, transb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc
        sgemm = either(lib, "cublasSgemm_v2", "cublasSgemm", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        // handle, transa, transb, m, n, k, *alpha, A, Atype, lda, B, Btype, ldb, *beta, C, Ctype, ldc, computeType, algo
        gemmEx = CudaRuntime.bind(lib, "cublasGemmEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        getProperty = CudaRuntime.bind(lib, "cublasGetProperty", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    /**
     * Binds cuBLAS at {@code source} (a path or a soname). When a path fails to load, its
     * libcublasLt of the same major is loaded from the same folder first and the load is retried
     * (libcublas needs it, and a copied or wheel-installed pair may not find it on its own).
     * @throws IllegalArgumentException when it cannot be loaded or lacks a symbol
     */
    static Cublas load(String source) {
        SymbolLookup lib;
        try {
            lib = CudaRuntime.open(source);
        } catch (IllegalArgumentException first) {
            Path p = Path.of(source);
            String name = p.getFileName().toString();
            Path lt = p.resolveSibling(name.replace("libcublas", "libcublasLt"));
            if (!source.contains("/") || !Files.exists(lt)) throw first;
            CudaRuntime.open(lt.toString());
            lib = CudaRuntime.open(source);
        }
        return new Cublas(lib, source);
    }

    String source() {
        return source;
    }

    /** The _v2 name every cuBLAS since 4.0 exports, else the plain name (in case a release renames them). */
    private static MethodHandle either(SymbolLookup lib, String name, String fallback, FunctionDescriptor fd) {
        MethodHandle h = CudaRuntime.optional(lib, name, fd);
        return h != null ? h : CudaRuntime.bind(lib, fallback, fd);
    }

    /** A new handle (on the current device); the caller destroys it. */
    MemorySegment create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(ADDRESS);
            check("cublasCreate_v2", CudaRuntime.call(() -> (int) create.invokeExact(h)));
            return h.get(ADDRESS, 0);
        }
    }

    void destroy(MemorySegment handle) {
        check("cublasDestroy_v2", CudaRuntime.call(() -> (int) destroy.invokeExact(handle)));
    }

    void setMathMode(MemorySegment handle, int mode) {
        check("cublasSetMathMode(" + mode + ")", CudaRuntime.call(() -> (int) setMathMode.invokeExact(handle, mode)));
    }

    /** Queues the handle's work on {@code stream} (a CUstream/cudaStream_t; 0 is the legacy default stream). */
    void setStream(MemorySegment handle, long stream) {
        if (setStream == null) throw new IllegalArgumentException("symbol cublasSetStream_v2 not found in " + source);
        MemorySegment s = MemorySegment.ofAddress(stream);
        check("cublasSetStream_v2", CudaRuntime.call(() -> (int) setStream.invokeExact(handle, s)));
    }

    /** Column-major {@code C = alpha op(A) op(B) + beta C}; alpha and beta are host floats. */
    void sgemm(MemorySegment handle, int opA, int opB, int m, int n, int k, MemorySegment alpha, long a, int lda,
               long b, int ldb, MemorySegment beta, long c, int ldc) {
        MemorySegment pa = MemorySegment.ofAddress(a), pb = MemorySegment.ofAddress(b), pc = MemorySegment.ofAddress(c);
        int status = CudaRuntime.call(() -> (int) sgemm.invokeExact(handle, opA, opB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc));
        if (status != 0) throw CudaException.cublas("cublasSgemm_v2", status, describe(opA, opB, m, n, k, lda, ldb, ldc));
    }

    /** As {@link #sgemm} with FP32 data and the given compute type (e.g. {@link #COMPUTE_32F_FAST_TF32}). */
    void gemmEx(MemorySegment handle, int opA, int opB, int m, int n, int k, MemorySegment alpha, long a, int lda,
                long b, int ldb, MemorySegment beta, long c, int ldc, int computeType) {
        MemorySegment pa = MemorySegment.ofAddress(a), pb = MemorySegment.ofAddress(b), pc = MemorySegment.ofAddress(c);
        int status = CudaRuntime.call(() -> (int) gemmEx.invokeExact(handle, opA, opB, m, n, k, alpha, pa, R_32F, lda,
                pb, R_32F, ldb, beta, pc, R_32F, ldc, computeType, GEMM_DEFAULT));
        if (status != 0) {
            throw CudaException.cublas("cublasGemmEx", status, describe(opA, opB, m, n, k, lda, ldb, ldc) + " compute type " + computeType);
        }
    }

    /** "major.minor.patch" of the loaded cuBLAS. */
    String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            StringBuilder sb = new StringBuilder();
            for (int type = 0; type < 3; type++) {
                int t = type;
                check("cublasGetProperty(" + type + ")", CudaRuntime.call(() -> (int) getProperty.invokeExact(t, v)));
                sb.append(type == 0 ? "" : ".").append(v.get(JAVA_INT, 0));
            }
            return sb.toString();
        }
    }

    private static void check(String call, int status) {
        if (status != 0) throw CudaException.cublas(call, status, null);
    }

    private static String describe(int opA, int opB, int m, int n, int k, int lda, int ldb, int ldc) {
        return "column-major " + (opA == OP_T ? "T" : "N") + (opB == OP_T ? "T" : "N") + " m=" + m + " n=" + n + " k=" + k
                + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc;
    }
}
