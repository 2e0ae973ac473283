package dev.shears.nn.layers;

import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;

/** Shape checks with errors that name the layer; package-private helpers shared by the layers. */
final class Shapes {
    private Shapes() {}

    /** Checks x is (N, perSample...) and returns N. */
    static int batchOf(String layer, Tensor x, int[] perSample) {
        int[] s = x.shape();
        boolean ok = s.length == perSample.length + 1 && s[0] > 0;
        for (int i = 0; ok && i < perSample.length; i++) ok = s[i + 1] == perSample[i];
        if (!ok) {
            StringBuilder want = new StringBuilder("(N");
            for (int d : perSample) want.append(", ").append(d);
            throw new IllegalArgumentException("layer '" + layer + "' expects " + want + ") but got " + Shape.str(s));
        }
        return s[0];
    }

    /** Checks the batch matches the allocated one. */
    static void requireBatch(String layer, int n, int allocated) {
        if (n != allocated) {
            throw new IllegalStateException("layer '" + layer + "' was allocated for batch " + allocated + " but got batch " + n);
        }
    }

    static int[] prepend(int n, int[] perSample) {
        int[] s = new int[perSample.length + 1];
        s[0] = n;
        System.arraycopy(perSample, 0, s, 1, perSample.length);
        return s;
    }

    static int outSize(String layer, int in, int kernel, int stride, int padding) {
        int out = (in + 2 * padding - kernel) / stride + 1;
        if (in + 2 * padding < kernel || out < 1) {
            throw new IllegalArgumentException("layer '" + layer + "': input size " + in + " with padding " + padding
                    + " is smaller than the kernel " + kernel);
        }
        return out;
    }
}
