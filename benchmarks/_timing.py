"""Timing: timeit-style batches, interleaved across systems, median of batches.

For one workload, every system is first warmed up (a few calls) and
calibrated: the number of calls per batch is chosen so that one batch takes
at least ``target`` seconds (at least one call).  Then ``repeats`` rounds run;
in each round every system runs one batch, in turn, so that a slow drift of
the machine (another process, frequency scaling) hits all systems alike.  A
system's time is the median over its batches of (batch time / calls); the
minimum is kept too.  The garbage collector is off inside a batch, as in
``timeit``.  Clock: ``time.perf_counter``.

This module is shared by the main runner and by the JAX child process, so it
imports nothing beyond the standard library.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from pathlib import Path

perf_counter = time.perf_counter


def _batch(fn, number: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = perf_counter()
        for _ in range(number):
            fn()
        return perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def calibrate(fn, target: float, budget: float) -> int:
    """Calls per batch so that one batch takes about ``target`` seconds; never
    more than ``budget`` seconds of calibration for a slow function."""
    number = 1
    spent = 0.0
    while True:
        t = _batch(fn, number)
        spent += t
        if t >= target or spent >= budget:
            return number
        # aim a little above the target, grow at least twofold
        guess = number * target * 1.2 / max(t, 1e-9)
        number = max(number * 2, int(math.ceil(guess)))


def measure(systems: dict, *, target: float, repeats: int, warmup: int = 3,
            budget: float = 1.0, max_seconds: float | None = None) -> dict:
    """Time each zero-argument callable in ``systems`` (name -> fn).

    Returns name -> {"median": s, "min": s, "number": calls per batch,
    "repeats": batches}.  ``max_seconds`` caps the rounds for a slow set of
    systems (at least 3 rounds run).
    """
    numbers = {}
    for name, fn in systems.items():
        for _ in range(warmup):
            fn()
        numbers[name] = calibrate(fn, target, budget)
    samples = {name: [] for name in systems}
    start = perf_counter()
    for r in range(repeats):
        order = list(systems)
        # rotate the order each round: no system always runs first
        k = r % len(order)
        for name in order[k:] + order[:k]:
            n = numbers[name]
            samples[name].append(_batch(systems[name], n) / n)
        if max_seconds is not None and r >= 2 and perf_counter() - start > max_seconds:
            break
    return {
        name: {
            "median": statistics.median(values),
            "min": min(values),
            "number": numbers[name],
            "repeats": len(values),
        }
        for name, values in samples.items()
    }


def first_call(fn) -> float:
    """Seconds of one call (the first: it includes any compilation)."""
    start = perf_counter()
    fn()
    return perf_counter() - start


def fmt_time(seconds) -> str:
    """``3.52 us``, ``1.27 ms``, ``2.10 s``: three significant digits."""
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            if value >= 100:
                return f"{value:,.0f} {unit}"
            if value >= 10:
                return f"{value:.1f} {unit}"
            return f"{value:.2f} {unit}"
    return "-"


class CpuLoad:
    """How busy other processes kept the machine from now on: the share of
    all cores' time they used (from /proc/stat, less this process's own and
    its children's CPU time)."""

    def __init__(self):
        self.start = self._read()

    @staticmethod
    def _read():
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        except OSError:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        # user nice system idle iowait irq softirq steal (guest time is in user)
        values = [int(v) / ticks for v in fields[:8]]
        busy = sum(values) - values[3] - values[4]
        t = os.times()
        return busy, t.user + t.system + t.children_user + t.children_system, perf_counter()

    def other_share(self):
        end = self._read()
        if self.start is None or end is None:
            return None
        busy, own, wall = (e - s for e, s in zip(end, self.start))
        if wall <= 0:
            return None
        return max(0.0, (busy - own) / (wall * (os.cpu_count() or 1)))


def wait_until_idle(limit: float, threshold: float = 0.10, window: float = 0.5) -> float:
    """Wait, at most ``limit`` seconds, until other processes use less than
    ``threshold`` of the machine's CPU over ``window`` seconds.  Returns the
    seconds waited (0.0 if it was idle, ``limit`` or more if it never was)."""
    start = perf_counter()
    while True:
        load = CpuLoad()
        time.sleep(window)
        share = load.other_share()
        waited = perf_counter() - start
        if share is None or share < threshold:
            return max(0.0, waited - window)  # the last window was idle
        if waited >= limit:
            return waited


#: glibc malloc settings that keep freed memory in the process's heap, so a
#: new large array reuses pages instead of faulting in fresh ones from the
#: kernel, which costs up to ~20 us per 4 KiB page on some virtual machines
#: (memory handed back to the host) and would charge each system for its
#: allocator traffic rather than its arithmetic
MALLOC_KEEP = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**31),
               "MALLOC_TOP_PAD_": str(2**28)}


def keep_freed_memory() -> None:
    """Restart this script with ``MALLOC_KEEP`` set (glibc reads it when a
    process starts), unless it is set already; child processes inherit it."""
    import sys

    if not sys.platform.startswith("linux") or keeping_freed_memory():
        return
    os.execve(sys.executable, [sys.executable, *sys.argv],
              dict(os.environ, SOURCEGRAD_BENCH_MALLOC_KEEP="1", **MALLOC_KEEP))


def keeping_freed_memory() -> bool:
    return os.environ.get("SOURCEGRAD_BENCH_MALLOC_KEEP") == "1"
