/*
 * A stand-in for the CUDA driver (libcuda.so.1), for tests on machines without a GPU: the symbols and
 * signatures CudaDriver binds (from cuda.h), "device" memory in host malloc, copies as memcpy, one
 * device named "Fake GPU" (sm_90). Modules and launches are accepted and do nothing: kernels are
 * checked on a real GPU. It returns the driver's error codes where the real one would, so the binding,
 * the device layer and the error mapping run for real. Not a CUDA emulator.
 * -DFAKE_NO_DEVICE: cuInit fails with CUDA_ERROR_NO_DEVICE. -DFAKE_CAPACITY=N: cuMemAlloc fails with
 * CUDA_ERROR_OUT_OF_MEMORY beyond N bytes in use. -DFAKE_EMULATE: linked with our kernels compiled for
 * the host (HostKernels), modules hand out those kernels and launches run them on the CPU.
 * Built by FakeDriver and HostKernels (test helpers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_CAPACITY
#define FAKE_CAPACITY (1LL << 32)
#endif
#define MAX_ALLOCS 4096
static struct { char *p; size_t n; } allocs[MAX_ALLOCS];
static long long in_use, mallocs, frees, launches;
static int initialised;

int cuGetErrorName(int e, const char **s) {
    switch (e) {
        case 0: *s = "CUDA_SUCCESS"; return 0;
        case 1: *s = "CUDA_ERROR_INVALID_VALUE"; return 0;
        case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
        case 3: *s = "CUDA_ERROR_NOT_INITIALIZED"; return 0;
        case 100: *s = "CUDA_ERROR_NO_DEVICE"; return 0;
        case 101: *s = "CUDA_ERROR_INVALID_DEVICE"; return 0;
        case 218: *s = "CUDA_ERROR_INVALID_PTX"; return 0;
        default: *s = 0; return 1;
    }
}

int cuGetErrorString(int e, const char **s) {
    switch (e) {
        case 2: *s = "out of memory"; return 0;
        case 100: *s = "no CUDA-capable device is detected"; return 0;
        case 101: *s = "invalid device ordinal"; return 0;
        default: *s = 0; return 1;
    }
}

int cuInit(unsigned flags) {
#ifdef FAKE_NO_DEVICE
    return 100;
#else
    if (flags != 0) return 1;
    initialised = 1;
    return 0;
#endif
}

#define NEED_INIT if (!initialised) return 3
int cuDriverGetVersion(int *v) { *v = 13000; return 0; }
int cuDeviceGetCount(int *n) { NEED_INIT; *n = 1; return 0; }
int cuDeviceGet(int *d, int ordinal) { NEED_INIT; if (ordinal != 0) return 101; *d = 0; return 0; }
int cuDeviceGetName(char *s, int len, int d) { if (d != 0) return 101; strncpy(s, "Fake GPU", len); return 0; }
int cuDeviceGetAttribute(int *v, int attr, int d) {
    if (d != 0) return 101;
    *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 132 : 0;
    return 0;
}
int cuDeviceTotalMem_v2(size_t *b, int d) { if (d != 0) return 101; *b = (size_t) FAKE_CAPACITY; return 0; }
static int context_token;
int cuDevicePrimaryCtxRetain(void **ctx, int d) { NEED_INIT; if (d != 0) return 101; *ctx = &context_token; return 0; }
int cuCtxSetCurrent(void *ctx) { return ctx == &context_token ? 0 : 201; }
int cuCtxSynchronize(void) { return 0; }
int cuModuleLoadData(void **m, const void *image) { if (!image) return 1; *m = (void *) 0x1000; return 0; }
/* Options 5/6 (CU_JIT_ERROR_LOG_BUFFER and its size): an image starting with "bad" fails with CUDA_ERROR_INVALID_PTX and a log. */
int cuModuleLoadDataEx(void **m, const void *image, unsigned n, int *options, void **values) {
    char *log = 0;
    size_t size = 0;
    for (unsigned i = 0; i < n; i++) {
        if (options[i] == 5) log = (char *) values[i];
        if (options[i] == 6) size = (size_t) (uintptr_t) values[i];
    }
    if (image && strncmp((const char *) image, "bad", 3) == 0) {
        if (log && size > 0) { strncpy(log, "ptxas fatal: fake: bad PTX at line 1", size - 1); log[size - 1] = 0; }
        return 218;
    }
    return cuModuleLoadData(m, image);
}
#ifdef FAKE_EMULATE
extern void *hostcuda_kernel(const char *name);
extern void hostcuda_run(void *kernel, unsigned grid, unsigned block, void **params);
int cuModuleGetFunction(void **f, void *m, const char *name) { *f = name ? hostcuda_kernel(name) : 0; return *f ? 0 : 500; }
#else
int cuModuleGetFunction(void **f, void *m, const char *name) { if (!name || !*name) return 500; *f = (void *) 0x2000; return 0; }
#endif
int cuModuleUnload(void *m) { return 0; }
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared,
                   void *stream, void **params, void **extra) {
    if (gx == 0 || bx == 0 || bx > 1024 || gy != 1 || gz != 1 || by != 1 || bz != 1) return 1;
    launches++;
#ifdef FAKE_EMULATE
    hostcuda_run(f, gx, bx, params);
#endif
    return 0;
}

