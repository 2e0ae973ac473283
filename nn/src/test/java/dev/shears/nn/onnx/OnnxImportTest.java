package dev.shears.nn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.DType;
import dev.shears.engine.Tensor;
import dev.shears.nn.graph.GraphSpec;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.onnx.OnnxProto.AttributeProto;
import dev.shears.nn.onnx.OnnxProto.Dimension;
import dev.shears.nn.onnx.OnnxProto.GraphProto;
import dev.shears.nn.onnx.OnnxProto.ModelProto;
import dev.shears.nn.onnx.OnnxProto.NodeProto;
import dev.shears.nn.onnx.OnnxProto.OperatorSetIdProto;
import dev.shears.nn.onnx.OnnxProto.TensorProto;
import dev.shears.nn.onnx.OnnxProto.ValueInfoProto;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Importer paths the PyTorch fixtures do not take, on hand-made graphs checked against a plain
 * computation: SAME_UPPER padding (an explicit pad before an unpadded convolution), Gemm with
 * transB 0 and alpha/beta, MatMul without a bias, a global pool flattened by Reshape, Dropout and
 * Identity as no-ops, a Constant node as the Mul factor.
 */
class OnnxImportTest {
    private static final int C = 2, H = 4, W = 4, OC = 3, K = 2, FEATURES = 5, CLASSES = 4;

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    private static NodeProto node(String name, String op, List<String> in, AttributeProto... attrs) {
        return new NodeProto(name, op, in, List.of(name + "_out"), List.of(attrs));
    }

    @Test
    void handMadeGraphMatchesAPlainComputation() {
        SplittableRandom r = new SplittableRandom(3);
        float[] w = random(r, OC * C * K * K), gemmB = random(r, OC * FEATURES), gemmC = random(r, FEATURES), mm = random(r, FEATURES * CLASSES);
        List<TensorProto> inits = List.of(
                TensorProto.ofFloats("conv.weight", new long[] {OC, C, K, K}, w),
                TensorProto.ofFloatData("B", new long[] {OC, FEATURES}, gemmB),       // (in, out): transB 0
                TensorProto.ofFloats("C", new long[] {FEATURES}, gemmC),
                TensorProto.ofFloats("M", new long[] {FEATURES, CLASSES}, mm),
                TensorProto.ofLongs("shape", new long[] {2}, new long[] {0, -1}),
                TensorProto.ofFloats("ratio", new long[0], new float[] {0.25f}));
        List<NodeProto> nodes = new ArrayList<>();
        nodes.add(node("conv", "Conv", List.of("x", "conv.weight"), AttributeProto.ofString("auto_pad", "SAME_UPPER"), AttributeProto.ofInts("kernel_shape", K, K)));
        nodes.add(node("relu", "Relu", List.of("conv_out")));
        nodes.add(node("half", "Constant", List.of(), AttributeProto.ofTensor("value", TensorProto.ofFloats("v", new long[0], new float[] {0.5f}))));
        nodes.add(node("mul", "Mul", List.of("half_out", "relu_out")));
        nodes.add(node("gap", "GlobalAveragePool", List.of("mul_out")));
        nodes.add(node("reshape", "Reshape", List.of("gap_out", "shape")));
        nodes.add(node("drop", "Dropout", List.of("reshape_out", "ratio")));
        nodes.add(node("gemm", "Gemm", List.of("drop_out", "B", "C"), AttributeProto.ofFloat("alpha", 2f), AttributeProto.ofFloat("beta", 0.5f)));
        nodes.add(node("id", "Identity", List.of("gemm_out")));
        nodes.add(new NodeProto("mm", "MatMul", List.of("id_out", "M"), List.of("logits"), List.of()));
        GraphProto g = new GraphProto("g", nodes, inits, List.of(ValueInfoProto.floatTensor("x", Dimension.param("N"), Dimension.of(C), Dimension.of(H), Dimension.of(W))),
                List.of(ValueInfoProto.floatTensor("logits", Dimension.param("N"), Dimension.of(CLASSES))), List.of(), "");
        ModelProto m = new ModelProto(8, List.of(new OperatorSetIdProto("", 13)), "test", "", "", 0, "", g);
        float[] x = random(r, 2 * C * H * W);
        try (Network net = OnnxImport.fromModel(m, "hand.onnx"); Tensor t = Tensor.allocate(DType.F32, 2, C, H, W)) {
            GraphSpec spec = GraphSpec.fromJson(net.spec().get(ModelZoo.GRAPH), "spec");
            assertEquals(List.of("pad", "conv", "relu", "scale", "globalavgpool", "dropout", "linear", "linear"), spec.nodes().stream().map(GraphSpec.Node::op).toList(),
                    "SAME_UPPER as a pad; Reshape after the pool and Identity vanish");
            t.copyFrom(x);
            float[] got = net.forward(t, false).toFloatArray();
            float[] want = reference(x, w, gemmB, gemmC, mm);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5 + 1e-4 * Math.abs(want[i]), "logit " + i);
        }
    }

    /** SAME_UPPER with kernel 2, stride 1: one zero row below and one column right; relu, x0.5, mean, 2 x B^T + 0.5 C, then M. */
    private static float[] reference(float[] x, float[] w, float[] b, float[] c, float[] mm) {
        float[] out = new float[2 * CLASSES];
        for (int n = 0; n < 2; n++) {
            double[] pooled = new double[OC];
            for (int o = 0; o < OC; o++) {
                for (int i = 0; i < H; i++) {
                    for (int j = 0; j < W; j++) {
                        double s = 0;
                        for (int ci = 0; ci < C; ci++) {
                            for (int ki = 0; ki < K; ki++) {
                                for (int kj = 0; kj < K; kj++) {
                                    int yi = i + ki, xj = j + kj;
                                    if (yi < H && xj < W) s += w[((o * C + ci) * K + ki) * K + kj] * x[((n * C + ci) * H + yi) * W + xj];
                                }
                            }
                        }
                        pooled[o] += 0.5 * Math.max(0, s) / (H * W);
                    }
                }
            }
            double[] hidden = new double[FEATURES];
            for (int f = 0; f < FEATURES; f++) {
                hidden[f] = 0.5 * c[f];
                for (int o = 0; o < OC; o++) hidden[f] += 2 * pooled[o] * b[o * FEATURES + f];
            }
            for (int k = 0; k < CLASSES; k++) {
                double s = 0;
                for (int f = 0; f < FEATURES; f++) s += hidden[f] * mm[f * CLASSES + k];
                out[n * CLASSES + k] = (float) s;
            }
        }
        return out;
    }

    @Test
    void addOfAConstantOutsideAMatMulIsNamed() {
        List<NodeProto> nodes = List.of(node("add", "Add", List.of("x", "bias")));
        GraphProto g = new GraphProto("g", nodes, List.of(TensorProto.ofFloats("bias", new long[] {1}, new float[] {1f})),
                List.of(ValueInfoProto.floatTensor("x", Dimension.of(1), Dimension.of(C), Dimension.of(H), Dimension.of(W))),
                List.of(ValueInfoProto.floatTensor("add_out")), List.of(), "");
        ModelProto m = new ModelProto(8, List.of(new OperatorSetIdProto("", 17)), "test", "", "", 0, "", g);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.fromModel(m, "bias.onnx"));
        assertTrue(e.getMessage().startsWith("bias.onnx: node 'add' (Add): adds the constant 'bias'"), e.getMessage());
    }
}
