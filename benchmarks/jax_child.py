"""The JAX columns, measured in a child process (JAX needs Python >= 3.12).

``run.py`` starts this script with the interpreter of the JAX virtual
environment (``SOURCEGRAD_BENCH_JAX_PYTHON``, else ``benchmarks/.venv-jax``),
passing the timing settings as JSON in argv[1].  It measures, per workload,
the hand-written NumPy gradient, JAX eager (``jax.grad`` without ``jit``) and
``jax.jit(jax.grad)`` in this one process, so that their ratios are taken
within one interpreter; ``jit``'s first call (tracing and XLA compilation) is
reported separately.  Each JAX result is checked against the hand-written
gradient before timing.  Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import traceback

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

import _timing  # noqa: E402
import handwritten  # noqa: E402
import workloads  # noqa: E402


def jax_functions(jnp):
    def matvec(W, x):
        return jnp.sum(jnp.tanh(W @ x))

    def mlp(W1, b1, W2, b2, X, Y):
        h = jnp.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - jnp.max(z, axis=1, keepdims=True)
        logp = z - jnp.log(jnp.sum(jnp.exp(z), axis=1, keepdims=True))
        return -jnp.sum(Y * logp) / X.shape[0]

    def rnn(W, U, b, xs, h0):
        h = h0
        loss = 0.0
        for t in range(xs.shape[0]):
            h = jnp.tanh(W @ h + U @ xs[t] + b)
            loss = loss + jnp.sum(h * h)
        return loss

    def scalar_loop(x):
        for i in range(100):
            x = jnp.sin(x) * x
        return x

    def elementwise(x):
        return jnp.sum(jnp.sin(x) * jnp.exp(-x * x) + x ** 2)

    def rosenbrock(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return {"matvec": matvec, "mlp": mlp, "rnn": rnn, "scalar_loop": scalar_loop,
            "elementwise": elementwise, "hessian": rosenbrock}


def main():
    settings = json.loads(sys.argv[1])
    out = {"python": platform.python_version(), "numpy": np.__version__, "workloads": {}}
    try:
        import jax
        import jaxlib

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
    except Exception as exc:  # reported, not raised: the parent prints the note
        out["error"] = f"cannot import jax: {exc!r}"
        print(json.dumps(out))
        return
    out["jax"] = jax.__version__
    out["jaxlib"] = jaxlib.__version__
    out["devices"] = [str(d) for d in jax.devices()]
    functions = jax_functions(jnp)

    for name in settings["workloads"]:
        row = out["workloads"][name] = {"cells": {}}
        try:
            args = workloads.inputs(name)
            hand = handwritten.GRADIENTS[name]
            reference = hand(*args)
            jargs = tuple(a if isinstance(a, float) else jnp.asarray(a) for a in args)
            f = functions[name]
            if name == "hessian":
                eager, jitted = jax.hessian(f), jax.jit(jax.hessian(f))
            else:
                wrt = workloads.WORKLOADS[name][1]
                eager = jax.grad(f, argnums=wrt)
                jitted = jax.jit(jax.grad(f, argnums=wrt))

            def block(r):
                return jax.block_until_ready(r)

            systems = {"jax_hand": lambda: hand(*args)}
            compile_s = _timing.first_call(lambda: block(jitted(*jargs)))
            row["jit_first_call"] = compile_s
            for key, fn in (("jax_eager", eager), ("jax_jit", jitted)):
                result = block(fn(*jargs))
                result = tuple(result) if isinstance(result, (tuple, list)) else result
                if handwritten.close(result, reference):
                    systems[key] = (lambda fn=fn: block(fn(*jargs)))
                else:
                    row["cells"][key] = {"error": "gradient differs from the hand-written one"}
            slow = name in settings.get("slow", ())
            load = _timing.CpuLoad()
            timed = _timing.measure(
                systems, target=settings["target"], repeats=settings["repeats"],
                max_seconds=settings["max_seconds"] if slow else None)
            row["other_cpu"] = load.other_share()
            for key, t in timed.items():
                row["cells"][key] = t
        except Exception as exc:
            row["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
