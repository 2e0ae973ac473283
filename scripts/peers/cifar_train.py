#!/usr/bin/python3
"""PyTorch peer of `shears bench train --model resnet32|mobilenet-v2-cifar --batch 128` (docs/convolution.md).

One training step = zero_grad + forward + cross-entropy + backward + SGD(lr 0.1, momentum 0.9,
weight decay 5e-4) on random N(0, 1) input and random labels, batch 128, 3x32x32. Models:
- resnet32: ResNet-32 for CIFAR, option A shortcuts (the zoo's `resnet32`; the same network as
  the project's reference peer resnet32_train.py).
- mobilenet-v2-cifar: the kuangliu CIFAR MobileNet-V2 (the zoo's `mobilenet-v2-cifar`): conv1
  3x3 stride 1, inverted residuals (expansion, out, blocks, stride) as below, 1x1 conv + BN
  shortcut where stride is 1 and channels change, no ReLU after the add, conv2 1x1 to 1280,
  global average pool, linear with bias.
Prints `name value unit` lines: median and best wall ms per step after warm-up, img/s, the
median process CPU time per step (time.process_time: all threads; with one thread the step),
and the peak RSS (ru_maxrss).

usage: OMP_NUM_THREADS=T /usr/bin/python3 scripts/peers/cifar_train.py --model resnet32 --threads T
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="resnet32", choices=["resnet32", "mobilenet-v2-cifar"])
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--steps", type=int, default=12)
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--batch", type=int, default=128)
args = None  # parsed in main(): export_onnx.py imports the model classes only


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = cout - cin if (stride != 1 or cin != cout) else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + sc)


class ResNet32(nn.Module):
    def __init__(self, n=5, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for i, cout in enumerate((16, 32, 64)):
            for j in range(n):
                layers.append(BasicBlock(cin, cout, 2 if (i > 0 and j == 0) else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, expansion, cout, stride):
        super().__init__()
        planes = expansion * cin
        self.stride = stride
        self.main = nn.Sequential(
            nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
            nn.Conv2d(planes, planes, 3, stride, 1, groups=planes, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
            nn.Conv2d(planes, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = None
        if stride == 1 and cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.main(x)
        if self.stride != 1:
            return out
        return out + (x if self.shortcut is None else self.shortcut(x))


class MobileNetV2Cifar(nn.Module):
    # (expansion, out, blocks, stride)
    STAGES = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        layers, cin = [], 32
        for e, cout, blocks, s in self.STAGES:
            for i in range(blocks):
                layers.append(InvertedResidual(cin, e, cout, s if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.conv2 = nn.Conv2d(320, 1280, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.linear = nn.Linear(1280, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.linear(F.adaptive_avg_pool2d(x, 1).flatten(1))


def main():
    global args
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ResNet32() if args.model == "resnet32" else MobileNetV2Cifar()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))
    wall, cpu = [], []
    for i in range(args.warmup + args.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        t1, c1 = time.perf_counter(), time.process_time()
        if i >= args.warmup:
            wall.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
    tag = f"torch.{args.model}.3x32x32_b{args.batch}"
    med = statistics.median(wall)
    print(f"{tag}.params {sum(p.numel() for p in model.parameters())} params")
    print(f"{tag}.train_step.ms.med {med:.3f} ms")
    print(f"{tag}.train_step.ms.min {min(wall):.3f} ms")
    print(f"{tag}.train_step.img_per_s.med {args.batch / med * 1e3:.3f} img/s")
    print(f"{tag}.train_step.cpu_ms.med {statistics.median(cpu):.3f} ms (process CPU time, all threads)")
    print(f"process.peak_rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.3f} MiB")
    print(f"# threads {torch.get_num_threads()} torch {torch.__version__}")


if __name__ == "__main__":
    main()
