package dev.shears.nn.models;

import dev.shears.nn.layers.BatchNorm2d;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.GlobalAvgPool;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.Params;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;

/**
 * MobileNet-V1 (STR's definition, the paper's copy: Linear fc without bias; width multiplier
 * alpha, channels max(8, int(c*alpha))) and the kuangliu CIFAR MobileNet-V2 of the paper's
 * layer-collapse study (stride 1 in conv1 and the second stage, 1x1 conv + BN shortcut where
 * stride is 1 and channels change). The final average pools are global pools. Names as the
 * PyTorch modules: model.{i}.{j} and fc for V1; conv1, layers.{i}.conv1..3/shortcut.0/.1,
 * conv2, bn2, linear for V2.
 */
final class MobileNets {
    private MobileNets() {}

    static Layer v1(Params p, ModelConfig cfg, double alpha) {
        int[][] blocks = { // out channels, stride
            {64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
            {512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
        var b = new Sequential.Builder("mobilenet-v1", new int[] {cfg.channels(), cfg.height(), cfg.width()});
        int first = scaled(32, alpha);
        b.add(s -> new Conv2d(p, "model.0.0", s, first, 3, 2, 1, 1, false));
        b.add(s -> new BatchNorm2d(p, "model.0.1", s));
        b.add(s -> new ReLU("model.0.2", s));
        for (int i = 0; i < blocks.length; i++) {
            String m = "model." + (i + 1);
            int out = scaled(blocks[i][0], alpha), stride = blocks[i][1];
            b.add(s -> new Conv2d(p, m + ".0", s, s[0], 3, stride, 1, s[0], false));
            b.add(s -> new BatchNorm2d(p, m + ".1", s));
            b.add(s -> new ReLU(m + ".2", s));
            b.add(s -> new Conv2d(p, m + ".3", s, out, 1, 1, 0, 1, false));
            b.add(s -> new BatchNorm2d(p, m + ".4", s));
            b.add(s -> new ReLU(m + ".5", s));
        }
        b.add(s -> new GlobalAvgPool("model.14", s));
        b.add(s -> new Linear(p, "fc", s[0], cfg.classes(), false));
        return b.build();
    }

    static int scaled(int channels, double alpha) {
        return Math.max(8, (int) (channels * alpha));
    }

    static Layer v2Cifar(Params p, ModelConfig cfg) {
        int[][] stages = { // expansion, out, blocks, stride
            {1, 16, 1, 1}, {6, 24, 2, 1}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
        var b = new Sequential.Builder("mobilenet-v2-cifar", new int[] {cfg.channels(), cfg.height(), cfg.width()});
        b.add(s -> new Conv2d(p, "conv1", s, 32, 3, 1, 1, 1, false));
        b.add(s -> new BatchNorm2d(p, "bn1", s));
        b.add(s -> new ReLU("relu1", s));
        int index = 0;
        for (int[] st : stages) {
            for (int i = 0; i < st[2]; i++) {
                String name = "layers." + index++;
                int stride = i == 0 ? st[3] : 1, expansion = st[0], out = st[1];
                b.add(s -> invertedResidual(p, name, s, expansion, out, stride));
            }
        }
        b.add(s -> new Conv2d(p, "conv2", s, 1280, 1, 1, 0, 1, false));
        b.add(s -> new BatchNorm2d(p, "bn2", s));
        b.add(s -> new ReLU("relu2", s));
        b.add(s -> new GlobalAvgPool("avgpool", s));
        b.add(s -> new Linear(p, "linear", s[0], cfg.classes(), true));
        return b.build();
    }

    private static Layer invertedResidual(Params p, String name, int[] in, int expansion, int out, int stride) {
        int planes = expansion * in[0];
        var main = new Sequential.Builder(name + ".main", in);
        main.add(s -> new Conv2d(p, name + ".conv1", s, planes, 1, 1, 0, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn1", s));
        main.add(s -> new ReLU(name + ".relu1", s));
        main.add(s -> new Conv2d(p, name + ".conv2", s, planes, 3, stride, 1, planes, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn2", s));
        main.add(s -> new ReLU(name + ".relu2", s));
        main.add(s -> new Conv2d(p, name + ".conv3", s, out, 1, 1, 0, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn3", s));
        if (stride != 1) return main.build();
        Layer shortcut = null;
        if (in[0] != out) {
            var sc = new Sequential.Builder(name + ".shortcut", in);
            sc.add(s -> new Conv2d(p, name + ".shortcut.0", s, out, 1, 1, 0, 1, false));
            sc.add(s -> new BatchNorm2d(p, name + ".shortcut.1", s));
            shortcut = sc.build();
        }
        return new Residual(name, main.build(), shortcut);
    }
}
