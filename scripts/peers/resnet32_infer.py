#!/usr/bin/python3
"""PyTorch peer of `shears bench infer --model resnet32 --batch 1` (docs/benchmarks.md, "Sparse inference"):
the dense eval-mode forward of ResNet-32 (option A shortcuts) at batch 1 on random N(0, 1) input,
torch.no_grad(), one thread. The model classes are those of resnet32_train.py next to this file
(its source up to `resnet_flops`, executed here, so both peers build the same network).

Prints the median and p90 wall time of 300 timed forwards after 30 warm-up ones, and the median
thread CPU time (time.thread_time; with one thread the whole forward), as `name value` lines.

usage: OMP_NUM_THREADS=1 PEER_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
       /usr/bin/python3 scripts/peers/resnet32_infer.py [--peers DIR]   (DIR holding resnet32_train.py; default: this folder)
"""
import argparse
import os
import sys

from infer_timing import time_forward

ap = argparse.ArgumentParser()
ap.add_argument("--peers", default=os.path.dirname(os.path.abspath(__file__)))
args = ap.parse_args()
sys.path.insert(0, args.peers)
sys.argv = ["resnet32_train.py", "--part", "resnet"]
src = open(f"{args.peers}/resnet32_train.py").read()
src = src[:src.index("def resnet_flops")]
g = {"__name__": "peer"}
exec(compile(src, "resnet32_train.py", "exec"), g)
torch = g["torch"]
torch.set_num_threads(1)
m = g["ResNetCifar"](3, 5, 10, "A").eval()
x = torch.randn(1, 3, 32, 32)
time_forward(m, x, "torch.resnet32.b1", warmup=30, iters=300)
