package dev.shears.engine.nativelib;

/**
 * A failed CUDA runtime, driver, NVRTC or cuBLAS call: the call, its numeric code and the code's name
 * (and the library's description, or NVRTC's compile log). Not used for "library absent", which is a
 * fallback, not an error. The name tables are pure so they are pinned on machines without a GPU
 * (CudaExceptionTest); the library's own name wins where it gives one.
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

    /** A failed driver API call ({@code CUresult}), with the driver's name and description (or our table's name). */
    static CudaException driver(String call, int result, String name, String description) {
        return new CudaException(call, result, name == null ? cuResultName(result) : name, description);
    }

    /** A failed NVRTC call ({@code nvrtcResult}); {@code detail} carries the compile log when there is one. */
    static CudaException nvrtc(String call, int result, String detail) {
        return new CudaException(call, result, nvrtcResultName(result), detail);
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

    /**
     * {@code CUresult} names as cuda.h spells them, for the codes a user meets (the driver's
     * {@code cuGetErrorName} is asked first; this table serves when it cannot answer).
     */
    public static String cuResultName(int result) {
        return switch (result) {
            case 0 -> "CUDA_SUCCESS";
            case 1 -> "CUDA_ERROR_INVALID_VALUE";
            case 2 -> "CUDA_ERROR_OUT_OF_MEMORY";
            case 3 -> "CUDA_ERROR_NOT_INITIALIZED";
            case 4 -> "CUDA_ERROR_DEINITIALIZED";
            case 34 -> "CUDA_ERROR_STUB_LIBRARY";
            case 35 -> "CUDA_ERROR_INSUFFICIENT_DRIVER";
            case 36 -> "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER";
            case 46 -> "CUDA_ERROR_DEVICE_UNAVAILABLE";
            case 100 -> "CUDA_ERROR_NO_DEVICE";
            case 101 -> "CUDA_ERROR_INVALID_DEVICE";
            case 200 -> "CUDA_ERROR_INVALID_IMAGE";
            case 201 -> "CUDA_ERROR_INVALID_CONTEXT";
            case 209 -> "CUDA_ERROR_NO_BINARY_FOR_GPU";
            case 218 -> "CUDA_ERROR_INVALID_PTX";
            case 221 -> "CUDA_ERROR_JIT_COMPILER_NOT_FOUND";
            case 222 -> "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
            case 400 -> "CUDA_ERROR_INVALID_HANDLE";
            case 500 -> "CUDA_ERROR_NOT_FOUND";
            case 600 -> "CUDA_ERROR_NOT_READY";
            case 700 -> "CUDA_ERROR_ILLEGAL_ADDRESS";
            case 701 -> "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
            case 702 -> "CUDA_ERROR_LAUNCH_TIMEOUT";
            case 716 -> "CUDA_ERROR_MISALIGNED_ADDRESS";
            case 719 -> "CUDA_ERROR_LAUNCH_FAILED";
            case 801 -> "CUDA_ERROR_NOT_SUPPORTED";
            case 803 -> "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
            case 900 -> "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED";
            case 901 -> "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED";
            case 999 -> "CUDA_ERROR_UNKNOWN";
            default -> "CUDA_ERROR_" + result;
        };
    }

    /** {@code nvrtcResult} names as nvrtc.h spells them. */
    public static String nvrtcResultName(int result) {
        return switch (result) {
            case 0 -> "NVRTC_SUCCESS";
            case 1 -> "NVRTC_ERROR_OUT_OF_MEMORY";
            case 2 -> "NVRTC_ERROR_PROGRAM_CREATION_FAILURE";
            case 3 -> "NVRTC_ERROR_INVALID_INPUT";
            case 4 -> "NVRTC_ERROR_INVALID_PROGRAM";
            case 5 -> "NVRTC_ERROR_INVALID_OPTION";
            case 6 -> "NVRTC_ERROR_COMPILATION";
            case 7 -> "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE";
            case 8 -> "NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION";
            case 9 -> "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION";
            case 10 -> "NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID";
            case 11 -> "NVRTC_ERROR_INTERNAL_ERROR";
            case 12 -> "NVRTC_ERROR_TIME_FILE_WRITE_FAILED";
            default -> "NVRTC_ERROR_" + result;
        };
    }
}
