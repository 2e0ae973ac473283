#!/usr/bin/python3
"""PyTorch peer of `shears bench infer --model mobilenet-v1 --input 3x224x224 --classes 1000 --batch 1`
(docs/benchmarks.md, "Sparse inference"): the dense eval-mode forward of MobileNet-V1 (width 1.0; the zoo's
definition: 3x3 stem conv stride 2, 13 depthwise-separable blocks, each conv followed by batch norm
and ReLU, global average pool, linear 1024 -> 1000 without bias) at batch 1 on random N(0, 1)
input, torch.no_grad(), one thread.

Prints the median and p90 wall time of the timed forwards after warm-up, and the median thread CPU
time (time.thread_time; with one thread the whole forward), as `name value` lines.

usage: OMP_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
       /usr/bin/python3 scripts/peers/mobilenet_v1_infer.py [--iters 50]
"""
import argparse

import torch
import torch.nn as nn

from infer_timing import time_forward

ap = argparse.ArgumentParser()
ap.add_argument("--iters", type=int, default=50)
args = ap.parse_args()
torch.set_num_threads(1)


def conv_bn(cin, cout, k, stride, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


# (out channels, stride) of the 13 depthwise-separable blocks
blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
layers, cin = conv_bn(3, 32, 3, 2), 32
for cout, s in blocks:
    layers += conv_bn(cin, cin, 3, s, groups=cin) + conv_bn(cin, cout, 1, 1)
    cin = cout
m = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000, bias=False)).eval()
x = torch.randn(1, 3, 224, 224)
print(f"torch.mobilenet_v1.b1.params {sum(p.numel() for p in m.parameters())}")
time_forward(m, x, "torch.mobilenet_v1.b1", warmup=5, iters=args.iters)
