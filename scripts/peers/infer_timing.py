"""The batch-1 timing loop of the inference peers (resnet32_infer.py, mobilenet_v1_infer.py).

time_forward(m, x, name, warmup, iters) runs `warmup` untimed and `iters` timed forwards of m on x
under torch.no_grad() and prints, as `name value` lines, the median and p90 wall time and the
median thread CPU time (time.thread_time; with one thread the whole forward) in ms, and the
thread count.
"""
import statistics
import time

import torch


def time_forward(m, x, name, warmup, iters):
    with torch.no_grad():
        for _ in range(warmup):
            m(x)
        wall, cpu = [], []
        for _ in range(iters):
            c0 = time.thread_time()
            t0 = time.perf_counter()
            m(x)
            t1 = time.perf_counter()
            c1 = time.thread_time()
            wall.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
    wall.sort()
    print(f"{name}.eval.ms.med {statistics.median(wall):.3f}")
    print(f"{name}.eval.ms.p90 {wall[int(0.9 * len(wall))]:.3f}")
    print(f"{name}.eval.cpu_ms.med {statistics.median(cpu):.3f}")
    print(f"{name}.threads {torch.get_num_threads()}")
