package dev.shears.engine.nativelib;

/**
 * A failed CUDA runtime or cuBLAS call: the call, its numeric code and the code's name (and, for
 * the runtime, its description). Not used for "library absent", which is a fallback, not an error.
 * The cuBLAS names are a pure table so they are pinned on machines without a GPU (CudaExceptionTest).
 */
public final class CudaException extends RuntimeException {
    private final String call;
    private final int code;
    private final String codeName;

    CudaException(String call, int code, String codeName, String detail) {
        super(call + " failed: " + codeName + " (" + code + ")" + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.call = call;
        this.code = code;
        this.codeName = codeName;
    }

    /** The CUDA runtime or cuBLAS function that failed, e.g. {@code cudaMalloc} or {@code cublasSgemm_v2}. */
    public String call() {
        return call;
    }

    /** The {@code cudaError_t} or {@code cublasStatus_t} value. */
    public int code() {
        return code;
    }

    /** The code's name, e.g. {@code cudaErrorMemoryAllocation} or {@code CUBLAS_STATUS_INVALID_VALUE}. */
    public String codeName() {
        return codeName;
    }

    /** A failed cuBLAS call; the name comes from {@link #cublasStatusName}. */
    static CudaException cublas(String call, int status, String detail) {
        return new CudaException(call, status, cublasStatusName(status), detail);
    }

    /** A failed runtime call, with the name and description the runtime gave (or our table's). */
    static CudaException runtime(String call, int error, String name, String description) {
        return new CudaException(call, error, name == null ? cudaErrorName(error) : name, description);
    }

    /** {@code cublasStatus_t} values as cublas_api.h names them; unknown codes are named as such. */
    public static String cublasStatusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "CUBLAS_STATUS_UNKNOWN_" + status;
        };
    }

    /**
     * The few {@code cudaError_t} names a user meets most, for when the runtime cannot name a code
     * itself (its {@code cudaGetErrorName} is missing or failed). The runtime's own name wins.
     */
    public static String cudaErrorName(int error) {
        return switch (error) {
            case 0 -> "cudaSuccess";
            case 1 -> "cudaErrorInvalidValue";
            case 2 -> "cudaErrorMemoryAllocation";
            case 3 -> "cudaErrorInitializationError";
            case 35 -> "cudaErrorInsufficientDriver";
            case 100 -> "cudaErrorNoDevice";
            case 101 -> "cudaErrorInvalidDevice";
            case 700 -> "cudaErrorIllegalAddress";
            case 999 -> "cudaErrorUnknown";
            default -> "cudaError_" + error;
        };
    }
}
