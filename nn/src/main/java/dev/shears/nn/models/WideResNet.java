package dev.shears.nn.models;

import dev.shears.nn.layers.BatchNorm2d;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Dropout;
import dev.shears.nn.layers.GlobalAvgPool;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.Params;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;

/**
 * Wide ResNet WRN-D-K (Zagoruyko and Komodakis; the paper's code): conv3x3 (16), three groups of
 * n = (D-4)/6 pre-activation blocks of widths 16K, 32K, 64K (strides 1, 2, 2), BN-ReLU, global
 * average pool, linear. Block: BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3; when in != out channels
 * the pre-activation is shared and a 1x1 conv is the shortcut. Init as the code: convs
 * N(0, 2/(k*k*out)), linear bias 0. Names: conv1, block{g}.layer.{i}.bn1/conv1/bn2/conv2/convShortcut, bn1, fc.
 */
final class WideResNet {
    private WideResNet() {}

    static Layer build(Params p, ModelConfig cfg, int depth, int widen, double dropout) {
        int n = (depth - 4) / 6;
        var b = new Sequential.Builder("wrn-" + depth + "-" + widen, new int[] {cfg.channels(), cfg.height(), cfg.width()});
        b.add(s -> new Conv2d(p, "conv1", s, 16, 3, 1, 1, 1, false));
        int[] widths = {16 * widen, 32 * widen, 64 * widen};
        for (int g = 0; g < 3; g++) {
            for (int i = 0; i < n; i++) {
                int stride = g > 0 && i == 0 ? 2 : 1;
                String name = "block" + (g + 1) + ".layer." + i;
                int out = widths[g];
                long seed = cfg.seed() * 1_000_003L + g * 1_000L + i;
                b.add(s -> block(p, name, s, out, stride, dropout, seed));
            }
        }
        b.add(s -> new BatchNorm2d(p, "bn1", s));
        b.add(s -> new ReLU("relu", s));
        b.add(s -> new GlobalAvgPool("avgpool", s));
        Linear fc = new Linear(p, "fc", widths[2], cfg.classes(), true);
        Params.constant(fc.bias().value(), 0f);
        b.add(fc);
        return b.build();
    }

    private static Layer block(Params p, String name, int[] in, int out, int stride, double dropout, long seed) {
        boolean equal = in[0] == out;
        var pre = new Sequential.Builder(name, in);
        pre.add(s -> new BatchNorm2d(p, name + ".bn1", s));
        pre.add(s -> new ReLU(name + ".relu1", s));
        var main = new Sequential.Builder(name + ".main", in);
        if (equal) {
            main.add(pre.build());
        }
        main.add(s -> new Conv2d(p, name + ".conv1", s, out, 3, stride, 1, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn2", s));
        main.add(s -> new ReLU(name + ".relu2", s));
        if (dropout > 0) main.add(s -> new Dropout(name + ".dropout", s, dropout, seed));
        main.add(s -> new Conv2d(p, name + ".conv2", s, out, 3, 1, 1, 1, false));
        if (equal) return new Residual(name + ".add", main.build(), null);
        Layer shortcut = new Conv2d(p, name + ".convShortcut", in, out, 1, stride, 0, 1, false);
        pre.add(new Residual(name + ".add", main.build(), shortcut));
        return pre.build();
    }
}
