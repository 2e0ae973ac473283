/*
 * A stand-in for libcudart + libcublas, for tests on machines without a GPU: the same C symbols
 * and signatures (from cuda_runtime_api.h and cublas_api.h), "device" memory in host malloc,
 * and a plain column-major GEMM. It checks what the real libraries check (leading dimensions,
 * pitches, pointers inside allocations) and returns their error codes, so the binding, the
 * row-major mapping, the buffer cache and the error paths run for real. Not a CUDA emulator.
 * Built by CudaFakeLibrary (a test helper); -DFAKE_NO_DEVICE builds a runtime that sees no device,
 * -DFAKE_NEEDS_LT one that depends on libcublasLt.so.13.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ALLOCS 4096
static struct { char *p; size_t n; } allocs[MAX_ALLOCS];
static int mallocs, frees;
static long long bytes_up, bytes_down;

#ifdef FAKE_NEEDS_LT
extern int fake_lt_present(void);
#endif

/* ---- error names ---- */
const char *cudaGetErrorName(int e) {
    switch (e) {
        case 0: return "cudaSuccess";
        case 1: return "cudaErrorInvalidValue";
        case 2: return "cudaErrorMemoryAllocation";
        case 100: return "cudaErrorNoDevice";
        case 101: return "cudaErrorInvalidDevice";
        default: return "cudaErrorUnknown";
    }
}

const char *cudaGetErrorString(int e) {
    switch (e) {
        case 0: return "no error";
        case 1: return "invalid argument";
        case 2: return "out of memory";
        case 100: return "no CUDA-capable device is detected";
        case 101: return "invalid device ordinal";
        default: return "unknown error";
    }
}

/* ---- device ---- */
int cudaGetDeviceCount(int *n) {
#ifdef FAKE_NO_DEVICE
    *n = 0;
    return 100;
#else
    *n = 1;
    return 0;
#endif
}

int cudaSetDevice(int d) { return d == 0 ? 0 : 101; }
int cudaDeviceSynchronize(void) { return 0; }
int cudaRuntimeGetVersion(int *v) { *v = 13000; return 0; }
int cudaDriverGetVersion(int *v) { *v = 13000; return 0; }

int cudaGetDeviceProperties(void *prop, int d) {
    if (d != 0) return 101;
    memset(prop, 0, 1008);
    strcpy((char *) prop, "Fake CUDA Device");
    return 0;
}

int cudaDeviceGetAttribute(int *v, int attr, int d) {
    if (d != 0) return 101;
    *v = attr == 75 ? 9 : attr == 76 ? 0 : 0;
    return 0;
}

int cudaMemGetInfo(size_t *free_bytes, size_t *total) {
    *free_bytes = (size_t) 1 << 30;
    *total = (size_t) 1 << 30;
    return 0;
}

/* ---- memory ---- */
int cudaMalloc(void **p, size_t n) {
    if (n > ((size_t) 1 << 36)) return 2;
    for (int i = 0; i < MAX_ALLOCS; i++) {
        if (allocs[i].p == NULL) {
            allocs[i].p = malloc(n ? n : 1);
            if (!allocs[i].p) return 2;
            memset(allocs[i].p, 0xFF, n); /* NaN-filled, like memory nobody wrote */
            allocs[i].n = n;
            *p = allocs[i].p;
            mallocs++;
            return 0;
        }
    }
    return 2;
}

int cudaFree(void *p) {
    if (p == NULL) return 0;
    for (int i = 0; i < MAX_ALLOCS; i++) {
        if (allocs[i].p == p) {
            free(allocs[i].p);
            allocs[i].p = NULL;
            frees++;
            return 0;
        }
    }
    return 1;
}

/* 1 when [p, p + n) lies inside one device allocation. */
static int on_device(const void *p, size_t n) {
    const char *c = p;
    for (int i = 0; i < MAX_ALLOCS; i++) {
        if (allocs[i].p && c >= allocs[i].p && c + n <= allocs[i].p + allocs[i].n) return 1;
    }
    return 0;
}

int cudaMemcpy(void *dst, const void *src, size_t n, int kind) {
    if (kind == 1) {
        if (!on_device(dst, n)) return 1;
        bytes_up += n;
    } else if (kind == 2) {
        if (!on_device(src, n)) return 1;
        bytes_down += n;
    } else {
        return 1;
    }
    memcpy(dst, src, n);
    return 0;
}

