"""Helpers of batched forward mode: tangents with a leading batch axis.

In the code that ``compile_forward(func, wrt, batched=True)`` generates, the
tangent of every value ``x`` has the shape ``(B,) + np.shape(x)``: ``B``
directions at once (a Python float's tangent is an array of shape ``(B,)``;
a list's, a list of its items' tangents).  These helpers keep that true
where a forward rule depends on ranks or axes: they take every rank from
the tangent itself (``t.ndim - 1`` is its value's rank), never from a value
that may have been rebound since.  Re-exported by ``sourcegrad.runtime``.

>>> t = np.arange(6.0).reshape(3, 2)          # 3 directions of a (2,) value
>>> batched_lift(t, np.ones((4, 2))).shape    # aligned with a (4, 2) result
(3, 1, 2)
>>> batched_index(np.zeros((3, 4, 5, 6)), (np.array([0, 1]), slice(None), 2)).shape
(3, 2, 5)
"""

from __future__ import annotations

import operator

import numpy as np

from .errors import SourceGradError
from .runtime import (_axes, _expand, _is_vector_norm, _prod_others, norm_grad,
                      sign_safe_div)

__all__ = [
    "batched_size", "batched_zeros", "batched_array", "batched_lift", "batched_rebroadcast",
    "batched_cast", "batched_index", "batched_setitem", "batched_owned", "batched_sum", "batched_mean",
    "batched_cumsum", "batched_extremum", "batched_prod", "batched_var", "batched_norm",
    "batched_builtin_sum", "batched_matmul", "batched_dot", "batched_outer", "batched_inner",
    "batched_reshape", "batched_transpose", "batched_swapaxes", "batched_moveaxis",
    "batched_concatenate", "batched_stack", "batched_hstack", "batched_vstack",
]


def _broken(what: str) -> SourceGradError:
    return SourceGradError(f"sourcegrad internal error: a batched tangent {what}")


# -- the batch axis -----------------------------------------------------------


def batched_size(*tangents) -> int:
    """``B``: the length of the batch axis of the first array among ``tangents``."""
    for t in tangents:
        if isinstance(t, dict):
            t = list(t.values())
        if isinstance(t, (list, tuple)):
            try:
                return batched_size(*t)
            except SourceGradError:
                continue
        elif np.ndim(t) >= 1:
            return np.shape(t)[0]
    raise _broken("has no batch axis")


