"""Jacobians by batched forward mode: every column in one call.

``jacobian_batched(func, wrt, args, kwargs)`` calls the batched forward-mode
code (``compile_forward(func, wrt, batched=True)``) with the identity as its
seed: ``B = n`` directions, ``n`` the number of elements of the ``wrt``
arguments, each argument's seed a block of rows of ``np.eye(n)`` reshaped to
``(n,) + x.shape``.  The output's tangent, ``(n,) + y.shape``, is the
Jacobian with its input axis first: moved to the back and split per
argument, it is ``y.shape + x.shape`` for each.  Large Jacobians take a few
calls, each for a block of columns, to bound memory.

It returns ``None`` when batching does not apply, and ``jacobian`` then
runs one jvp per column: a function that calls a primitive with no
batch-safe rule (``NotBatchable``, remembered per function and ``wrt``), a
``wrt`` argument or an output that is not a float array or a number, or an
error while running the batched code.
"""

from __future__ import annotations

import weakref

import numpy as np

from .forward_batched import NotBatchable

_refused = weakref.WeakKeyDictionary()  # function -> the wrt keys it cannot be batched for

#: The most elements a seed block may hold (32 MB of float64): a Jacobian with
#: more columns is computed a block of columns at a time.
BUDGET = 1 << 22


def jacobian_batched(func, wrt, args, kwargs):
    """The Jacobian of ``func`` with respect to ``wrt`` at ``args``, by batched
    forward mode; ``None`` if batching does not apply (see the module)."""
    from .api import Differentiable, _params_of

    target = func.__wrapped__ if isinstance(func, Differentiable) else func
    found = _derivative(target, wrt)
    if found is None:
        return None
    values = _params_of(target, args, kwargs)
    xs = [values[name] for name in found.wrt]
    if not all(_seedable(x) for x in xs):
        return None
    sizes = [int(np.size(x)) for x in xs]
    if sum(sizes) == 0:
        return None
    try:
        value, tangent = _run(found, args, kwargs, xs, sizes)
    except Exception:  # a case the batched helpers do not cover: one jvp per column
        return None
    if tangent is None:
        return None
    out, start = [], 0
    for x, n in zip(xs, sizes):
        block = np.moveaxis(tangent[start:start + n], 0, -1)
        out.append(np.reshape(np.asarray(block, dtype=float), np.shape(value) + np.shape(x)))
        start += n
    return tuple(out) if isinstance(wrt, (tuple, list)) else out[0]


def _derivative(func, wrt):
    """The batched forward-mode derivative of ``func``, or ``None`` if refused."""
    from .api import derivative

    refused = _refused.setdefault(func, set())
    key = tuple(wrt) if isinstance(wrt, (tuple, list)) else wrt
    if key in refused:
        return None
    try:
        return derivative(func, wrt, mode="batched")
    except NotBatchable:
        refused.add(key)
        return None


def _seedable(x) -> bool:
    """Whether ``x`` is a number or a float array, whose seed is an array."""
    if isinstance(x, bool):
        return False
    if isinstance(x, (int, float, np.integer, np.floating)):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _run(found, args, kwargs, xs, sizes):
    """The output and its tangent along every direction, ``(n,) + y.shape``
    (``None`` if the tangent is not an array of that shape), a block of
    directions per call."""
    n = sum(sizes)
    block = max(1, min(n, BUDGET // max(sizes)))
    value, parts = None, []
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        seeds = dict(zip(found.tangents, _seeds(xs, sizes, lo, hi)))
        value, tangent = found.function(*args, **kwargs, **seeds)
        if isinstance(value, (tuple, list, dict)) or not isinstance(tangent, np.ndarray) \
                or tangent.shape != (hi - lo,) + np.shape(value):
            return value, None
        parts.append(tangent)
    return value, parts[0] if len(parts) == 1 else np.concatenate(parts)


def _seeds(xs, sizes, lo, hi) -> list:
    """Rows ``lo:hi`` of the identity of size ``sum(sizes)``, one block of
    columns per argument, each reshaped to ``(hi - lo,) + x.shape``."""
    out, start = [], 0
    rows = np.arange(lo, hi)
    for x, n in zip(xs, sizes):
        seed = np.zeros((hi - lo, n))
        inside = (rows >= start) & (rows < start + n)
        seed[np.nonzero(inside)[0], rows[inside] - start] = 1.0
        out.append(np.reshape(seed, (hi - lo,) + np.shape(x)))
        start += n
    return out


def prefer_rows(n: int, m: int) -> bool:
    """Whether ``jacobian(mode="auto")`` runs reverse mode, one pullback per
    output element, rather than batched forward mode, for ``n`` inputs and
    ``m`` outputs.

    A pullback costs about a fixed time per operation of the function (about
    50 us for a small one), whatever ``n``; the batched call costs about two
    pullbacks plus work on tangents of ``n`` times the values' size, about
    ``n * n`` elements per operation.  Measured on ``f: R^n -> R^m``
    (elementwise functions, ``W @ h``, sums; ``benchmarks/bench_jacobian.py``)
    the break-even ``m`` is 2 for n = 10 and 30, 4 to 5 for n = 100, 40 to 50
    for n = 300 and 250 for n = 1000; ``m < 2 + n * n / 2500`` follows it
    (and errs towards batched forward mode for large ``n``).
    """
    return m < 2 + n * n / 2500
