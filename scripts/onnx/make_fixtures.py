#!/usr/bin/python3
"""Writes the ONNX fixtures the import tests read (tests/src/test/resources/onnx).

What it writes, each with fixed seeds (SEEDS below), each file under 2 MB:
  resnet_small.onnx          torchvision's ResNet class (BasicBlock, [2, 2, 2, 2], the downsample
                             1x1 convolutions), widths 8/16/32/64 instead of 64..512, 10 classes,
                             input 2x3x64x64, exported the default way (eval mode: torch folds each
                             batch norm into the convolution before it).
  resnet_fmnist.onnx         the same class at depth [1, 1, 1, 1] for Fashion-MNIST (1x28x28, 3x3 stem),
                             dynamic batch: the command-line tests import it and then eval, prune,
                             export and infer on the embedded Fashion-MNIST subset.
  resnet_small_bn.onnx       the same network and weights exported with TrainingMode.PRESERVE from
                             eval mode: the BatchNormalization nodes stay in the graph (training-graph
                             semantics) and run with their running statistics.
  mobilenet_v2_small.onnx    torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10),
                             input 2x3x32x32, batch norm kept as nodes (PRESERVE), a dynamic batch
                             dimension; ReLU6 arrives as Clip with constant min/max inputs.
  ops_opset10.onnx,          a small network touching the rest of the supported operators: Pad,
  ops_opset17.onnx           Concat on channels, Mul by a constant, MaxPool, AveragePool (padded),
                             Reshape to 2-D, MatMul + Add, Gemm, ReLU6. Opset 10 writes Clip's
                             bounds and Pad's pads as attributes, opset 17 as inputs.
  <name>.io.safetensors      for each fixture above: "input" and the "logits" PyTorch computed.
  resnet18/34/50_stripped.onnx, mobilenet_v2_stripped.onnx
                             the full-size torchvision graphs (random init, 1000 classes, input
                             Nx3x224x224 with a dynamic batch) with every initializer's data removed
                             (name, dims and type kept): the weights are 45-100 MB, the graphs a few
                             hundred KB. The test fills the initializers with seeded random values.

Non-trivial batch-norm statistics: running mean, variance, weight and bias are drawn from the seed,
so folding and running statistics matter. Weights are as torchvision initialises them.

Run (Debian's python3-torch; the tests do not need Python, the files are committed):
    /usr/bin/python3 scripts/onnx/make_fixtures.py
No `onnx` package is needed: torch.onnx.export writes the protobuf itself, and the stripping below
edits the protobuf wire format directly (ModelProto.graph = 7, GraphProto.initializer = 5,
TensorProto float_data = 4, int32_data = 5, int64_data = 7, raw_data = 9, double_data = 10).
"""
import io
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, ResNet

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "src", "test", "resources", "onnx")
SEEDS = {"resnet_small": 17, "resnet_fmnist": 19, "mobilenet_v2_small": 23, "ops": 31, "resnet18": 1, "resnet34": 2, "resnet50": 3, "mobilenet_v2": 4}
LIMIT = 2_000_000  # bytes per committed file
FORMAT = "shears-onnx-fixture"
VERSION = "1"