def batched_zeros(x, n: int):
    """A zero tangent of ``x`` for ``n`` directions: containers item by item."""
    if isinstance(x, dict):
        return {k: batched_zeros(v, n) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(batched_zeros(v, n) for v in x)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return np.zeros((n,))
    x = np.asarray(x)
    return np.zeros((n,) + x.shape, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)


def batched_array(t):
    """The tangent of a value NumPy reads as one array: a list's item tangents
    stacked on axis 1, after the batch axis."""
    if isinstance(t, (list, tuple)):
        return np.stack([batched_array(item) for item in t], axis=1)
    return t


def _lift_to(t, rank: int):
    """``t`` with axes of length 1 after the batch axis, for a value of ``rank``."""
    extra = rank + 1 - np.ndim(t)
    if extra < 0:
        raise _broken(f"of rank {np.ndim(t)} does not fit a value of rank {rank}")
    return t if extra == 0 else np.reshape(t, np.shape(t)[:1] + (1,) * extra + np.shape(t)[1:])


def batched_lift(t, like):
    """``t`` aligned with the result ``like`` of a broadcasting operation: its
    value's axes at the end, as NumPy broadcasting aligns them.  A list
    result (``[a] * 2`` joins lists) has no batched form."""
    if isinstance(like, (list, tuple)):
        raise _broken("of a list operation has no batched form")
    return _lift_to(batched_array(t), np.ndim(like))


def batched_rebroadcast(t, like):
    """The lifted term ``t`` broadcast to the tangent shape of the result ``like``."""
    shape = np.shape(t)[:1] + np.shape(like)
    if np.shape(t) == shape:
        return t
    if np.ndim(t) != len(shape):
        raise _broken(f"of shape {np.shape(t)} cannot take the shape {shape}")
    return np.broadcast_to(t, shape)


def batched_cast(t, like):
    """The tangent ``t`` of a value converted to ``like``'s type: in ``like``'s
    float type, zero for an integer or boolean ``like`` (a step function)."""
    t = batched_array(t)
    n = np.shape(t)[0]
    kind = np.asarray(like).dtype.kind
    if isinstance(like, bool) or kind not in "fc":
        return np.zeros((n,) + np.shape(like))
    dtype = like.dtype if isinstance(like, (np.ndarray, np.generic)) else np.float64
    t = np.reshape(t, (n,) + np.shape(like))
    return t if t.dtype == dtype else np.asarray(t, dtype=dtype)


# -- indexing -----------------------------------------------------------------


def _parts(index, ndim: int) -> tuple:
    """``index`` as a tuple without ``...`` (spelled out for a value of rank ``ndim``)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(p is Ellipsis for p in parts):
        return parts
    used = 0
    for p in parts:
        if p is None or p is Ellipsis:
            continue
        if isinstance(p, slice):
            used += 1
            continue
        a = np.asarray(p)
        used += a.ndim if a.dtype == bool else 1
    at = next(i for i, p in enumerate(parts) if p is Ellipsis)
    return parts[:at] + (slice(None),) * (ndim - used) + parts[at + 1:]


def batched_index(t, index):
    """The tangent of ``x[index]``.  The batch axis is moved last for the
    indexing (where NumPy keeps an axis no index reaches, whatever the
    advanced indices do), then first again."""
    if isinstance(t, (list, tuple, dict)):
        return t[index]
    parts = index if isinstance(index, tuple) else (index,)
    if all(p is None or isinstance(p, (int, np.integer, slice)) for p in parts):
        return t[(slice(None),) + parts]  # basic: the batch axis stays first
    moved = np.moveaxis(t, 0, -1)
    return np.moveaxis(moved[_parts(index, np.ndim(t) - 1)], -1, 0)


def batched_owned(t):
    """A copy of the tangent ``t`` that may be written into (a list stays a list)."""
    if isinstance(t, (list, tuple)):
        return list(t)
    if isinstance(t, dict):
        return dict(t)
    return np.array(t)


def batched_setitem(t, index, v) -> None:
    """``t[index] = v`` for the tangent ``t`` of ``y`` in ``y[index] = value``."""
    if isinstance(t, (list, dict)):
        t[index] = v
        return
    v = batched_array(v)
    if np.ndim(v) >= 1:
        v = np.moveaxis(v, 0, -1)
    np.moveaxis(t, 0, -1)[_parts(index, np.ndim(t) - 1)] = v


# -- reductions ---------------------------------------------------------------


def _shift(axis, ndim: int):
    """The axes of a batched tangent for ``axis`` of its value (rank ``ndim``)."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if np.ndim(axis) == 0:
        return operator.index(axis) % ndim + 1
    return tuple(operator.index(a) % ndim + 1 for a in axis)


def batched_sum(t, axis=None, keepdims=False):
    """The tangent of ``np.sum(x, axis, keepdims=keepdims)``."""
    t = batched_array(t)
    return np.sum(t, axis=_shift(axis, np.ndim(t) - 1), keepdims=keepdims)


def batched_mean(t, axis=None, keepdims=False):
    """The tangent of ``np.mean(x, axis, keepdims=keepdims)``."""
    t = batched_array(t)
    return np.mean(t, axis=_shift(axis, np.ndim(t) - 1), keepdims=keepdims)


def batched_cumsum(t, axis=None):
    """The tangent of ``np.cumsum(x, axis)``."""
    t = batched_array(t)
    if axis is None:
        n = np.shape(t)[0]
        return np.cumsum(np.reshape(t, (n, np.size(t) // n if n else 0)), axis=1)
    return np.cumsum(t, axis=_shift(axis, np.ndim(t) - 1))


def batched_extremum(t, x, y, axis=None, keepdims=False, initial=None):
    """The tangent of ``np.max``/``np.min``: the selected element's, the mean
    over ties (as ``extremum_tangent``)."""
    x, t = np.asarray(x), batched_array(t)
    mask = x == _expand(y, x.shape, axis, keepdims)
    dtype = t.dtype if t.dtype.kind == "f" else np.float64
    count = np.sum(mask, axis=axis, keepdims=keepdims, dtype=dtype)
    if initial is not None:
        count = np.maximum(count, 1)
    picked = np.where(mask, t, 0)
    return np.sum(picked, axis=_shift(axis, np.ndim(t) - 1), keepdims=keepdims) / count


def batched_prod(t, x, y, axis=None, keepdims=False):
    """The tangent of ``np.prod`` (as ``prod_tangent``)."""
    t = batched_array(t)
    others = _prod_others(np.asarray(x), y, axis, keepdims)
    return np.sum(t * others, axis=_shift(axis, np.ndim(t) - 1), keepdims=keepdims)


def batched_var(t, x, axis=None, ddof=0, keepdims=False):
    """The tangent of ``np.var`` (as ``var_tangent``)."""
    x, t = np.asarray(x), batched_array(t)
    axes = _axes(axis, x.ndim)
    n = int(np.prod([x.shape[i] for i in axes]))
    centered = x - np.mean(x, axis=axes, keepdims=True)
    total = np.sum(t * centered, axis=_shift(axis, np.ndim(t) - 1), keepdims=keepdims)
    return total * (2.0 / (n - ddof))


def batched_norm(t, x, y, ord=None, axis=None, keepdims=False):
    """The tangent of ``np.linalg.norm`` (as ``norm_tangent``)."""
    t = batched_array(t)
    axes = _shift(axis, np.ndim(t) - 1)
    if ord is None or (ord == 2 if _is_vector_norm(np.shape(x), ord, axis) else ord == "fro"):
        return sign_safe_div(np.sum(t * x, axis=axes, keepdims=keepdims), y)
    slope = norm_grad(np.ones_like(y), x, y, ord, axis, keepdims)
    return np.sum(t * slope, axis=axes, keepdims=keepdims)


def batched_builtin_sum(t, like):
    """The tangent of the builtin ``sum(items)`` (without ``start``), ``like``
    its result: over the first axis of an array, or item by item."""
    if not isinstance(t, (list, tuple)):
        return np.sum(t, axis=1)
    total = sum(batched_lift(item, like) for item in t)
    return batched_rebroadcast(total, like)


# -- products -----------------------------------------------------------------


def _operands(a, b, which):
    """The batched operand (``a`` if ``which`` is 0, else ``b``) as an array,
    the other one, and the ranks of the two values."""
    t, other = (a, b) if which == 0 else (b, a)
    t, other = batched_array(t), np.asarray(other)
    ranks = (np.ndim(t) - 1, other.ndim) if which == 0 else (other.ndim, np.ndim(t) - 1)
    return t, other, ranks


def _scaled(t, other, ranks):
    """A product with a 0-d factor: an elementwise product."""
    return _lift_to(t, max(ranks)) * other


def _rows_times(t, y):
    """``t @ y`` for a ``y`` of at most 2 dimensions: one matrix product, the
    leading axes of ``t`` as rows."""
    k = np.shape(t)[-1]
    rows = np.reshape(t, (int(np.prod(np.shape(t)[:-1])), k)) @ y
    return np.reshape(rows, np.shape(t)[:-1] + np.shape(y)[1:])


def batched_matmul(a, b, which):
    """The tangent of ``a @ b`` along the tangent of one factor (``which``:
    0 for ``a``, 1 for ``b``), the other held: NumPy's rules for 1-d
    operands, and broadcasting of the stacked matrices behind the batch axis."""
    t, other, (ra, rb) = _operands(a, b, which)
    if which == 0 and rb <= 2:  # the batch and stack axes of t are rows of one product
        return _rows_times(t, other)
    if which == 1 and ra <= 2:  # (x @ t)^T = t^T @ x^T, the same way
        if rb == 1:
            return t @ other.T
        out = _rows_times(np.swapaxes(t, -1, -2), other.T)
        return out if ra == 1 else np.swapaxes(out, -1, -2)
    drop = ()
    if ra == 1:  # a row vector, as NumPy promotes it; the row goes at the end
        drop += (-2,)
        if which == 0:
            t = t[:, None, :]
        else:
            other = other[None, :]
    if rb == 1:  # a column vector
        drop += (-1,)
        if which == 1:
            t = t[..., None]
        else:
            other = other[:, None]
    t = _lift_to(t, max(ra, rb, 2))
    out = np.matmul(t, other) if which == 0 else np.matmul(other, t)
    if drop == (-2, -1):
        return out[..., 0, 0]
    return out[..., 0, :] if drop == (-2,) else out[..., 0] if drop == (-1,) else out


def batched_dot(a, b, which):
    """The tangent of ``np.dot(a, b)`` along one factor's (see ``batched_matmul``)."""
    t, other, (ra, rb) = _operands(a, b, which)
    if ra == 0 or rb == 0:
        return _scaled(t, other, (ra, rb))
    if rb <= 2:  # np.dot is np.matmul then
        return batched_matmul(a, b, which)
    if which == 0:
        return np.dot(t, other)
    return np.moveaxis(np.dot(other, t), ra - 1, 0)


def batched_outer(a, b, which):
    """The tangent of ``np.outer(a, b)`` along one factor's."""
    t, other, _ = _operands(a, b, which)
    n = np.shape(t)[0]
    flat = np.reshape(t, (n, np.size(t) // n if n else 0))
    if which == 0:
        return flat[:, :, None] * np.ravel(other)
    return np.ravel(other)[:, None] * flat[:, None, :]


def batched_inner(a, b, which):
    """The tangent of ``np.inner(a, b)`` along one factor's."""
    t, other, (ra, rb) = _operands(a, b, which)
    if ra == 0 or rb == 0:
        return _scaled(t, other, (ra, rb))
    if which == 0:
        return np.inner(t, other)
    return np.moveaxis(np.inner(other, t), ra - 1, 0)


# -- shapes and joins ---------------------------------------------------------


def batched_reshape(t, like, order="C"):
    """The tangent of a reshape (or ravel, squeeze, expand_dims) to ``like``'s
    shape: each direction reshaped alike, in either order."""
    t = batched_array(t)
    return np.reshape(t, np.shape(t)[:1] + np.shape(like), order=order)


def batched_transpose(t, axes=None):
    """The tangent of ``np.transpose(x, axes)``."""
    t = batched_array(t)
    ndim = np.ndim(t) - 1
    if axes is None:
        return np.transpose(t, (0,) + tuple(range(ndim, 0, -1)))
    return np.transpose(t, (0,) + tuple(operator.index(a) % ndim + 1 for a in axes))


def batched_swapaxes(t, axis1, axis2):
    """The tangent of ``np.swapaxes(x, axis1, axis2)``."""
    t = batched_array(t)
    ndim = np.ndim(t) - 1
    return np.swapaxes(t, _shift(axis1, ndim), _shift(axis2, ndim))


def batched_moveaxis(t, source, destination):
    """The tangent of ``np.moveaxis(x, source, destination)``."""
    t = batched_array(t)
    ndim = np.ndim(t) - 1
    return np.moveaxis(t, _shift(source, ndim), _shift(destination, ndim))


def _items(ts) -> list:
    """The item tangents of the sequence NumPy joins (an array: its rows)."""
    if isinstance(ts, np.ndarray):
        return [ts[:, i] for i in range(ts.shape[1])]
    return [batched_array(t) for t in ts]


def batched_concatenate(ts, axis=0):
    """The tangent of ``np.concatenate(xs, axis)``, ``ts`` the items' tangents."""
    items = _items(ts)
    if axis is None:
        n = np.shape(items[0])[0]
        return np.concatenate([np.reshape(t, (n, np.size(t) // n if n else 0))
                               for t in items], axis=1)
    return np.concatenate(items, axis=_shift(axis, np.ndim(items[0]) - 1))


def batched_stack(ts, axis=0):
    """The tangent of ``np.stack(xs, axis)``."""
    items = _items(ts)
    return np.stack(items, axis=_shift(axis, np.ndim(items[0])))


def batched_hstack(ts):
    """The tangent of ``np.hstack(xs)``: 0-d items as 1-d, then joined along
    the first axis of 1-d items, else the second."""
    items = [_lift_to(t, max(1, np.ndim(t) - 1)) for t in _items(ts)]
    return np.concatenate(items, axis=1 if np.ndim(items[0]) == 2 else 2)


def batched_vstack(ts):
    """The tangent of ``np.vstack(xs)``: items as 2-d (a 1-d item is a row), joined."""
    items = [_lift_to(t, max(2, np.ndim(t) - 1)) for t in _items(ts)]
    return np.concatenate(items, axis=1)


# The batched tangents of the adjoint helpers (batched forward over generated
# gradient code, for ``hessian``) live in a module of their own.
from .runtime_batched_adjoints import *  # noqa: E402,F401,F403
from .runtime_batched_adjoints import __all__ as _adjoints_all  # noqa: E402

__all__ += _adjoints_all
