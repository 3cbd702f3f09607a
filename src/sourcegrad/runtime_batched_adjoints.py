"""Batched tangents of the runtime's adjoint helpers: forward over generated
gradient code with a batch axis, for ``hessian`` (every column in one call).

Each helper here is the batched twin of the forward rule of an adjoint
helper of ``sourcegrad.runtime`` (``unbroadcast``, ``unindex``,
``matmul_left`` ...): the tangent ``t`` carries ``B`` directions on its
axis 0, and every axis the unbatched helper reads is counted after it.  The
adjoints of containers (``Grads``, ``Items``, ``Parts``) have no batched
form: the helpers raise, and ``jacobian_batched`` then gives way to one
jvp per column.  Re-exported by ``sourcegrad.runtime_batched``.

>>> t = np.ones((3, 4, 2))                    # 3 directions of a (4, 2) adjoint
>>> batched_unbroadcast(t, np.zeros((1, 2))).shape
(3, 1, 2)
>>> batched_unindex(np.ones((3, 2)), np.zeros(5), slice(1, 3))[0]
array([0., 1., 1., 0., 0.])
"""

from __future__ import annotations

import numpy as np

from .errors import SourceGradError
from .runtime import _expand as _expand_value
from .runtime_batched import _lift_to, _parts, batched_index, batched_transpose

__all__ = [
    "batched_unbroadcast", "batched_unreduce", "batched_extremum_grad", "batched_unindex",
    "batched_pick", "batched_owned_grad", "batched_untranspose", "batched_uncumsum",
    "batched_matmul_left", "batched_matmul_right",
]


def _array(t, what: str) -> np.ndarray:
    """The batched tangent ``t`` as an array with its batch axis; a container's
    adjoint (a dict, a list, a tuple) has no batched form here."""
    if isinstance(t, (dict, list, tuple)) or np.ndim(t) < 1:
        raise SourceGradError(f"sourcegrad: no batched tangent for {what} of a container")
    return np.asarray(t)


def _container(x, what: str) -> None:
    if isinstance(x, (dict, list, tuple)):
        raise SourceGradError(f"sourcegrad: no batched tangent for {what} of a container")


def batched_unbroadcast(t, like):
    """The tangent of ``unbroadcast(g, like)``: ``t`` summed over the axes
    broadcasting added to ``like``'s shape, after the batch axis."""
    _container(like, "unbroadcast")
    t = _array(t, "unbroadcast")
    shape, gshape = np.shape(like), t.shape[1:]
    if gshape == shape:
        return t
    extra = len(gshape) - len(shape)
    if extra < 0:
        raise SourceGradError("sourcegrad: a batched adjoint of lower rank than its value")
    axes = tuple(range(1, extra + 1)) + tuple(
        i + extra + 1 for i, n in enumerate(shape) if n == 1 and gshape[i + extra] != 1)
    t = np.sum(t, axis=axes) if axes else t
    return np.reshape(t, t.shape[:1] + shape)


def _expand(t, ndim: int, axis, keepdims):
    """``t`` with the axes a reduction over ``axis`` removed given back (as
    ``runtime._expand``), after the batch axis."""
    if axis is None:
        return t if keepdims else np.reshape(t, t.shape[:1] + (1,) * ndim)
    if keepdims:
        return t
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return np.expand_dims(t, tuple(sorted(a % ndim + 1 for a in axes)))


def batched_unreduce(t, x, axis=None, keepdims=False):
    """The tangent of ``unreduce(g, x, axis, keepdims)``."""
    t = _array(t, "unreduce")
    shape = np.shape(x)
    return np.broadcast_to(_expand(t, len(shape), axis, keepdims), t.shape[:1] + shape)


def batched_extremum_grad(t, x, y, axis=None, keepdims=False, initial=None):
    """The tangent of ``extremum_grad(g, x, y, ...)`` along ``g``'s: the
    mask of the ties is a constant."""
    t, x = _array(t, "extremum_grad"), np.asarray(x)
    mask = x == _expand_value(y, x.shape, axis, keepdims)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    count = np.sum(mask, axis=axis, keepdims=True, dtype=dtype)
    if initial is not None:
        count = np.maximum(count, 1)
    return mask * (_expand(t, x.ndim, axis, keepdims) / count)


def _basic(part) -> bool:
    return part is None or part is Ellipsis or isinstance(part, (int, np.integer, slice))


