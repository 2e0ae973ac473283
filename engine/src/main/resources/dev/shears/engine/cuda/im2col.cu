// Shears CUDA kernels: im2col and col2im over NCHW, the layout of the engine's Im2colScalar:
// cols[((c*kh + i)*kw + j) * ldCols + image*pixels + oy*ow + ox]. col2im is a gather (one thread per
// input element, adding its window taps in (i, j) order onto what x holds), so it needs no atomics and
// sums in the scalar twin's order: the same bits. Pinned by CudaKernelsGpuTest.

#define FOR_EACH(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
                            i += (long long)gridDim.x * blockDim.x)

// x: images of (C, H, W) at imageStride apart -> cols: (C*kh*kw, ldCols), columns image*pixels + pixel
extern "C" __global__ void im2col(const float* x, long long imageStride, float* cols, long long ldCols, int images, int c,
                                  int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    long long pixels = (long long)oh * ow, rows = (long long)c * kh * kw;
    long long total = rows * images * pixels;
    FOR_EACH(t, total) {
        long long col = t % (images * pixels), row = t / (images * pixels);
        int img = (int)(col / pixels), pix = (int)(col % pixels);
        int oy = pix / ow, ox = pix % ow;
        int j = (int)(row % kw), i = (int)((row / kw) % kh), ch = (int)(row / ((long long)kw * kh));
        int iy = oy * sh - ph + i, ix = ox * sw - pw + j;
        bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
        cols[row * ldCols + col] = inside ? x[img * imageStride + ((long long)ch * h + iy) * w + ix] : 0.f;
    }
}

// cols as above -> x += the sum of every tap that reads each input element
extern "C" __global__ void col2im(const float* cols, long long ldCols, float* x, long long imageStride, int images, int c,
                                  int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    long long pixels = (long long)oh * ow;
    long long total = (long long)images * c * h * w;
    FOR_EACH(t, total) {
        int ix = (int)(t % w), iy = (int)((t / w) % h), ch = (int)((t / ((long long)w * h)) % c);
        int img = (int)(t / ((long long)w * h * c));
        long long xi = img * imageStride + ((long long)ch * h + iy) * w + ix;
        float acc = x[xi];
        for (int i = 0; i < kh; i++) {
            int ny = iy + ph - i;
            if (ny < 0 || ny % sh != 0 || ny / sh >= oh) continue;
            int oy = ny / sh;
            for (int j = 0; j < kw; j++) {
                int nx = ix + pw - j;
                if (nx < 0 || nx % sw != 0 || nx / sw >= ow) continue;
                int ox = nx / sw;
                long long row = ((long long)ch * kh + i) * kw + j;
                acc = acc + cols[row * ldCols + img * pixels + (long long)oy * ow + ox];
            }
        }
        x[xi] = acc;
    }
}
