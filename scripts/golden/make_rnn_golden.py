#!/usr/bin/python3
"""Golden files for the recurrent classifiers (RnnGoldenTest in module tests).

A small reference FastGRNN written here from the equations of EdgeML's FastGRNNCell (sigmoid
gate, tanh update, W and U shared by both, zeta and nu through a sigmoid, EdgeML's PyTorch
shapes W (H, F) or W1 (r_W, F) and W2 (H, r_W), U (H, H) or U1 (r_U, H) and U2 (H, r_U),
biases (1, H), zeta and nu (1, 1)), and torch.nn.GRU (batch_first, one layer), each followed by a
Linear head on the last hidden state and the mean cross-entropy of random labels. Tiny sizes:
batch 3, T 5, F 4, H 6, 3 classes. Parameters are random float32 values (biases, zeta and nu too,
away from their init, so every term of the gradient matters); the forward and backward run in
float64 on those values and are stored as float32.

Each file is safetensors: the parameters under the Shears names (rnn.*, fc.weight, fc.bias),
"input" (N, T, F), "labels" (N,) I32, "logits" (N, C), "loss" (1,), and "grad.<name>" for every
parameter; __metadata__ holds format=shears-rnn-golden, version=1 and the model options.

usage (from the repository root):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 scripts/golden/make_rnn_golden.py
writes tests/src/test/resources/golden/rnn_{fastgrnn,fastgrnn_lowrank,gru}.safetensors.
"""
import json
import os
import struct
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT, VERSION = "shears-rnn-golden", "1"
N, T, FEAT, H, C = 3, 5, 4, 6, 3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "src", "test", "resources", "golden")


class FastGRNN(nn.Module):
    """EdgeML's FastGRNNCell over a sequence (batch first), then a linear head on h_T."""

    def __init__(self, feat, hidden, classes, rank_w=None, rank_u=None):
        super().__init__()
        self.rank_w, self.rank_u = rank_w, rank_u
        if rank_w is None:
            self.W = nn.Parameter(0.1 * torch.randn(hidden, feat))
        else:
            self.W1 = nn.Parameter(0.1 * torch.randn(rank_w, feat))
            self.W2 = nn.Parameter(0.1 * torch.randn(hidden, rank_w))
        if rank_u is None:
            self.U = nn.Parameter(0.1 * torch.randn(hidden, hidden))
        else:
            self.U1 = nn.Parameter(0.1 * torch.randn(rank_u, hidden))
            self.U2 = nn.Parameter(0.1 * torch.randn(hidden, rank_u))
        self.bias_gate = nn.Parameter(torch.ones(1, hidden))
        self.bias_update = nn.Parameter(torch.ones(1, hidden))
        self.zeta = nn.Parameter(1.0 * torch.ones(1, 1))
        self.nu = nn.Parameter(-4.0 * torch.ones(1, 1))
        self.fc = nn.Linear(hidden, classes)
        self.hidden = hidden

    def forward(self, x):  # x: (N, T, F)
        h = x.new_zeros(x.shape[0], self.hidden)
        for t in range(x.shape[1]):
            xt = x[:, t]
            w_comp = xt @ self.W.t() if self.rank_w is None else (xt @ self.W1.t()) @ self.W2.t()
            u_comp = h @ self.U.t() if self.rank_u is None else (h @ self.U1.t()) @ self.U2.t()
            pre = w_comp + u_comp
            z = torch.sigmoid(pre + self.bias_gate)
            c = torch.tanh(pre + self.bias_update)
            h = z * h + (torch.sigmoid(self.zeta) * (1 - z) + torch.sigmoid(self.nu)) * c
        return self.fc(h)


class GRUClassifier(nn.Module):
    def __init__(self, feat, hidden, classes):
        super().__init__()
        self.rnn = nn.GRU(feat, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        out, h = self.rnn(x)
        return self.fc(h[-1])


def names(model):
    """Shears parameter names: the FastGRNN's own under rnn.*, the GRU's state_dict names as they are."""
    out = {}
    for k, p in model.named_parameters():
        out["rnn." + k if isinstance(model, FastGRNN) and not k.startswith("fc.") else k] = p
    return out


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.float32:
            dtype, raw = "F32", t.numpy().astype("<f4").tobytes()
        elif t.dtype == torch.int32:
            dtype, raw = "I32", t.numpy().astype("<i4").tobytes()
        else:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def make(file, model, options):
    gen = torch.Generator().manual_seed(zlib.crc32(file.encode()))
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if p.dim() > 1 or "bias" in name else 1.5  # zeta, nu: wider
            p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * scale)
    x = torch.randn(N, T, FEAT, generator=gen)
    labels = torch.randint(0, C, (N,), generator=gen)
    params32 = {k: p.detach().clone() for k, p in names(model).items()}
    model64 = model.double()
    logits = model64(x.double())
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors = dict(params32)
    tensors["input"] = x.float()
    tensors["labels"] = labels.to(torch.int32)
    tensors["logits"] = logits.detach().float()
    tensors["loss"] = loss.detach().float().reshape(1)
    for k, p in names(model64).items():
        tensors["grad." + k] = p.grad.float()
    meta = {"format": FORMAT, "version": VERSION, "generator": "scripts/golden/make_rnn_golden.py", "torch": torch.__version__,
            "batch": str(N), "steps": str(T), "features": str(FEAT), "hidden": str(H), "classes": str(C)}
    meta.update(options)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, file)
    write_safetensors(path, tensors, meta)
    print(f"wrote {os.path.relpath(path)}: loss {loss.item():.6f}, {len(tensors)} tensors")


def main():
    torch.manual_seed(0)
    make("rnn_fastgrnn.safetensors", FastGRNN(FEAT, H, C), {"model": "fastgrnn", "rank-w": "full", "rank-u": "full"})
    make("rnn_fastgrnn_lowrank.safetensors", FastGRNN(FEAT, H, C, rank_w=3, rank_u=4), {"model": "fastgrnn", "rank-w": "3", "rank-u": "4"})
    make("rnn_gru.safetensors", GRUClassifier(FEAT, H, C), {"model": "gru"})


if __name__ == "__main__":
    sys.exit(main())
