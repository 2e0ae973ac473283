package dev.shears.nn.models;

import dev.shears.nn.layers.Conv2d;
import dev.shears.nn.layers.Flatten;
import dev.shears.nn.layers.Layer;
import dev.shears.nn.layers.Linear;
import dev.shears.nn.layers.MaxPool2d;
import dev.shears.nn.layers.Params;
import dev.shears.nn.layers.ReLU;
import dev.shears.nn.layers.Sequential;

/**
 * LeNet-5 as Caffe has it (the paper's code, LeNet5Caffe): conv5x5 (20, bias)-ReLU-maxpool2,
 * conv5x5 (50, bias)-ReLU-maxpool2, fc3 (500)-ReLU, fc4 (classes). The code's final log_softmax
 * is left to the loss (log_softmax is idempotent under it). Names: conv1, conv2, fc3, fc4.
 */
final class LeNet5 {
    private LeNet5() {}

    static Layer build(Params p, ModelConfig cfg) {
        var b = new Sequential.Builder("lenet5", new int[] {cfg.channels(), cfg.height(), cfg.width()});
        b.add(s -> new Conv2d(p, "conv1", s, 20, 5, 1, 0, 1, true));
        b.add(s -> new ReLU("relu1", s));
        b.add(s -> new MaxPool2d("pool1", s, 2, 2, 0));
        b.add(s -> new Conv2d(p, "conv2", s, 50, 5, 1, 0, 1, true));
        b.add(s -> new ReLU("relu2", s));
        b.add(s -> new MaxPool2d("pool2", s, 2, 2, 0));
        b.add(s -> new Flatten("flatten", s));
        b.add(s -> new Linear(p, "fc3", s[0], 500, true));
        b.add(s -> new ReLU("relu3", s));
        b.add(s -> new Linear(p, "fc4", s[0], cfg.classes(), true));
        return b.build();
    }
}