int cuMemAlloc_v2(uint64_t *p, size_t n) {
    NEED_INIT;
    if (in_use + (long long) n > FAKE_CAPACITY) return 2;
    for (int i = 0; i < MAX_ALLOCS; i++) {
        if (!allocs[i].p) {
            allocs[i].p = malloc(n ? n : 1);
            allocs[i].n = n;
            in_use += n;
            mallocs++;
            *p = (uint64_t) (uintptr_t) allocs[i].p;
            return 0;
        }
    }
    return 2;
}
int cuMemFree_v2(uint64_t p) {
    for (int i = 0; i < MAX_ALLOCS; i++) {
        if (allocs[i].p && (uint64_t) (uintptr_t) allocs[i].p == p) {
            free(allocs[i].p);
            in_use -= allocs[i].n;
            allocs[i].p = 0;
            frees++;
            return 0;
        }
    }
    return 1;
}
/* 1 when [p, p+n) lies inside one allocation */
static int inside(uint64_t p, size_t n) {
    for (int i = 0; i < MAX_ALLOCS; i++) {
        uint64_t a = (uint64_t) (uintptr_t) allocs[i].p;
        if (allocs[i].p && p >= a && p + n <= a + allocs[i].n) return 1;
    }
    return 0;
}
int cuMemAllocHost_v2(void **p, size_t n) { *p = malloc(n ? n : 1); return *p ? 0 : 2; }
int cuMemFreeHost(void *p) { free(p); return 0; }
int cuMemcpyHtoDAsync_v2(uint64_t d, const void *h, size_t n, void *s) { if (!inside(d, n)) return 1; memcpy((void *) (uintptr_t) d, h, n); return 0; }
int cuMemcpyDtoHAsync_v2(void *h, uint64_t d, size_t n, void *s) { if (!inside(d, n)) return 1; memcpy(h, (void *) (uintptr_t) d, n); return 0; }
int cuMemcpyDtoDAsync_v2(uint64_t d, uint64_t src, size_t n, void *s) {
    if (!inside(d, n) || !inside(src, n)) return 1;
    memmove((void *) (uintptr_t) d, (void *) (uintptr_t) src, n);
    return 0;
}
int cuMemsetD32Async(uint64_t d, unsigned v, size_t n, void *s) {
    if (!inside(d, n * 4)) return 1;
    uint32_t *p = (uint32_t *) (uintptr_t) d;
    for (size_t i = 0; i < n; i++) p[i] = v;
    return 0;
}
int cuMemGetInfo_v2(size_t *f, size_t *t) { *t = (size_t) FAKE_CAPACITY; *f = (size_t) (FAKE_CAPACITY - in_use); return 0; }
static int stream_token, event_token;
int cuStreamCreate(void **s, unsigned flags) { *s = &stream_token; return 0; }
int cuStreamSynchronize(void *s) { return 0; }
int cuStreamDestroy_v2(void *s) { return 0; }
int cuEventCreate(void **e, unsigned flags) { *e = &event_token; return 0; }
int cuEventRecord(void *e, void *s) { return 0; }
int cuEventSynchronize(void *e) { return 0; }
int cuEventElapsedTime_v2(float *ms, void *a, void *b) { *ms = 0.5f; return 0; }
int cuEventDestroy_v2(void *e) { return 0; }

/* the fake's counters: 0 device mallocs, 1 frees, 2 bytes in use, 3 launches */
long long fakedriver_stat(int which) {
    return which == 0 ? mallocs : which == 1 ? frees : which == 2 ? in_use : launches;
}
