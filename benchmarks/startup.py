"""Cold-compile and warm-start times of the quick-start example, in fresh processes.

    python benchmarks/startup.py [--runs N]

Each child process imports NumPy, then sourcegrad and examples/quickstart.py,
and computes the example's first gradient (``value_and_grad`` of ``loss``
with respect to W and b).  "cold" runs with an empty cache directory (the
compiler runs and writes the module), "warm" with the cache the cold run
left.  Reported: the median over N runs of the time after ``import numpy``
(the part sourcegrad adds), and of ``import numpy`` itself for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
t1 = time.perf_counter()
sys.path.insert(0, {examples!r})
import sourcegrad as sg
import quickstart
rng = np.random.default_rng(0)
W, b, x = rng.standard_normal((3, 4)), np.zeros(3), rng.standard_normal(4)
y = np.array([0.5, -0.25, 0.0])
sg.value_and_grad(quickstart.loss, wrt=("W", "b"))(W, b, x, y)
t2 = time.perf_counter()
print(json.dumps({{"numpy": t1 - t0, "after": t2 - t1,
                  "compiled": "sourcegrad.pipeline" in sys.modules}}))
"""


def child(cache: str) -> dict:
    """One fresh process; bytecode files are allowed, as on a user's machine."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["SOURCEGRAD_CACHE_DIR"] = cache
    script = CHILD.format(examples=str(ROOT / "examples"))
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def measure(runs: int) -> dict:
    cold, warm, numpy = [], [], []
    with tempfile.TemporaryDirectory() as cache:  # writes the package's own .pyc files
        child(cache)
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            first = child(cache)
            assert first["compiled"]
            cold.append(first["after"])
            second = child(cache)
            assert not second["compiled"], "a warm start compiled"
            warm.append(second["after"])
            numpy.append(second["numpy"])
    return {"cold_ms": 1e3 * statistics.median(cold), "warm_ms": 1e3 * statistics.median(warm),
            "numpy_import_ms": 1e3 * statistics.median(numpy), "runs": runs}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    result = measure(parser.parse_args(argv).runs)
    print("| quick-start example | median |\n|---|---|")
    print(f"| import numpy | {result['numpy_import_ms']:.1f} ms |")
    print(f"| cold: sourcegrad import + compile + first gradient | {result['cold_ms']:.1f} ms |")
    print(f"| warm: sourcegrad import + load + first gradient | {result['warm_ms']:.1f} ms |")
    return result


if __name__ == "__main__":
    main()
