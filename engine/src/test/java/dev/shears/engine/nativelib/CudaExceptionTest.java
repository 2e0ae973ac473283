package dev.shears.engine.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The error mapping as pure functions: cuBLAS status names, the runtime fallback names, the message. */
class CudaExceptionTest {
    @Test
    void cublasStatusesHaveTheirHeaderNames() {
        int[] codes = {0, 1, 3, 7, 8, 11, 13, 14, 15, 16};
        String[] names = {"SUCCESS", "NOT_INITIALIZED", "ALLOC_FAILED", "INVALID_VALUE", "ARCH_MISMATCH", "MAPPING_ERROR",
                "EXECUTION_FAILED", "INTERNAL_ERROR", "NOT_SUPPORTED", "LICENSE_ERROR"};
        for (int i = 0; i < codes.length; i++) assertEquals("CUBLAS_STATUS_" + names[i], CudaException.cublasStatusName(codes[i]));
        assertEquals("CUBLAS_STATUS_UNKNOWN_99", CudaException.cublasStatusName(99));
    }

    @Test
    void messagesCarryCallCodeNameAndDetail() {
        CudaException e = CudaException.cublas("cublasSgemm_v2", 7, "column-major NN m=4 n=4 k=4");
        assertEquals("cublasSgemm_v2 failed: CUBLAS_STATUS_INVALID_VALUE (7): column-major NN m=4 n=4 k=4", e.getMessage());
        assertEquals("cublasSgemm_v2", e.call());
        assertEquals(7, e.code());
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", e.codeName());

        CudaException r = CudaException.runtime("cudaMalloc(8 bytes)", 2, "cudaErrorMemoryAllocation", "out of memory");
        assertEquals("cudaMalloc(8 bytes) failed: cudaErrorMemoryAllocation (2): out of memory", r.getMessage());
        CudaException unnamed = CudaException.runtime("cudaFree", 100, null, null);
        assertEquals("cudaFree failed: cudaErrorNoDevice (100)", unnamed.getMessage());
        assertEquals("cudaError_12345", CudaException.cudaErrorName(12345));
    }

    @Test
    void driverAndNvrtcCodesHaveTheirHeaderNames() {
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CudaException.cuResultName(2));
        assertEquals("CUDA_ERROR_NO_DEVICE", CudaException.cuResultName(100));
        assertEquals("CUDA_ERROR_INVALID_PTX", CudaException.cuResultName(218));
        assertEquals("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", CudaException.cuResultName(222));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CudaException.cuResultName(700));
        assertEquals("CUDA_ERROR_12345", CudaException.cuResultName(12345));
        assertEquals("NVRTC_ERROR_COMPILATION", CudaException.nvrtcResultName(6));
        assertEquals("NVRTC_ERROR_INVALID_OPTION", CudaException.nvrtcResultName(5));
        assertEquals("NVRTC_ERROR_77", CudaException.nvrtcResultName(77));

        CudaException d = CudaException.driver("cuModuleLoadData(optim.ptx (shipped in the jar))", 222, null, null);
        assertEquals("cuModuleLoadData(optim.ptx (shipped in the jar)) failed: CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222)", d.getMessage());
        CudaException n = CudaException.nvrtc("nvrtcCompileProgram(optim.cu)", 6, "optim.cu(12): error: identifier \"x\" is undefined");
        assertEquals("nvrtcCompileProgram(optim.cu) failed: NVRTC_ERROR_COMPILATION (6): optim.cu(12): error: identifier \"x\" is undefined", n.getMessage());
    }
}
