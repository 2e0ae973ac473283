#!/usr/bin/python3
"""Runs a peer script with its step clock switched to this thread's CPU time.

usage: thread_cpu_clock.py SCRIPT [ARGS...]   (run from the script's folder)

The peer scripts time each step with time.perf_counter(). On a machine shared with other work,
wall time counts the slices the scheduler gave to others; with one compute thread
(PEER_THREADS=1 OMP_NUM_THREADS=1, so PyTorch computes on the calling thread, backward included)
time.thread_time() counts only this thread's CPU time. This wrapper swaps the clock and runs the
script unchanged, so its "ms" figures become CPU milliseconds per step: the counterpart of
`shears bench train --threads 1`'s `train_step.thread_cpu` lines. Not for multi-threaded runs.
"""
import os
import runpy
import sys
import time

if len(sys.argv) < 2:
    sys.exit("usage: thread_cpu_clock.py SCRIPT [ARGS...]")
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
time.perf_counter = time.thread_time
print("# clock time.thread_time (CPU time of the calling thread) via thread_cpu_clock.py")
runpy.run_path(script, run_name="__main__")
