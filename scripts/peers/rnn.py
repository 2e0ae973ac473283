#!/usr/bin/python3
"""PyTorch peer of `shears bench rnn` (docs/benchmarks.md, "Recurrent networks"): torch.nn.GRU and a FastGRNN in
eager PyTorch, each with a Linear head on the last hidden state, on random N(0, 1) input.

FastGRNN is the formulation of fastgrnn.py (next to this file) (full rank, W (H, I) and U (H, H)
shared by gate and update; per step one addmm for W x_t + U h and the pointwise ops), in two
variants: `eager` (Python loop) and `jit` (W x for all steps as one matmul, the loop compiled
with torch.jit.script) - the shared peer's slowest and fastest batch-1 variants.
GRU is torch.nn.GRU(I, H, batch_first=True), one layer (its loop runs inside ATen).

Inference: batch 1, one sequence, eval, torch.no_grad(): us/sequence (each call timed), with the
CPU times of the same calls (time.process_time: all threads; time.thread_time: the calling thread,
with PEER_THREADS=1 the whole computation) next to the wall time.
Training: batch B, forward + cross-entropy + backward through time + Adam(lr=1e-2) step:
sequences/s. Median and fastest repeat after warm-up, printed as `name value unit` lines
like the shared peers, with a `# contention ... foreign_share=` line at the end.

usage: rnn.py [--cell gru,fastgrnn] [--hidden 80,128] [--input 9] [--steps 128] [--classes 6]
              [--batch 128] [--seconds 3] [--quick]
Threads: PEER_THREADS (default 2). Run with Debian's python3-torch:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 scripts/peers/rnn.py
"""
import argparse
import atexit
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--cell", default="gru,fastgrnn")
ap.add_argument("--hidden", default="80,128")
ap.add_argument("--input", type=int, default=9)
ap.add_argument("--steps", type=int, default=128)
ap.add_argument("--classes", type=int, default=6)
ap.add_argument("--batch", type=int, default=128)
ap.add_argument("--seconds", type=float, default=3.0)
ap.add_argument("--quick", action="store_true")
args = ap.parse_args()
THREADS = int(os.environ.get("PEER_THREADS", "2"))
torch.set_num_threads(THREADS)
budget = 1.0 if args.quick else args.seconds


def proc_stat():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]


T0 = (proc_stat(), os.times(), time.time())


@atexit.register
def contention():
    hz = os.sysconf("SC_CLK_TCK")
    t = os.times()
    own = t.user + t.system - T0[1].user - T0[1].system
    wall = time.time() - T0[2]
    foreign = max(0.0, (proc_stat() - T0[0]) / hz - own)
    print(f"# contention wall_s={wall:.1f} own_cpu_s={own:.1f} foreign_cpu_s={foreign:.1f} "
          f"foreign_share={foreign / max(wall * (os.cpu_count() or 1), 1e-9):.3f}", flush=True)


def emit(name, value, unit):
    print(f"{name} {value:.6g} {unit}" if isinstance(value, float) else f"{name} {value} {unit}", flush=True)


def timed(fn, warmup, min_reps, max_reps):
    """Wall times, process CPU times (all threads) and the calling thread's CPU times of the same calls."""
    for _ in range(warmup):
        fn()
    times, cpu, own, start = [], [], [], time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < budget):
        c0, o0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        own.append(time.thread_time() - o0)
        cpu.append(time.process_time() - c0)
    return times, cpu, own


def report(base, measured, work, unit_scale, unit, rate):
    times, cpu, own = measured
    med, best = statistics.median(times), min(times)
    emit(f"{base}.{unit}.n", len(times), "runs")
    emit(f"{base}.{unit}.med", med * unit_scale, unit)
    emit(f"{base}.{unit}.min", best * unit_scale, unit)
    emit(f"{base}.cpu_{unit}.mean", statistics.mean(cpu) * unit_scale, unit)
    emit(f"{base}.thread_cpu_{unit}.med", statistics.median(own) * unit_scale, unit)
    emit(f"{base}.seq_per_s.med", work / med, rate)
    emit(f"{base}.seq_per_s.best", work / best, rate)


