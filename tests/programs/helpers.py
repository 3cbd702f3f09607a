"""Shared helpers of the program corpora: the independent reference gradient,
the assertions on a gradient's type, and inputs away from kinks.

A copy of the helpers of ``test_straightline.py`` (which keeps its own), made
reusable: ``Corpus`` registers a program once per set of inputs, so that one
function can be checked on both sides of a branch.
"""

from __future__ import annotations

import numpy as np
import pytest

import sourcegrad


def numeric_grad(f, args, kwargs, index, eps=1e-6):
    """Central differences of the scalar ``f`` in the argument ``index`` (an
    int for a positional argument, a name for a keyword), in float64."""
    args = list(args)
    kwargs = dict(kwargs)

    def get():
        return kwargs[index] if isinstance(index, str) else args[index]

    def call(value):
        if isinstance(index, str):
            return float(f(*args, **{**kwargs, index: value}))
        return float(f(*args[:index], value, *args[index + 1:], **kwargs))

    x = get()
    if isinstance(x, (list, tuple)):  # a container: element by element
        def of_item(k):
            def g(value):
                whole = type(x)(value if j == k else v for j, v in enumerate(x))
                if isinstance(index, str):
                    return f(*args, **{**kwargs, index: whole})
                return f(*args[:index], whole, *args[index + 1:], **kwargs)
            return g

        return type(x)(numeric_grad(of_item(k), [v], {}, 0, eps) for k, v in enumerate(x))
    if not isinstance(x, np.ndarray):
        return (call(float(x) + eps) - call(float(x) - eps)) / (2 * eps)
    # float32 inputs are perturbed in float64: eps is below float32's resolution
    base = np.array(x, dtype=np.float64)
    out = np.zeros(base.shape)
    for i in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[i] += eps
        down[i] -= eps
        out[i] = (call(up) - call(down)) / (2 * eps)
    return out


def assert_like(g, x):
    """``g`` has the type, shape and dtype of what it differentiates."""
    if isinstance(x, (list, tuple)):
        assert type(g) is type(x) and len(g) == len(x), (type(g), g)
        for gi, xi in zip(g, x):
            assert_like(gi, xi)
    elif isinstance(x, np.ndarray):
        assert isinstance(g, np.ndarray), type(g)
        assert g.shape == x.shape, (g.shape, x.shape)
        assert g.dtype == x.dtype, (g.dtype, x.dtype)
    elif isinstance(x, np.generic):
        assert type(g) is type(x), type(g)
    elif isinstance(x, (float, int)) and not isinstance(x, bool):
        assert type(g) is float, type(g)


def position(f, wrt, kwargs):
    """The positional index or keyword name of ``wrt`` in ``f``'s parameters."""
    code = f.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    if wrt in kwargs:
        return wrt
    if isinstance(wrt, str):
        i = names.index(wrt)
    else:
        i = wrt % code.co_argcount
    return i if i < code.co_argcount else names[i]


def check_program(f, args, kwargs=None, wrt=0, tol=1e-6):
    """``f``'s gradient at ``args``: ``sourcegrad.check_grads``, then every
    ``wrt`` entry against central differences, with its type, shape and dtype."""
    kwargs = kwargs or {}
    if not kwargs:
        sourcegrad.check_grads(f, args, modes=("reverse", "forward"))
    grads = sourcegrad.grad(f, wrt=wrt)(*args, **kwargs)
    wrts = wrt if isinstance(wrt, tuple) else (wrt,)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    assert len(grads) == len(wrts)
    for w, g in zip(wrts, grads):
        where = position(f, w, kwargs)
        x = kwargs[where] if isinstance(where, str) else args[where]
        assert_like(g, x)
        expected = numeric_grad(f, args, kwargs, where)
        loose = isinstance(x, np.ndarray) and x.dtype == np.float32
        pairs = zip(g, expected) if isinstance(x, (list, tuple)) else [(g, expected)]
        for got, want in pairs:
            np.testing.assert_allclose(
                np.asarray(got, dtype=np.float64), want,
                rtol=2e-2 if loose else tol, atol=2e-2 if loose else tol,
            )


def arrays(seed: int):
    """``arr(*shape, dtype=, low=, high=)``: values in ``[low, high]`` away from
    zero and kinks, distinct so that max has no ties; reproducible from ``seed``."""
    rng = np.random.default_rng(seed)

    def arr(*shape, dtype=np.float64, low=0.5, high=1.5):
        size = int(np.prod(shape))
        values = np.linspace(low, high, size) + 0.01 * rng.standard_normal(size)
        return rng.permutation(values).reshape(shape).astype(dtype)

    return arr


class Corpus:
    """Programs with their inputs, as ``pytest.param`` rows of
    ``(f, args, kwargs, wrt, tol)``.  ``corpus.program(...)`` decorates a
    function; stack several to check it on several inputs (the ids get a
    suffix ``-<case>``)."""

    def __init__(self):
        self.params = []
        self.functions = set()

    def program(self, *args, wrt=0, kwargs=None, tol=1e-6, case=None, skip=None):
        def register(f):
            name = f.__name__ if case is None else f"{f.__name__}-{case}"
            marks = [pytest.mark.skip(reason=skip)] if skip else []
            # decorators run bottom-up: insert so that the rows read top-down
            self.params.insert(len(self.params) - self._count(f), pytest.param(
                f, args, kwargs, wrt, tol, id=name, marks=marks))
            self.functions.add(f)
            return f

        return register

    def _count(self, f) -> int:
        """How many rows of ``f`` are at the end already (stacked decorators)."""
        n = 0
        for row in reversed(self.params):
            if row.values[0] is not f:
                break
            n += 1
        return n
