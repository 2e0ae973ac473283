#!/usr/bin/python3
"""PyTorch peer of `shears train --model lenet5` on the full Fashion-MNIST (docs/benchmarks.md,
"Accuracy" and "Training speed" compare the two: test accuracy after each epoch and epoch time).

Model: LeNet-5 as Caffe has it (the Global MP paper's LeNet5Caffe, the Shears zoo's lenet5):
conv5x5(1->20, bias)-ReLU-maxpool2 -> conv5x5(20->50, bias)-ReLU-maxpool2 -> Linear(800->500)-ReLU
-> Linear(500->10). PyTorch's default initialisation.
Recipe (the one of resnet32_train.py --part fmnist, next to this file): SGD lr 0.05 momentum 0.9,
no weight decay, batch 128, constant rate, shuffled each epoch, last partial batch kept; inputs
x/255 normalised with the training set's mean and std. Test accuracy on the 10,000 test images
after every epoch (eval mode, batches of 1000).

usage: lenet5_fmnist.py [--epochs 3] [--seeds 0,1,2] [--data /usr/share/datasets/fashion-mnist]
Threads: PEER_THREADS (default 2). Output: `name value unit` lines, like the shared peers.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--seeds", default="0")
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
args = ap.parse_args()
torch.set_num_threads(int(os.environ.get("PEER_THREADS", "2")))
print(f"# lenet5_fmnist.py torch {torch.__version__} threads {torch.get_num_threads()} date {time.strftime('%Y-%m-%dT%H:%M:%S%z')}", flush=True)


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class LeNet5Caffe(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc3 = nn.Linear(800, 500)
        self.fc4 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc3(x.flatten(1)))
        return self.fc4(x)


d = args.data
xtr = load_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
ytr = load_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
xte = load_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
yte = load_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
mean, std = float(xtr.mean()), float(xtr.std())
print(f"# normalisation mean {mean:.4f} std {std:.4f}")
Xtr = torch.from_numpy((xtr - mean) / std).unsqueeze(1)
Xte = torch.from_numpy((xte - mean) / std).unsqueeze(1)
Ytr, Yte = torch.from_numpy(ytr), torch.from_numpy(yte)

for seed in [int(s) for s in args.seeds.split(",")]:
    torch.manual_seed(seed)
    model = LeNet5Caffe()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    n, B = Xtr.shape[0], 128
    for ep in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, B):
            idx = perm[i:i + B]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(Xtr[idx]), Ytr[idx])
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        et = time.perf_counter() - t0
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, Xte.shape[0], 1000):
                correct += (model(Xte[i:i + 1000]).argmax(1) == Yte[i:i + 1000]).sum().item()
        tag = f"lenet5.seed{seed}.epoch{ep}"
        print(f"{tag}.train_s {et:.3f} s", flush=True)
        print(f"{tag}.img_per_s {n / et:.1f} img/s")
        print(f"{tag}.train_loss {tot / n:.4f} nats")
        print(f"{tag}.test_acc {100.0 * correct / Xte.shape[0]:.2f} %", flush=True)
