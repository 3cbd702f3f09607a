"""Reductions: ``sum`` (and the builtin), ``mean``, ``max``/``min``, ``prod``,
``var``/``std``, ``cumsum``, norms.

Parameters after ``dtype`` are keyword-only: NumPy's next positional
parameter is ``out``, which sourcegrad does not support (nor ``where=``).
"""

import builtins

import numpy as np

from ..runtime import (
    extremum_grad, norm_grad, prod_grad, sign_safe_div, unbroadcast, uncumsum, unreduce, unsum,
    var_grad,
)
from .registry import d, reverse


@reverse(np.sum)
def sum(y, a, axis=None, dtype=None, *, keepdims=False, initial=None):
    if axis is None and not keepdims:
        d[a] = np.broadcast_to(d[y], np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims)


@reverse(builtins.sum)
def builtin_sum(y, iterable, start=0):
    d[iterable] = unsum(d[y], iterable)
    d[start] = unbroadcast(d[y], start)


@reverse(np.mean)
def mean(y, a, axis=None, dtype=None, *, keepdims=False):
    if axis is None and not keepdims:
        d[a] = np.broadcast_to(d[y] / np.size(a), np.shape(a))
    else:
        d[a] = unreduce(d[y] * (np.size(y) / np.size(a)), a, axis, keepdims)


@reverse(np.max, np.amax)
def max(y, a, axis=None, *, keepdims=False, initial=None):
    if initial is None:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims)
    else:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims, initial)


@reverse(np.min, np.amin)
def min(y, a, axis=None, *, keepdims=False, initial=None):
    if initial is None:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims)
    else:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims, initial)


@reverse(np.prod)
def prod(y, a, axis=None, dtype=None, *, keepdims=False):
    d[a] = prod_grad(d[y], a, y, axis, keepdims)


@reverse(np.var)
def var(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    d[a] = var_grad(d[y], a, axis, ddof, keepdims)


@reverse(np.std)
def std(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    d[a] = var_grad(sign_safe_div(d[y], 2.0 * y), a, axis, ddof, keepdims)


@reverse(np.cumsum)
def cumsum(y, a, axis=None, dtype=None):
    d[a] = uncumsum(d[y], a, axis)


@reverse(np.linalg.norm)
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[x] = norm_grad(d[y], x, y, ord, axis, keepdims)
