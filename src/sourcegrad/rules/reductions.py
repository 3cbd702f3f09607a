"""Reductions: ``sum`` (and the builtin), ``mean``, ``max``/``min``, ``prod``,
``var``/``std``, ``cumsum``, norms.

Parameters after ``dtype`` are keyword-only: NumPy's next positional
parameter is ``out``, which sourcegrad does not support (nor ``where=``).
Each forward rule follows its reverse rule; a reduction's tangent is the
same reduction of the tangent where the reduction is linear, and a
``dtype=`` converts the tangent to the output's type.
"""

import builtins

import numpy as np

from ..runtime import (
    cast_tangent, extremum_grad, extremum_tangent, norm_grad, norm_tangent, prod_grad,
    prod_tangent, rebroadcast, sign_safe_div, unbroadcast, uncumsum, unreduce, unsum, var_grad,
    var_tangent,
)
from .registry import d, forward, ndim, reverse


@reverse(np.sum)
def sum(y, a, axis=None, dtype=None, *, keepdims=False, initial=None):
    if (axis is None and not keepdims) or keepdims is True:  # d[y] broadcasts as it is
        d[a] = np.broadcast_to(d[y], np.shape(a))
    else:
        d[a] = unreduce(d[y], a, axis, keepdims)


@forward(np.sum)
def sum_forward(y, a, axis=None, dtype=None, *, keepdims=False, initial=None):
    if axis is None and not keepdims and dtype is None:
        d[y] = np.sum(d[a])
    elif not keepdims and dtype is None:
        d[y] = np.sum(d[a], axis=axis)
    elif dtype is None:
        d[y] = np.sum(d[a], axis=axis, keepdims=keepdims)
    else:
        d[y] = cast_tangent(np.sum(d[a], axis=axis, keepdims=keepdims), y)


@reverse(builtins.sum)
def builtin_sum(y, iterable, start=0):
    d[iterable] = unsum(d[y], iterable)
    d[start] = unbroadcast(d[y], start)


@forward(builtins.sum)
def builtin_sum_forward(y, iterable, start=0):
    d[y] = rebroadcast(sum(d[iterable]), y)
    d[y] = rebroadcast(d[start], y)


@reverse(np.mean)
def mean(y, a, axis=None, dtype=None, *, keepdims=False):
    if axis is None and not keepdims:
        d[a] = np.broadcast_to(d[y] / np.size(a), np.shape(a))
    else:
        d[a] = unreduce(d[y] * (np.size(y) / np.size(a)), a, axis, keepdims)


@forward(np.mean)
def mean_forward(y, a, axis=None, dtype=None, *, keepdims=False):
    if axis is None and not keepdims and dtype is None:
        d[y] = np.mean(d[a])
    elif not keepdims and dtype is None:
        d[y] = np.mean(d[a], axis=axis)
    elif dtype is None:
        d[y] = np.mean(d[a], axis=axis, keepdims=keepdims)
    else:
        d[y] = cast_tangent(np.mean(d[a], axis=axis, keepdims=keepdims), y)


@reverse(np.max, np.amax)
def max(y, a, axis=None, *, keepdims=False, initial=None):
    if initial is None and keepdims is True and ndim(a) >= 1:  # y broadcasts against a
        ties = a == y
        d[a] = ties * (d[y] / ties.sum(axis=axis, keepdims=True, dtype=a.dtype))
    elif initial is None:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims)
    else:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims, initial)


@forward(np.max, np.amax)
def max_forward(y, a, axis=None, *, keepdims=False, initial=None):
    if initial is None:
        d[y] = extremum_tangent(d[a], a, y, axis, keepdims)
    else:
        d[y] = extremum_tangent(d[a], a, y, axis, keepdims, initial)


@reverse(np.min, np.amin)
def min(y, a, axis=None, *, keepdims=False, initial=None):
    if initial is None and keepdims is True and ndim(a) >= 1:  # y broadcasts against a
        ties = a == y
        d[a] = ties * (d[y] / ties.sum(axis=axis, keepdims=True, dtype=a.dtype))
    elif initial is None:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims)
    else:
        d[a] = extremum_grad(d[y], a, y, axis, keepdims, initial)


@forward(np.min, np.amin)
def min_forward(y, a, axis=None, *, keepdims=False, initial=None):
    if initial is None:
        d[y] = extremum_tangent(d[a], a, y, axis, keepdims)
    else:
        d[y] = extremum_tangent(d[a], a, y, axis, keepdims, initial)


@reverse(np.prod)
def prod(y, a, axis=None, dtype=None, *, keepdims=False):
    d[a] = prod_grad(d[y], a, y, axis, keepdims)


@forward(np.prod)
def prod_forward(y, a, axis=None, dtype=None, *, keepdims=False):
    if dtype is None:
        d[y] = prod_tangent(d[a], a, y, axis, keepdims)
    else:
        d[y] = cast_tangent(prod_tangent(d[a], a, y, axis, keepdims), y)


@reverse(np.var)
def var(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    d[a] = var_grad(d[y], a, axis, ddof, keepdims)


@forward(np.var)
def var_forward(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    if dtype is None:
        d[y] = var_tangent(d[a], a, axis, ddof, keepdims)
    else:
        d[y] = cast_tangent(var_tangent(d[a], a, axis, ddof, keepdims), y)


@reverse(np.std)
def std(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    d[a] = var_grad(sign_safe_div(d[y], 2.0 * y), a, axis, ddof, keepdims)


@forward(np.std)
def std_forward(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    if dtype is None:
        d[y] = sign_safe_div(var_tangent(d[a], a, axis, ddof, keepdims), 2.0 * y)
    else:
        d[y] = cast_tangent(sign_safe_div(var_tangent(d[a], a, axis, ddof, keepdims), 2.0 * y), y)


@reverse(np.cumsum)
def cumsum(y, a, axis=None, dtype=None):
    d[a] = uncumsum(d[y], a, axis)


@forward(np.cumsum)
def cumsum_forward(y, a, axis=None, dtype=None):
    if axis is None and dtype is None:
        d[y] = np.cumsum(d[a])
    elif dtype is None:
        d[y] = np.cumsum(d[a], axis=axis)
    else:
        d[y] = cast_tangent(np.cumsum(d[a], axis=axis), y)


@reverse(np.linalg.norm)
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[x] = norm_grad(d[y], x, y, ord, axis, keepdims)


@forward(np.linalg.norm)
def norm_forward(y, x, ord=None, axis=None, keepdims=False):
    if ord is None and axis is None and not keepdims:
        d[y] = sign_safe_div(np.sum(d[x] * x), y)
    else:
        d[y] = norm_tangent(d[x], x, y, ord, axis, keepdims)
