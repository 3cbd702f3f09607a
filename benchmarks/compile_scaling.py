"""How the compiler's time grows with the size of the function.

Generates straight-line NumPy functions of 10, 100 and 1,000 lines (each line
one or two operations on earlier values, all of them reaching the output),
writes each to a fresh temporary ``.py`` file, imports it (sourcegrad reads
source from files) and times ``sourcegrad.pipeline.compile_reverse(f, 0)``:
the whole compiler, parse to emitted text, without writing or importing the
result.  Beside it, the first call of ``sg.grad(f)`` on another freshly
generated module of the same size: compile, write the cache file, import it,
run it once.  Every repeat uses newly generated modules (another seed), so
nothing is cached.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import perf_counter

TEMPLATES = (
    "{t} = {a} * {b}",
    "{t} = np.sin({a}) + {b}",
    "{t} = np.tanh({a}) * 0.5",
    "{t} = {a} - 0.25 * {b}",
    "{t} = np.exp(-{a} * {a}) + {b}",
    "{t} = {a} / (1.0 + {b} * {b})",
    "{t} = np.cos({a}) * {b}",
)


def generate(lines: int, seed: int) -> str:
    """A module defining ``f(x, y)`` whose body has ``lines`` lines."""
    rng = random.Random(seed)
    names = ["x", "y"]
    body = []
    for i in range(lines - 1):  # the return is the last line
        a = names[-1]  # the newest value: every line reaches the output
        b = rng.choice(names[-4:])
        t = f"t{i}"
        body.append("    " + rng.choice(TEMPLATES).format(t=t, a=a, b=b))
        names.append(t)
    body.append(f"    return np.sum({names[-1]})")
    return "import numpy as np\n\n\ndef f(x, y):\n" + "\n".join(body) + "\n"


def _import(text: str, directory: Path, name: str):
    path = directory / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def measure(sizes=(10, 100, 1000), repeats: int = 3) -> dict:
    import numpy as np

    import sourcegrad as sg
    from sourcegrad.pipeline import compile_reverse

    x, y = np.linspace(-1.0, 1.0, 8), np.linspace(0.5, 1.5, 8)
    out = {}
    with tempfile.TemporaryDirectory(prefix="sourcegrad-bench-scaling-") as tmp:
        directory = Path(tmp)
        for n in sizes:
            compile_s, first_s, generated_lines = [], [], 0
            for r in range(repeats):
                name = f"bench_scaling_{n}_{r}"
                module = _import(generate(n, seed=1000 * n + 2 * r), directory, name)
                start = perf_counter()
                compiled = compile_reverse(module.f, 0)
                compile_s.append(perf_counter() - start)
                generated_lines = compiled.text.count("\n")
                del sys.modules[name]
                if n >= 1000 and r > 0:
                    continue  # one first call of a 1,000-line function is enough
                other = _import(generate(n, seed=1000 * n + 2 * r + 1), directory, name + "_b")
                start = perf_counter()
                sg.grad(other.f)(x, y)
                first_s.append(perf_counter() - start)
                del sys.modules[name + "_b"]
            out[str(n)] = {
                "lines": n,
                "compile_median": statistics.median(compile_s),
                "compile_all": compile_s,
                "first_grad_median": statistics.median(first_s),
                "first_grad_all": first_s,  # one run only for 1,000 lines
                "generated_lines": generated_lines,
                "repeats": repeats,
            }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
