package dev.shears.nn.rnn;

import java.util.Map;

/**
 * The two cells and the classifier head written plainly in double precision, straight from the
 * equations (no shared code with the layers): the reference of the gradient checks. Parameters
 * by their state_dict names, row-major as the layers store them; x (N, T, F) row-major.
 */
final class RnnReference {
    private RnnReference() {}

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** (rows, cols) = a (rows, k) b (k, cols). */
    static double[] matmul(double[] a, double[] b, int rows, int k, int cols) {
        double[] c = new double[rows * cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * cols + j];
            c[i * cols + j] = s;
        }
        return c;
    }

    /** FastGRNN h_T (N, H); W or W2 W1, U or U2 U1. */
    static double[] fastgrnn(double[] x, Map<String, double[]> p, int n, int t, int f, int h, int rankW, int rankU) {
        double[] w = rankW == 0 ? p.get("rnn.W") : matmul(p.get("rnn.W2"), p.get("rnn.W1"), h, rankW, f);
        double[] u = rankU == 0 ? p.get("rnn.U") : matmul(p.get("rnn.U2"), p.get("rnn.U1"), h, rankU, h);
        double[] bz = p.get("rnn.bias_gate"), bh = p.get("rnn.bias_update");
        double zeta = sigmoid(p.get("rnn.zeta")[0]), nu = sigmoid(p.get("rnn.nu")[0]);
        double[] out = new double[n * h];
        for (int s = 0; s < n; s++) {
            double[] hs = new double[h];
            for (int step = 0; step < t; step++) {
                double[] next = new double[h];
                for (int j = 0; j < h; j++) {
                    double pre = 0;
                    for (int q = 0; q < f; q++) pre += w[j * f + q] * x[(s * t + step) * f + q];
                    for (int q = 0; q < h; q++) pre += u[j * h + q] * hs[q];
                    double z = sigmoid(pre + bz[j]), c = Math.tanh(pre + bh[j]);
                    next[j] = z * hs[j] + (zeta * (1 - z) + nu) * c;
                }
                hs = next;
            }
            System.arraycopy(hs, 0, out, s * h, h);
        }
        return out;
    }

    /** GRU h_T (N, H), PyTorch's equations. */
    static double[] gru(double[] x, Map<String, double[]> p, int n, int t, int f, int h) {
        double[] wih = p.get("rnn.weight_ih_l0"), whh = p.get("rnn.weight_hh_l0"), bih = p.get("rnn.bias_ih_l0"), bhh = p.get("rnn.bias_hh_l0");
        double[] out = new double[n * h];
        for (int s = 0; s < n; s++) {
            double[] hs = new double[h];
            for (int step = 0; step < t; step++) {
                double[] gi = new double[3 * h], gh = new double[3 * h];
                for (int g = 0; g < 3 * h; g++) {
                    double a = bih[g], b = bhh[g];
                    for (int q = 0; q < f; q++) a += wih[g * f + q] * x[(s * t + step) * f + q];
                    for (int q = 0; q < h; q++) b += whh[g * h + q] * hs[q];
                    gi[g] = a;
                    gh[g] = b;
                }
                double[] next = new double[h];
                for (int j = 0; j < h; j++) {
                    double r = sigmoid(gi[j] + gh[j]), z = sigmoid(gi[h + j] + gh[h + j]);
                    double nn = Math.tanh(gi[2 * h + j] + r * gh[2 * h + j]);
                    next[j] = (1 - z) * nn + z * hs[j];
                }
                hs = next;
            }
            System.arraycopy(hs, 0, out, s * h, h);
        }
        return out;
    }

    /** logits (N, classes) = hT fc.weight^T + fc.bias. */
    static double[] head(double[] hT, Map<String, double[]> p, int n, int h, int classes) {
        double[] w = p.get("fc.weight"), b = p.get("fc.bias");
        double[] out = new double[n * classes];
        for (int s = 0; s < n; s++) for (int k = 0; k < classes; k++) {
            double v = b[k];
            for (int j = 0; j < h; j++) v += w[k * h + j] * hT[s * h + j];
            out[s * classes + k] = v;
        }
        return out;
    }
}
