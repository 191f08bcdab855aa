"""Shared measuring helpers for the benchmarks: interleaved best-of timing and traced peak memory."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def interleaved(fns: list[Callable[[], Any]], repeat: int) -> list[tuple[float, Any]]:
    """Best wall time of each function over ``repeat`` rounds, run in turn each round so that
    the machine's load (shared, noisy) falls on all of them alike."""
    best = [float("inf")] * len(fns)
    outs: list[Any] = [None] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return list(zip(best, outs, strict=True))


def peak_mib(fn: Callable[[], Any]) -> float:
    """Peak memory allocated through Python (tracemalloc) while ``fn`` runs, in MiB."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20
