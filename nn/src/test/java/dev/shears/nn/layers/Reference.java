package dev.shears.nn.layers;

/**
 * Plain double-precision forward passes of every layer, written independently of the float layers
 * (direct loops, no im2col): the oracle for the forward check and the function the finite
 * differences are taken of. Arrays are flat NCHW.
 */
final class Reference {
    private Reference() {}

    static double[] conv2d(double[] x, double[] w, double[] b, int n, int c, int h, int wd, int oc, int k, int s, int p, int groups) {
        int oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1, cg = c / groups, ocg = oc / groups;
        double[] y = new double[n * oc * oh * ow];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < oc; o++) {
                int g = o / ocg;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = b == null ? 0 : b[o];
                        for (int cl = 0; cl < cg; cl++) {
                            int ci = g * cg + cl;
                            for (int ki = 0; ki < k; ki++)
                                for (int kj = 0; kj < k; kj++) {
                                    int iy = oy * s - p + ki, ix = ox * s - p + kj;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    sum += w[((o * cg + cl) * k + ki) * k + kj] * x[((i * c + ci) * h + iy) * wd + ix];
                                }
                        }
                        y[((i * oc + o) * oh + oy) * ow + ox] = sum;
                    }
            }
        return y;
    }

    /** Training-mode batch norm: biased batch variance. */
    static double[] batchNormTrain(double[] x, double[] gamma, double[] beta, int n, int c, int hw, double eps) {
        double[] y = new double[x.length];
        for (int ch = 0; ch < c; ch++) {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < hw; j++) mean += x[(i * c + ch) * hw + j];
            mean /= n * hw;
            for (int i = 0; i < n; i++) for (int j = 0; j < hw; j++) var += Math.pow(x[(i * c + ch) * hw + j] - mean, 2);
            var /= n * hw;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    int at = (i * c + ch) * hw + j;
                    y[at] = (x[at] - mean) / Math.sqrt(var + eps) * gamma[ch] + beta[ch];
                }
        }
        return y;
    }

    static double[] batchNormEval(double[] x, double[] gamma, double[] beta, double[] rm, double[] rv, int n, int c, int hw, double eps) {
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < hw; j++) {
                    int at = (i * c + ch) * hw + j;
                    y[at] = (x[at] - rm[ch]) / Math.sqrt(rv[ch] + eps) * gamma[ch] + beta[ch];
                }
        return y;
    }

    static double[] linear(double[] x, double[] w, double[] b, int n, int in, int out) {
        double[] y = new double[n * out];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int j = 0; j < in; j++) s += x[i * in + j] * w[o * in + j];
                y[i * out + o] = s;
            }
        return y;
    }

    static double[] relu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.max(0, x[i]);
        return y;
    }

    static double[] maxPool(double[] x, int n, int c, int h, int w, int k, int s, int p) {
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        double[] y = new double[n * c * oh * ow];
        for (int pl = 0; pl < n * c; pl++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int ki = 0; ki < k; ki++)
                        for (int kj = 0; kj < k; kj++) {
                            int iy = oy * s - p + ki, ix = ox * s - p + kj;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) m = Math.max(m, x[(pl * h + iy) * w + ix]);
                        }
                    y[(pl * oh + oy) * ow + ox] = m;
                }
        return y;
    }

    static double[] avgPool(double[] x, int n, int c, int h, int w, int k, int s, int p) {
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        double[] y = new double[n * c * oh * ow];
        for (int pl = 0; pl < n * c; pl++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double m = 0;
                    for (int ki = 0; ki < k; ki++)
                        for (int kj = 0; kj < k; kj++) {
                            int iy = oy * s - p + ki, ix = ox * s - p + kj;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) m += x[(pl * h + iy) * w + ix];
                        }
                    y[(pl * oh + oy) * ow + ox] = m / (k * k);
                }
        return y;
    }

    static double[] globalAvgPool(double[] x, int n, int c, int hw) {
        double[] y = new double[n * c];
        for (int pl = 0; pl < n * c; pl++) {
            double s = 0;
            for (int j = 0; j < hw; j++) s += x[pl * hw + j];
            y[pl] = s / hw;
        }
        return y;
    }

    static double[] zeroPadShortcut(double[] x, int n, int c, int h, int w, int oc, int s) {
        int oh = (h + s - 1) / s, ow = (w + s - 1) / s, front = (oc - c) / 2;
        double[] y = new double[n * oc * oh * ow];
        for (int i = 0; i < n; i++)
            for (int ci = 0; ci < c; ci++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                        y[((i * oc + ci + front) * oh + oy) * ow + ox] = x[((i * c + ci) * h + oy * s) * w + ox * s];
        return y;
    }

    static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /** Mean label-smoothed cross-entropy. */
    static double crossEntropy(double[] z, int[] labels, int k, double eps) {
        double total = 0;
        int n = labels.length;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, z[i * k + j]);
            double s = 0;
            for (int j = 0; j < k; j++) s += Math.exp(z[i * k + j] - max);
            double lse = max + Math.log(s);
            for (int j = 0; j < k; j++) {
                double q = (j == labels[i] ? 1 - eps : 0) + eps / k;
                total -= q * (z[i * k + j] - lse);
            }
        }
        return total / n;
    }
}