class FastGRNN(nn.Module):
    def __init__(self, inp, hid, ncls):
        super().__init__()
        self.W = nn.Parameter(torch.randn(hid, inp) * (1.0 / inp ** 0.5))
        self.U = nn.Parameter(torch.randn(hid, hid) * (1.0 / hid ** 0.5))
        self.bz = nn.Parameter(torch.ones(hid))
        self.bh = nn.Parameter(torch.ones(hid))
        self.zeta = nn.Parameter(torch.tensor(1.0))
        self.nu = nn.Parameter(torch.tensor(-4.0))
        self.fc = nn.Linear(hid, ncls)
        self.hid = hid
        self.jit = False

    def forward(self, x):  # x: [B, T, I] (batch first, as Shears)
        zeta, nu = torch.sigmoid(self.zeta), torch.sigmoid(self.nu)
        if self.jit:
            B, Tn, I = x.shape
            wx = (x.reshape(B * Tn, I) @ self.W.t()).reshape(B, Tn, self.hid).transpose(0, 1)
            return self.fc(fastgrnn_loop(wx, self.U, self.bz, self.bh, zeta, nu))
        h = x.new_zeros(x.shape[0], self.hid)
        Wt, Ut = self.W.t(), self.U.t()
        for t in range(x.shape[1]):
            pre = torch.addmm(h @ Ut, x[:, t], Wt)
            z = torch.sigmoid(pre + self.bz)
            c = torch.tanh(pre + self.bh)
            h = z * h + (zeta * (1 - z) + nu) * c
        return self.fc(h)


@torch.jit.script
def fastgrnn_loop(wx, U, bz, bh, zeta, nu):
    Tn, B, Hn = wx.shape
    h = torch.zeros(B, Hn, dtype=wx.dtype)
    Ut = U.t()
    for wx_t in wx.unbind(0):
        pre = torch.addmm(wx_t, h, Ut)
        z = torch.sigmoid(pre + bz)
        c = torch.tanh(pre + bh)
        h = z * h + (zeta * (1 - z) + nu) * c
    return h


class GRUClassifier(nn.Module):
    def __init__(self, inp, hid, ncls):
        super().__init__()
        self.rnn = nn.GRU(inp, hid, batch_first=True)
        self.fc = nn.Linear(hid, ncls)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.fc(h[-1])


print(f"# script scripts/peers/rnn.py torch {torch.__version__} threads {torch.get_num_threads()} "
      f"loadavg {open('/proc/loadavg').read().split()[0]}", flush=True)
for cell in args.cell.split(","):
    for hid in [int(h) for h in args.hidden.split(",")]:
        variants = ["eager", "jit"] if cell == "fastgrnn" else ["aten"]
        for variant in variants:
            torch.manual_seed(0)
            m = FastGRNN(args.input, hid, args.classes) if cell == "fastgrnn" else GRUClassifier(args.input, hid, args.classes)
            m.jit = variant == "jit"
            tag = f"{cell}.I{args.input}_H{hid}_T{args.steps}"
            m.eval()
            x1 = torch.randn(1, args.steps, args.input)
            with torch.no_grad():
                t = timed(lambda: m(x1), warmup=20, min_reps=10, max_reps=2000)
            report(f"{tag}.infer_b1.{variant}", t, 1.0, 1e6, "us", "seq/s")
            m.train()
            B = args.batch
            x = torch.randn(B, args.steps, args.input)
            y = torch.randint(0, args.classes, (B,))
            opt = torch.optim.Adam(m.parameters(), lr=1e-2)

            def step():
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(m(x), y).backward()
                opt.step()
            t = timed(step, warmup=3, min_reps=5, max_reps=50)
            report(f"{tag}.train_b{B}.{variant}", t, float(B), 1e3, "ms", "seq/s")
