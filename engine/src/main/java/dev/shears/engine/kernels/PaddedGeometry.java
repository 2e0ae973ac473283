package dev.shears.engine.kernels;

/**
 * Where a direct convolution on the padded "wide row" layout reads and writes: the one geometry
 * the dense ({@link DirectConv}) and sparse ({@link SparseConv}) kernels share. Input planes carry a
 * one-pixel zero border ((h + 2) x (w + 2)); at stride 2 they are first split into 4 parity planes
 * of hph rows of pw ({@link ParityPlanes}). Output positions are computed as whole wide rows of
 * {@code width} (border columns included and masked by {@code valid}), n of them, rounded up to
 * {@link #ROUND} where that stays inside the output's borders. Not a kernel: no arithmetic.
 * Pinned by DirectConvTest and SparseConvTest (every stride, padding and odd size against a double convolution).
 *
 * @param oh      output height
 * @param ow      output width
 * @param hph     stride 2: parity plane height
 * @param wph     stride 2: columns of data per parity row
 * @param pw      stride 2: parity row width (>= wph, zero-filled past it), as wide as the padded output's rows
 * @param width   wide row width: the padded input's at stride 1, pw at stride 2
 * @param inPlace the wide rows are the padded output's interior rows as they are
 * @param n       positions computed per output channel
 * @param valid   (n): the wide position holds a real output pixel
 */
record PaddedGeometry(int h, int w, int k, int stride, int pad, int oh, int ow, int hph, int wph, int pw, int width,
                      boolean inPlace, int n, boolean[] valid) {
    /** Positions are computed in multiples of this (one 512-bit vector) where the rounding stays in the borders. */
    static final int ROUND = 16;

    /** Whether the padded layout covers this geometry (the pad-1 border holds padding 0 or 1; taps within 2 * ROUND). */
    static boolean supports(int k, int stride, int pad) {
        return k >= 1 && k <= 2 * ROUND && (stride == 1 || stride == 2) && (pad == 0 || pad == 1);
    }

    static PaddedGeometry of(int h, int w, int k, int stride, int pad) {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        int hp = h + 2, wp = w + 2;
        int hph = (hp + 1) / 2, wph = (wp + 1) / 2, pw = Math.max(wph, ow + 2);
        int width = stride == 1 ? wp : pw;
        boolean inPlace = stride == 1 ? ow == w && oh == h : pw == ow + 2;
        int exact = oh * width, rounded = (exact + ROUND - 1) / ROUND * ROUND;
        // in place, rounding writes zeros past the last row: only into the bottom border and the next plane's top border
        int n = !inPlace || rounded - exact <= ow + 2 ? rounded : exact;
        boolean[] valid = new boolean[n];
        for (int q = 0; q < exact; q++) valid[q] = q % width < ow;
        return new PaddedGeometry(h, w, k, stride, pad, oh, ow, hph, wph, pw, width, inPlace, n, valid);
    }

    /** Float offset of tap (ki, kj) of input channel ci in the padded (stride 1) or parity-split (stride 2) input. */
    int offset(int ci, int ki, int kj) {
        int d = 1 - pad; // the tap's shift in the pad-1 layout
        int y = ki + d, x = kj + d, hp = h + 2, wp = w + 2;
        return stride == 1 ? ci * hp * wp + y * wp + x
                : ci * 4 * hph * pw + ((y & 1) * 2 + (x & 1)) * hph * pw + (y >> 1) * pw + (x >> 1);
    }
}
