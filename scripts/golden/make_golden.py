#!/usr/bin/python3
"""Writes the golden fixtures the `tests` module checks the Java zoo against (GoldenTest).

For lenet5 and resnet20 it builds the equivalent PyTorch model (state_dict names as Shears
names its parameters), sets seeded weights, runs ONE training step on one small batch
(BatchNorm in training mode: batch statistics, momentum 0.1, eps 1e-5; loss =
CrossEntropyLoss(label_smoothing=0.1)) and saves: the input batch, labels, weights and
buffers before the step, logits, loss, every parameter gradient, and the buffers after the
forward (running statistics updated). No optimizer step: the gradients are the check.

Run (Debian's python3-torch; CI does not need it, the fixtures are committed):
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 scripts/golden/make_golden.py

File format (little endian), one or more parts per fixture, each under 1 MB:
    magic  b"SHGF"          4 bytes
    version u32 = 1
    part u32, parts u32     this part's index and the fixture's part count
    meta_len u32, meta      UTF-8 JSON (model, channels, height, width, classes, options,
                            smoothing, batch, generator); identical in every part
    count u32               tensors in this part, then per tensor:
      name_len u16, name    UTF-8, e.g. "param:layer1.0.conv1.weight", "grad:fc4.bias"
      dtype u8              0 = float32, 1 = bfloat16 (upper half of a float32: exact
                            for weights rounded to bfloat16), 2 = int32
      rank u8, dims u32 x rank
      data                  prod(dims) elements
Weights of resnet20 are rounded to bfloat16 before the step (so they are stored exactly in half
the bytes); everything the model computes is float32.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

VERSION = 1
PART_LIMIT = 900_000  # bytes of tensor data per part, so each file stays under 1 MB
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "src", "test", "resources", "golden")


class LeNet5(nn.Module):
    """LeNet-5 as Caffe has it (the paper's LeNet5Caffe); logits out (its log_softmax is left to the loss)."""

    def __init__(self, channels, size, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        s = ((size - 4) // 2 - 4) // 2
        self.fc3 = nn.Linear(50 * s * s, 500)
        self.fc4 = nn.Linear(500, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc3(x.flatten(1)))
        return self.fc4(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride, option):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.option = None
        if stride != 1 or cin != planes:
            self.option = option
            if option == "B":
                self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
            else:
                self.stride = stride
                self.front = (planes - cin) // 2
                self.back = planes - cin - self.front

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.option is None:
            sc = x
        elif self.option == "B":
            sc = self.shortcut(x)
        else:
            sc = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.front, self.back))
        return F.relu(out + sc)


class CifarResNet(nn.Module):
    def __init__(self, depth, channels, classes, option):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for stage, planes in enumerate([16, 32, 64]):
            blocks = []
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(cin, planes, stride, option))
                cin = planes
            setattr(self, "layer%d" % (stage + 1), nn.Sequential(*blocks))
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def bf16_exact(t):
    """Rounds a float32 tensor to the nearest bfloat16 value, kept as float32."""
    return t.to(torch.bfloat16).to(torch.float32)


def randomise(model, gen, bf16):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".bn" in name or name.startswith("bn") or (".shortcut.1." in name):
                if name.endswith("weight"):
                    p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
                else:
                    p.copy_((torch.rand(p.shape, generator=gen) - 0.5) * 0.4)
            if bf16:
                p.copy_(bf16_exact(p))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(bf16_exact((torch.rand(b.shape, generator=gen) - 0.5) * 0.2))
            elif name.endswith("running_var"):
                b.copy_(bf16_exact(torch.rand(b.shape, generator=gen) + 0.5))


def step(model, x, labels, smoothing):
    model.train()
    params = dict(model.named_parameters())
    before = {k: v.clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    logits = model(x)
    loss = nn.CrossEntropyLoss(label_smoothing=smoothing)(logits, labels)
    model.zero_grad()
    loss.backward()
    after = {k: v.clone() for k, v in model.named_buffers() if not k.endswith("num_batches_tracked")}
    tensors = [("input", x, 1), ("labels", labels.to(torch.int32), 2),
               ("logits", logits.detach(), 0), ("loss", loss.detach().reshape(()), 0)]
    for k, v in before.items():
        kind = "param:" if k in params else "buffer:"
        tensors.append((kind + k, v, 1))
    for k, v in after.items():
        tensors.append(("buffer_after:" + k, v, 0))
    for k, p in params.items():
        tensors.append(("grad:" + k, p.grad, 0))
    return tensors


def encode(name, t, dtype):
    t = t.detach().contiguous()
    head = name.encode()
    out = struct.pack("<H", len(head)) + head + struct.pack("<BB", dtype, t.dim()) + struct.pack("<%dI" % t.dim(), *t.shape)
    if dtype == 0:
        data = t.to(torch.float32).numpy().astype("<f4").tobytes()
    elif dtype == 1:
        assert torch.equal(bf16_exact(t), t), name + " is not bfloat16-exact"
        data = (t.to(torch.float32).numpy().astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()
    else:
        data = t.numpy().astype("<i4").tobytes()
    return out + data


def write(fixture, meta, tensors):
    blobs = [encode(n, t, d) for n, t, d in tensors]
    parts, cur, size = [], [], 0
    for b in blobs:
        if cur and size + len(b) > PART_LIMIT:
            parts.append(cur)
            cur, size = [], 0
        cur.append(b)
        size += len(b)
    parts.append(cur)
    meta_bytes = json.dumps(meta, sort_keys=True).encode()
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.startswith(fixture + ".") and old.endswith(".bin"):
            os.remove(os.path.join(OUT, old))
    for i, part in enumerate(parts):
        path = os.path.join(OUT, "%s.%d.bin" % (fixture, i))
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"SHGF" + struct.pack("<IIII", VERSION, i, len(parts), len(meta_bytes)) + meta_bytes)
            f.write(struct.pack("<I", len(part)))
            for b in part:
                f.write(b)
        os.replace(tmp, path)
        print("wrote", os.path.relpath(path), os.path.getsize(path), "bytes")


def main():
    torch.set_num_threads(1)
    smoothing = 0.1
    cases = [
        # fixture, model, channels, size, classes, batch, options
        ("lenet5", "lenet5", 1, 16, 3, 3, {}),
        ("resnet20", "resnet20", 3, 16, 4, 4, {"shortcut": "A"}),
    ]
    for fixture, name, channels, size, classes, batch, options in cases:
        gen = torch.Generator().manual_seed(20240 + len(fixture))
        torch.manual_seed(7)
        if name == "lenet5":
            model = LeNet5(channels, size, classes)
            bf16 = False
        else:
            model = CifarResNet(20, channels, classes, options["shortcut"])
            bf16 = True
        randomise(model, gen, bf16)
        x = bf16_exact(torch.randn(batch, channels, size, size, generator=gen))
        labels = torch.randint(0, classes, (batch,), generator=gen)
        tensors = step(model, x, labels, smoothing)
        if not bf16:
            tensors = [(n, t, 0 if d == 1 else d) for n, t, d in tensors]
        meta = {"model": name, "channels": channels, "height": size, "width": size, "classes": classes, "options": options,
                "smoothing": smoothing, "batch": batch, "torch": torch.__version__,
                "generator": "scripts/golden/make_golden.py"}
        write(fixture, meta, tensors)


if __name__ == "__main__":
    sys.exit(main())
