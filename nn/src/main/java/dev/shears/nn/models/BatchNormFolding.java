package dev.shears.nn.models;

import dev.shears.nn.layers.BatchNorm2d;

/**
 * Folds an eval-mode batch norm (running statistics) into the convolution before it: per output
 * channel o, scale = gamma / sqrt(var + eps), w' = w * scale, b' = beta + (b - mean) * scale, in
 * double. The one copy of this arithmetic: the fused inference path and the ONNX export
 * (--fold-bn) both call it. Not a layer. Pinned by SparseInferenceTest and OnnxExportTest.
 */
public final class BatchNormFolding {
    private BatchNormFolding() {}

    /**
     * Scales {@code weight} (outChannels rows of weight.length / outChannels values, row-major)
     * in place and returns the folded bias (outChannels); {@code bias} is the convolution's own
     * bias or null for none.
     */
    public static float[] fold(float[] weight, float[] bias, BatchNorm2d bn) {
        float[] g = bn.weight().value().toFloatArray(), be = bn.bias().value().toFloatArray();
        float[] mu = bn.runningMean().toFloatArray(), var = bn.runningVar().toFloatArray();
        int oc = g.length;
        if (weight.length % oc != 0 || (bias != null && bias.length != oc)) {
            throw new IllegalArgumentException("batch norm '" + bn.name() + "' has " + oc + " channels but the weight before it has "
                    + weight.length + " values" + (bias == null ? "" : " and " + bias.length + " biases"));
        }
        int cols = weight.length / oc;
        float[] folded = new float[oc];
        for (int o = 0; o < oc; o++) {
            double scale = g[o] / Math.sqrt(var[o] + bn.eps());
            for (int j = 0; j < cols; j++) weight[o * cols + j] = (float) (weight[o * cols + j] * scale);
            folded[o] = (float) (be[o] + ((bias == null ? 0 : bias[o]) - mu[o]) * scale);
        }
        return folded;
    }
}
