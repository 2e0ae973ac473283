package dev.shears.nn.models;

import dev.shears.nn.layers.BatchNorm2d;
import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.GlobalAvgPool;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.MaxPool2d;
import dev.shears.nn.layers.Params;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Residual;
import dev.shears.nn.layers.Sequential;

/**
 * torchvision's ResNet-50 (v1.5: the stride on the bottleneck's 3x3 conv): conv7x7/2 (64)-BN-ReLU,
 * maxpool3x3/2, four stages of 3, 4, 6, 3 bottlenecks (widths 64, 128, 256, 512, expansion 4),
 * global average pool, fc with bias. Names as torchvision's state_dict (layer1.0.conv1,
 * layer1.0.downsample.0 / .1, fc).
 */
final class ImageNetResNet {
    private ImageNetResNet() {}

    static Layer resnet50(Params p, ModelConfig cfg) {
        int[] blocks = {3, 4, 6, 3};
        var b = new Sequential.Builder("resnet50", new int[] {cfg.channels(), cfg.height(), cfg.width()});
        b.add(s -> new Conv2d(p, "conv1", s, 64, 7, 2, 3, 1, false));
        b.add(s -> new BatchNorm2d(p, "bn1", s));
        b.add(s -> new ReLU("relu", s));
        b.add(s -> new MaxPool2d("maxpool", s, 3, 2, 1));
        for (int stage = 0; stage < 4; stage++) {
            int width = 64 << stage;
            for (int i = 0; i < blocks[stage]; i++) {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                String name = "layer" + (stage + 1) + "." + i;
                b.add(s -> bottleneck(p, name, s, width, stride));
                b.add(s -> new ReLU(name + ".relu", s));
            }
        }
        b.add(s -> new GlobalAvgPool("avgpool", s));
        b.add(s -> new Linear(p, "fc", s[0], cfg.classes(), true));
        return b.build();
    }

    private static Layer bottleneck(Params p, String name, int[] in, int width, int stride) {
        int out = width * 4;
        var main = new Sequential.Builder(name + ".main", in);
        main.add(s -> new Conv2d(p, name + ".conv1", s, width, 1, 1, 0, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn1", s));
        main.add(s -> new ReLU(name + ".relu1", s));
        main.add(s -> new Conv2d(p, name + ".conv2", s, width, 3, stride, 1, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn2", s));
        main.add(s -> new ReLU(name + ".relu2", s));
        main.add(s -> new Conv2d(p, name + ".conv3", s, out, 1, 1, 0, 1, false));
        main.add(s -> new BatchNorm2d(p, name + ".bn3", s));
        Layer shortcut = null;
        if (stride != 1 || in[0] != out) {
            var d = new Sequential.Builder(name + ".downsample", in);
            d.add(s -> new Conv2d(p, name + ".downsample.0", s, out, 1, stride, 0, 1, false));
            d.add(s -> new BatchNorm2d(p, name + ".downsample.1", s));
            shortcut = d.build();
        }
        return new Residual(name, main.build(), shortcut);
    }
}