int cudaMemcpy2D(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width, size_t height, int kind) {
    if (width > dpitch || width > spitch) return 1;
    if (height == 0) return 0;
    size_t dspan = dpitch * (height - 1) + width, sspan = spitch * (height - 1) + width;
    if (kind == 1) {
        if (!on_device(dst, dspan)) return 1;
        bytes_up += width * height;
    } else if (kind == 2) {
        if (!on_device(src, sspan)) return 1;
        bytes_down += width * height;
    } else {
        return 1;
    }
    for (size_t r = 0; r < height; r++) memcpy((char *) dst + r * dpitch, (const char *) src + r * spitch, width);
    return 0;
}

/* Counters the tests read: device mallocs, frees, bytes up and down. */
long long fakecuda_stat(int which) {
    switch (which) {
        case 0: return mallocs;
        case 1: return frees;
        case 2: return bytes_up;
        case 3: return bytes_down;
        default: return -1;
    }
}

/* ---- cuBLAS ---- */
struct handle { int math; };
static int handles;

int cublasCreate_v2(struct handle **h) {
#ifdef FAKE_NEEDS_LT
    if (!fake_lt_present()) return 1;
#endif
    *h = calloc(1, sizeof(struct handle));
    handles++;
    return 0;
}

int cublasDestroy_v2(struct handle *h) {
    if (h == NULL) return 1;
    free(h);
    handles--;
    return 0;
}

int cublasSetMathMode(struct handle *h, int mode) {
    if (h == NULL) return 1;
    if (mode != 0 && mode != 1 && mode != 2 && mode != 3) return 7;
    h->math = mode;
    return 0;
}

int cublasGetProperty(int type, int *v) {
    if (type < 0 || type > 2) return 7;
    *v = type == 0 ? 13 : type == 1 ? 0 : 7;
    return 0;
}

static float tf32(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    b = (b + 0x1000u) & ~0x1FFFu; /* keep 10 mantissa bits, round half away from zero */
    memcpy(&x, &b, 4);
    return x;
}

/* Column-major C(m,n) = alpha op(A)(m,k) op(B)(k,n) + beta C, checked as cuBLAS checks it. */
static int gemm(struct handle *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *A, int lda,
                const float *B, int ldb, const float *beta, float *C, int ldc, int round_tf32) {
    if (h == NULL) return 1;
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1) || m < 0 || n < 0 || k < 0) return 7;
    int arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
    if (lda < (arows > 1 ? arows : 1) || ldb < (brows > 1 ? brows : 1) || ldc < (m > 1 ? m : 1)) return 7;
    if (m == 0 || n == 0) return 0;
    if (k > 0 && (!on_device(A, ((size_t) lda * (acols - 1) + arows) * 4) || !on_device(B, ((size_t) ldb * (bcols - 1) + brows) * 4))) return 13;
    if (!on_device(C, ((size_t) ldc * (n - 1) + m) * 4)) return 13;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int l = 0; l < k; l++) {
                float a = ta ? A[l + (size_t) i * lda] : A[i + (size_t) l * lda];
                float b = tb ? B[j + (size_t) l * ldb] : B[l + (size_t) j * ldb];
                if (round_tf32) {
                    a = tf32(a);
                    b = tf32(b);
                }
                s += (double) a * b;
            }
            float *c = &C[i + (size_t) j * ldc];
            *c = (float) (*alpha * s + (*beta == 0 ? 0 : *beta * *c));
        }
    }
    return 0;
}

int cublasSgemm_v2(struct handle *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *A, int lda,
                   const float *B, int ldb, const float *beta, float *C, int ldc) {
    return gemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, h != NULL && h->math == 3);
}

int cublasGemmEx(struct handle *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *A, int atype, int lda,
                 const void *B, int btype, int ldb, const void *beta, void *C, int ctype, int ldc, int compute, int algo) {
    if (atype != 0 || btype != 0 || ctype != 0) return 15;
    if (compute != 68 && compute != 77) return 7;
    if (algo != -1) return 7;
    return gemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, compute == 77);
}