def batched_unindex(t, x, index):
    """The tangent of ``unindex(g, x, index)``: zeros shaped like ``x`` for
    each direction, ``t`` put back at ``index`` (applied after the batch
    axis, which is moved last for it, as ``batched_index`` does)."""
    _container(x, "unindex")
    t = _array(t, "unindex")
    out = np.zeros(t.shape[:1] + np.shape(x), dtype=np.result_type(x, t, 1.0))
    parts = _parts(index, np.ndim(x))
    if all(_basic(p) for p in parts):  # a view: the batch axis stays first
        view = out[(slice(None),) + parts]
        view[...] = _lift_to(t, view.ndim - 1)
    else:
        np.add.at(np.moveaxis(out, 0, -1), parts, np.moveaxis(t, 0, -1))
    return out


def batched_pick(t, index, like=None):
    """The tangent of ``pick(g, index, like)``: a copy of ``t`` at ``index``."""
    return np.array(batched_index(_array(t, "pick"), index))


def batched_owned_grad(t):
    """The tangent of ``owned(g)``: a copy that may be written into."""
    return np.array(_array(t, "owned"))


def batched_untranspose(t, axes=None):
    """The tangent of ``untranspose(g, axes)``: the inverse permutation."""
    t = _array(t, "untranspose")
    if axes is None:
        return batched_transpose(t)
    ndim = t.ndim - 1
    return batched_transpose(t, tuple(np.argsort([a % ndim for a in axes])))


def batched_uncumsum(t, x, axis=None):
    """The tangent of ``uncumsum(g, x, axis)``: a cumulative sum from the end."""
    t = _array(t, "uncumsum")
    n = t.shape[0]
    if axis is None:
        flat = np.reshape(t, (n, -1))[:, ::-1]
        return np.reshape(np.cumsum(flat, axis=1)[:, ::-1], (n,) + np.shape(x))
    axis = axis % (t.ndim - 1) + 1
    return np.flip(np.cumsum(np.flip(t, axis), axis), axis)


# -- the adjoints of matrix products -------------------------------------------


def _swap(a):
    return np.swapaxes(a, -1, -2)


def _factors(g, y, which, what):
    """The batched tangent (``g`` if ``which`` is 0, else ``y``) as an array,
    the other factor, and the ranks of ``g`` and ``y``."""
    t = _array(g if which == 0 else y, what)
    other = np.asarray(y if which == 0 else g)
    ng, ny = (t.ndim - 1, other.ndim) if which == 0 else (other.ndim, t.ndim - 1)
    return t, other, ng, ny


def batched_matmul_left(g, x, y, which):
    """The tangent of ``matmul_left(g, x, y)`` (the adjoint of ``x @ y`` in
    ``x``) along the tangent of ``g`` (``which`` 0) or of ``y`` (1)."""
    t, other, ng, ny = _factors(g, y, which, "matmul_left")
    nx = np.ndim(x)
    if ny == 1 and nx == 1:  # g is 0-d: g * y
        return t[:, None] * other if which == 0 else other * t
    if ny == 1:  # np.multiply.outer(g, y)
        return t[..., None] * other if which == 0 else other[..., None] * _lift_to(t, ng + 1)
    if nx == 1:  # y @ g, the stacks summed
        out = np.matmul(other, t[..., None]) if which == 0 else np.matmul(t, other[..., None])
        return batched_unbroadcast(out[..., 0], x)
    if which == 0:
        return batched_unbroadcast(np.matmul(t, _swap(other)), x)
    return batched_unbroadcast(np.matmul(other, _swap(_lift_to(t, ng))), x)


def batched_matmul_right(g, x, y, which):
    """The tangent of ``matmul_right(g, x, y)`` (the adjoint of ``x @ y`` in
    ``y``) along the tangent of ``g`` (``which`` 0) or of ``x`` (1)."""
    t, other, ng, nx = _factors(g, x, which, "matmul_right")
    ny = np.ndim(y)
    if nx == 1 and ny == 1:  # g is 0-d: g * x
        return t[:, None] * other if which == 0 else other * t
    if nx == 1:  # x[:, None] * g[..., None, :], the stacks summed
        if which == 0:
            return batched_unbroadcast(other[:, None] * t[..., None, :], y)
        return batched_unbroadcast(_lift_to(t[..., None], ng + 1) * other[..., None, :], y)
    if ny == 1:  # g[..., None, :] @ x, the stacks summed
        out = np.matmul(t[..., None, :], other) if which == 0 else np.matmul(
            other[..., None, :], t)
        return batched_unbroadcast(out[..., 0, :], y)
    if which == 0:
        return batched_unbroadcast(np.matmul(_swap(other), t), y)
    return batched_unbroadcast(np.matmul(_swap(_lift_to(t, ng)), other), y)