def small_resnet(blocks=2, channels=3, stem=7):
    """torchvision's ResNet-18 layout (BasicBlock, [2, 2, 2, 2]) at widths 8, 16, 32, 64."""
    m = ResNet(BasicBlock, [blocks] * 4, num_classes=10)
    m.inplanes = 8
    m.conv1 = nn.Conv2d(channels, 8, kernel_size=stem, stride=2 if stem == 7 else 1, padding=stem // 2, bias=False)
    m.bn1 = nn.BatchNorm2d(8)
    m.layer1 = m._make_layer(BasicBlock, 8, blocks)
    m.layer2 = m._make_layer(BasicBlock, 16, blocks, stride=2)
    m.layer3 = m._make_layer(BasicBlock, 32, blocks, stride=2)
    m.layer4 = m._make_layer(BasicBlock, 64, blocks, stride=2)
    m.fc = nn.Linear(64, 10)
    for mod in m.modules():  # torchvision's init for the replaced modules
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
    return m


class Ops(nn.Module):
    """The operators the zoo networks above do not use, in one small graph."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, stride=1, padding=0)
        self.bn1 = nn.BatchNorm2d(6)
        self.branch_a = nn.Conv2d(6, 4, 1)
        self.branch_b = nn.Conv2d(6, 4, 3, stride=1, padding=1, groups=2)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)  # depthwise, strided
        self.w = nn.Parameter(torch.randn(8 * 4 * 4, 12) * 0.1)          # MatMul + Add
        self.b = nn.Parameter(torch.randn(12) * 0.1)
        self.fc = nn.Linear(12, 5)                                     # Gemm

    def forward(self, x):                                  # x: (N, 3, 16, 16)
        x = F.pad(x, (1, 1, 1, 1))                         # Pad -> (N, 3, 18, 18)
        x = F.relu(self.bn1(self.conv1(x)))                # (N, 6, 16, 16)
        x = torch.cat([self.branch_a(x), F.relu6(self.branch_b(x))], dim=1)  # Concat on channels (N, 8, 16, 16)
        x = x * 0.5                                        # Mul by a constant
        x = F.max_pool2d(x, 2)                             # (N, 8, 8, 8)
        x = F.relu6(self.conv2(x))                         # Clip as ReLU6, (N, 8, 4, 4)
        x = F.avg_pool2d(x, 3, stride=1, padding=1)        # AveragePool, padding counted (N, 8, 4, 4)
        x = x.reshape(-1, 8 * 4 * 4)                       # Reshape to 2-D
        x = F.relu(x @ self.w + self.b)                    # MatMul + Add
        return self.fc(x)


def randomise_batch_norms(model, gen):
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                mod.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                mod.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(c, generator=gen) * 0.2)


def export(model, x, training, opset, dynamic):
    buf = io.BytesIO()
    kwargs = {"dynamic_axes": {"input": {0: "batch"}, "logits": {0: "batch"}}} if dynamic else {}
    torch.onnx.export(model, x, buf, input_names=["input"], output_names=["logits"], opset_version=opset,
                      training=training, do_constant_folding=True, **kwargs)
    return buf.getvalue()


def write(name, data):
    if len(data) > LIMIT:
        raise SystemExit(f"{name}: {len(data)} bytes, over the {LIMIT} byte limit for committed fixtures")
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    print(f"wrote {os.path.relpath(path)}: {len(data):,} bytes")


def safetensors(tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def fixture(name, model, x, training, opset, dynamic, seed):
    model.eval()
    data = export(model, x, training, opset, dynamic)
    with torch.no_grad():
        logits = model(x)
    write(name + ".onnx", data)
    meta = {"format": FORMAT, "version": VERSION, "generator": "scripts/onnx/make_fixtures.py", "torch": torch.__version__,
            "torchvision": torchvision.__version__, "seed": str(seed), "opset": str(opset)}
    write(name + ".io.safetensors", safetensors({"input": x, "logits": logits}, meta))


# ---------------------------------------------------------------- protobuf wire format, just enough to strip data

def varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def put_varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def fields(b):
    """(field number, wire type, raw bytes of the whole field, payload for length-delimited)."""
    i = 0
    while i < len(b):
        start = i
        key, i = varint(b, i)
        number, wire = key >> 3, key & 7
        payload = None
        if wire == 0:
            _, i = varint(b, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(b, i)
            payload = b[i:i + n]
            i += n
        else:
            raise ValueError(f"wire type {wire} at byte {start}")
        yield number, wire, b[start:i], payload


def message(number, payload):
    return put_varint(number << 3 | 2) + put_varint(len(payload)) + payload


def strip_tensor(t):
    return b"".join(raw for n, _, raw, _ in fields(t) if n not in (4, 5, 7, 9, 10, 11))


def strip_graph(g):
    out = []
    for n, _, raw, payload in fields(g):
        out.append(message(5, strip_tensor(payload)) if n == 5 else raw)
    return b"".join(out)


def strip_model(m):
    out = []
    for n, _, raw, payload in fields(m):
        out.append(message(7, strip_graph(payload)) if n == 7 else raw)
    return b"".join(out)


def main():
    os.makedirs(OUT, exist_ok=True)

    seed = SEEDS["resnet_small"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = small_resnet()
    randomise_batch_norms(net, gen)
    x = torch.randn(2, 3, 64, 64, generator=gen)
    fixture("resnet_small", net, x, torch.onnx.TrainingMode.EVAL, 17, False, seed)
    fixture("resnet_small_bn", net, x, torch.onnx.TrainingMode.PRESERVE, 17, False, seed)

    seed = SEEDS["resnet_fmnist"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = small_resnet(blocks=1, channels=1, stem=3)
    randomise_batch_norms(net, gen)
    x = torch.randn(2, 1, 28, 28, generator=gen)
    fixture("resnet_fmnist", net, x, torch.onnx.TrainingMode.PRESERVE, 17, True, seed)

    seed = SEEDS["mobilenet_v2_small"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)
    randomise_batch_norms(net, gen)
    x = torch.randn(2, 3, 32, 32, generator=gen)
    fixture("mobilenet_v2_small", net, x, torch.onnx.TrainingMode.PRESERVE, 17, True, seed)

    seed = SEEDS["ops"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = Ops()
    randomise_batch_norms(net, gen)
    x = torch.randn(2, 3, 16, 16, generator=gen)
    fixture("ops_opset10", net, x, torch.onnx.TrainingMode.PRESERVE, 10, False, seed)
    fixture("ops_opset17", net, x, torch.onnx.TrainingMode.PRESERVE, 17, True, seed)

    for name, make in [("resnet18", torchvision.models.resnet18), ("resnet34", torchvision.models.resnet34),
                       ("resnet50", torchvision.models.resnet50), ("mobilenet_v2", torchvision.models.mobilenet_v2)]:
        torch.manual_seed(SEEDS[name])
        net = make().eval()
        data = export(net, torch.zeros(1, 3, 224, 224), torch.onnx.TrainingMode.EVAL, 17, True)
        write(name + "_stripped.onnx", strip_model(data))


if __name__ == "__main__":
    main()
