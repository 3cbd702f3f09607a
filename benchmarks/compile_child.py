"""Cold-compile and warm-start time of one gradient, in a fresh interpreter.

``run.py`` starts this script twice per run with one ``SOURCEGRAD_CACHE_DIR``:
first with an empty directory (cold: nothing generated yet), then again with
the directory the first run filled (warm).  Inside, with ``time.perf_counter``:

    import numpy                          -> "numpy_import" (not counted)
    make the inputs                       -> not counted
    import sourcegrad, the user module    -> "import"
    g = sg.grad(f, wrt); g(*args)         -> "first_grad"
    g(*args) again                        -> "second_grad" (the steady state)

"start" = import + first_grad: the time from a script's first line to its
first gradient, less NumPy's import.  In a cold run, "compile" is the part
of the first gradient spent in the compiler pipeline (``compile_reverse``,
timed by wrapping it: the compiler is imported inside the timed span, where
the first gradient would import it anyway); a warm run leaves the compiler
alone and reports whether it was imported at all ("compiled").

argv: workload name, "cold" or "warm", then the shapes of its arguments as
JSON (inputs are random: the values do not matter for this timing).  Prints
one JSON object.
"""

from __future__ import annotations

import sys
import time

perf_counter = time.perf_counter

t0 = perf_counter()
import numpy as np  # noqa: E402

t1 = perf_counter()


def main():
    import json

    name, kind = sys.argv[1], sys.argv[2]
    shapes = json.loads(sys.argv[3])
    rng = np.random.default_rng(0)
    args = tuple(float(rng.uniform(1.6, 2.0)) if s is None else rng.standard_normal(s)
                 for s in shapes)

    t2 = perf_counter()
    import sourcegrad as sg
    import workloads

    t3 = perf_counter()
    spent = [0.0]
    if kind == "cold":
        import sourcegrad.api as api
        import sourcegrad.pipeline as pipeline

        compile_reverse = pipeline.compile_reverse

        def timed(*a, **k):
            start = perf_counter()
            try:
                return compile_reverse(*a, **k)
            finally:
                spent[0] += perf_counter() - start

        # wherever the API looks it up: the pipeline module, or a name of its own
        pipeline.compile_reverse = timed
        if getattr(api, "compile_reverse", None) is compile_reverse:
            api.compile_reverse = timed
    t4 = perf_counter()
    f, wrt, _ = workloads.WORKLOADS[name]
    g = sg.grad(f, wrt)
    g(*args)
    t5 = perf_counter()
    g(*args)
    t6 = perf_counter()
    print(json.dumps({
        "numpy_import": t1 - t0,
        "import": t3 - t2,
        "first_grad": t5 - t4,
        "compile": spent[0],
        "compiled": "sourcegrad.pipeline" in sys.modules,
        "second_grad": t6 - t5,
        "start": t5 - t2,
    }))


if __name__ == "__main__":
    main()
