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
import dev.shears.nn.layers.ZeroPadShortcut;

/**
 * He et al.'s CIFAR ResNets (depth 6n+2): conv3x3 (16)-BN-ReLU, three stages of n BasicBlocks
 * (16, 32, 64 channels; strides 1, 2, 2), global average pool, linear. A BasicBlock is
 * conv3x3-BN-ReLU-conv3x3-BN plus the shortcut, then ReLU; where the shape changes the shortcut
 * is option A (zero-pad, parameter-free) or B (1x1 conv + BN). Names as the common CIFAR code:
 * conv1, bn1, layer{s}.{b}.conv1/bn1/conv2/bn2, layer{s}.{b}.shortcut.0 (conv) / .1 (BN), linear.
 */
final class CifarResNet {
    private CifarResNet() {}

    static Layer build(Params p, ModelConfig cfg, int depth, boolean optionB) {
        int n = (depth - 2) / 6;
        var b = new Sequential.Builder("resnet" + depth, new int[] {cfg.channels(), cfg.height(), cfg.width()});
        b.add(s -> new Conv2d(p, "conv1", s, 16, 3, 1, 1, 1, false));
        b.add(s -> new BatchNorm2d(p, "bn1", s));
        b.add(s -> new ReLU("relu", s));
        int[] widths = {16, 32, 64};
        for (int stage = 0; stage < 3; stage++) {
            for (int i = 0; i < n; i++) {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                String name = "layer" + (stage + 1) + "." + i;
                int planes = widths[stage];
                b.add(s -> basicBlock(p, name, s, planes, stride, optionB));
                b.add(s -> new ReLU(name + ".relu", s));
            }
        }
        b.add(s -> new GlobalAvgPool("avgpool", s));
        b.add(s -> new Linear(p, "linear", s[0], cfg.classes(), true));
        return b.build();
    }

    static Layer basicBlock(Params p, String name, int[] in, int planes, int stride, boolean optionB) {
        var main = new Sequential.Builder(name + ".main", in);
        main.add(s -> new Conv2d(p, name + ".conv1", s, planes, 3, stride, 1, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn1", s));
        main.add(s -> new ReLU(name + ".relu1", s));
        main.add(s -> new Conv2d(p, name + ".conv2", s, planes, 3, 1, 1, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn2", s));
        Layer shortcut = null;
        if (stride != 1 || in[0] != planes) {
            if (optionB) {
                var sc = new Sequential.Builder(name + ".shortcut", in);
                sc.add(s -> new Conv2d(p, name + ".shortcut.0", s, planes, 1, stride, 0, 1, false));
                sc.add(s -> new BatchNorm2d(p, name + ".shortcut.1", s));
                shortcut = sc.build();
            } else {
                shortcut = new ZeroPadShortcut(name + ".shortcut", in, planes, stride);
            }
        }
        return new Residual(name, main.build(), shortcut);
    }
}
