"""Jacobians: batched forward mode against the column loop and the row loop.

    python benchmarks/bench_jacobian.py [--quick] [--threads N]

For ``f: R^n -> R^m`` (elementwise functions, a matrix-vector product, full
reductions), times ``sourcegrad.jacobian`` three ways:

- batched: one call of the batched forward-mode code, ``B = n`` directions
  (``jacobian(mode="forward")``);
- columns: one jvp per input element, the fallback of batched forward mode;
- rows: one pullback per output element (``jacobian(mode="reverse")``).

The last column says which of batched and rows ``jacobian(mode="auto")``
picks (``batched_jacobian.prefer_rows``).

Each time is the median over rounds of the mean of a batch of calls (the
batch sized to last about 0.1 s, garbage collector off), after warm-up, so
compilation is excluded.  Prints a markdown table: medians and the speedup
of batched over the two loops.  BLAS runs on one thread unless ``--threads``
says otherwise (a multithreaded BLAS on a busy machine times its own
spinning).  Standalone: it needs sourcegrad and NumPy.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time


def _threads(argv) -> str:
    if "--threads" in argv:
        return argv[argv.index("--threads") + 1]
    return "1"


if __name__ == "__main__":  # before NumPy loads its BLAS
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _threads(sys.argv[1:])

import numpy as np  # noqa: E402

import sourcegrad as sg  # noqa: E402
from sourcegrad.api import _jacobian_forward
from sourcegrad.batched_jacobian import jacobian_batched, prefer_rows  # noqa: E402


def layer(x, W, b):
    """Elementwise, a matrix-vector product, reductions: R^n -> R^m."""
    h = np.tanh(x) + 0.1 * x * x
    y = W @ h + b
    return np.exp(-y) * np.sum(h) / (1.0 + np.sum(y * y))


def _seconds(fn, target=0.1, rounds=5) -> float:
    """The median over ``rounds`` of the mean time of one call, in seconds."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(target / once))
    times = []
    for _ in range(rounds):
        enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number)
        finally:
            if enabled:
                gc.enable()
    return statistics.median(times)


def _case(n: int, m: int, target: float) -> dict:
    rng = np.random.default_rng(n * 1000 + m)
    args = (rng.standard_normal(n), rng.standard_normal((m, n)) / np.sqrt(n),
            rng.standard_normal(m))
    forward = sg.jacobian(layer, 0, mode="forward")
    reverse = sg.jacobian(layer, 0, mode="reverse")
    expected = _jacobian_forward(layer, 0, args, {})
    assert jacobian_batched(layer, 0, args, {}) is not None, "batched mode refused"
    np.testing.assert_allclose(forward(*args), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reverse(*args), expected, rtol=1e-10, atol=1e-12)
    return {
        "batched": _seconds(lambda: forward(*args), target),
        "columns": _seconds(lambda: _jacobian_forward(layer, 0, args, {}), target),
        "rows": _seconds(lambda: reverse(*args), target),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def main(argv) -> None:
    quick = "--quick" in argv
    target = 0.02 if quick else 0.1
    sizes = [(10, 10), (100, 100), (300, 300), (100, 10), (300, 30), (300, 3), (300, 1),
             (10, 100)]
    if quick:
        sizes = sizes[:2]
    print(f"BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}\n")
    print("f(x, W, b) = exp(-y) * sum(h) / (1 + sum(y * y)), y = W @ h + b, "
          "h = tanh(x) + 0.1 x^2; J = df/dx, shape (m, n)\n")
    print("| n | m | batched (ms) | columns (ms) | rows (ms) | batched vs columns "
          "| batched vs rows | auto picks |")
    print("|---:|---:|---:|---:|---:|---:|---:|:---|")
    for n, m in sizes:
        t = _case(n, m, target)
        print(f"| {n} | {m} | {_ms(t['batched'])} | {_ms(t['columns'])} | {_ms(t['rows'])} "
              f"| {t['columns'] / t['batched']:.1f}x | {t['rows'] / t['batched']:.2f}x "
              f"| {'rows' if prefer_rows(n, m) else 'batched'} |",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
