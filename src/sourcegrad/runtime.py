"""Helpers that generated derivative code calls.

This module holds no compiler: generated modules import it (and NumPy) and
nothing else of sourcegrad.  Each helper is cheap when there is nothing to do:
``unbroadcast`` returns its argument untouched when the shapes already match.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import SourceGradError

__all__ = [
    "stop_gradient", "unbroadcast", "unreduce", "unindex", "unconcatenate",
    "unstack", "unvstack", "unsum", "unhstack", "untranspose", "zeros_like", "extremum_grad",
    "prod_grad", "var_grad", "uncumsum", "norm_grad", "sign_safe_div", "cast_grad",
    "between", "below", "above", "either", "inner_left", "inner_right", "matmul_left",
    "matmul_right", "dot_left", "dot_right", "power_log", "add_at", "item", "Grads",
    "densify", "pick", "owned", "owned_tangent", "matmul_left_sum", "matmul_left_sum_tangent",
    "outer_sum", "outer_sum_tangent", "in_blocks", "BLOCKS", "ndarray",
    "rebroadcast", "zero_tangent", "list_pop",
    "extremum_tangent", "prod_tangent", "var_tangent", "norm_tangent", "cast_tangent",
    "prod_grad_tangent", "norm_grad_tangent", "nested_grad", "nested_hvp", "Unspecialized",
]


#: The exact type the specialized code tests its arrays for (``x.__class__ is ndarray``).
ndarray = np.ndarray


class Unspecialized(Exception):
    """Raised by a gradient function compiled for other shapes than its
    arguments' (its first statement tests them): ``sourcegrad.grad`` then
    runs a version compiled for these arguments, or the general one."""


class Parts(tuple):
    """The adjoint of a tuple or list of arrays (``np.concatenate((a, b))``).

    Adjoints accumulate with ``+``; for a sequence that must add piece by
    piece, not join the two sequences.
    """

    __slots__ = ()
    __array_ufunc__ = None  # ``array + parts`` defers to ``Parts.__radd__``

    def __add__(self, other):
        if isinstance(other, dict):  # some items' adjoints only
            return Items(enumerate(self)) + other
        return Parts(a + b for a, b in zip(self, other, strict=True))

    def __radd__(self, other):
        if isinstance(other, dict):
            return Items(enumerate(self)) + other
        return Parts(b + a for a, b in zip(self, other, strict=True))


class Grads(dict):
    """The adjoint of a tuple, list or dict: the adjoints of its items by
    index or key.  A missing item's adjoint is zero; ``+`` adds item by item."""

    __slots__ = ()
    __array_ufunc__ = None

    def __add__(self, other):
        return type(self)(self).__iadd__(other)

    __radd__ = __add__

    def __iadd__(self, other):
        for key, value in _items(other):
            self[key] = self[key] + value if key in self else value
        return self


class Items(Grads):
    """The adjoint of a tuple or list: ``Grads`` keyed by position from the
    start.  A negative index or a slice has no key here (the length is not
    known), so setting one raises rather than adjoining the wrong item."""

    __slots__ = ()

    def __setitem__(self, key, value):
        if isinstance(key, slice) or isinstance(key, (int, np.integer)) and key < 0:
            raise SourceGradError(_FROM_THE_START)
        dict.__setitem__(self, key, value)


_FROM_THE_START = ("sourcegrad cannot yet accumulate the adjoint of a slice or a negative "
                   "index of a list here; index from the start")


def _items(g):
    """The (index or key, adjoint) pairs of a container's adjoint."""
    if isinstance(g, dict):
        return g.items()
    return enumerate(g)


def item(g, key, like):
    """The adjoint of item ``key`` of a container, from the container's adjoint
    ``g``; zeros shaped like the item ``like`` if ``g`` has none for it."""
    if isinstance(g, Grads):
        return g[key] if key in g else zeros_like(like)
    return g[key]


def densify(g, x):
    """The adjoint ``g`` of the container ``x`` as a container like ``x``."""
    if isinstance(x, dict):
        return {k: item(g, k, v) for k, v in x.items()}
    return type(x)(item(g, i, v) for i, v in enumerate(x))


def _container_key(x, index):
    if isinstance(index, (int, np.integer)) and not isinstance(x, dict) and index < 0:
        return int(index) + len(x)
    return index


def stop_gradient(x):
    """Return ``x``; sourcegrad treats the result as a constant."""
    return x


_JOINED = ("'+' of two lists or tuples joins them, and sourcegrad does not differentiate "
           "that; build one list, or use np.concatenate")


def unbroadcast(g, like):
    """Sum ``g`` over the axes NumPy broadcasting added to ``like``'s shape."""
    if type(g) is np.ndarray and type(like) is np.ndarray:  # without np.shape's dispatch
        gshape, shape = g.shape, like.shape
        if gshape == shape:
            return g
        extra = len(gshape) - len(shape)
        if extra >= 0 and g.dtype.kind in "fc":  # a float sum: np.add.reduce is np.sum
            axes = tuple(range(extra)) + tuple(
                i + extra for i, n in enumerate(shape) if n == 1 and gshape[i + extra] != 1)
            g = np.add.reduce(g, axis=axes) if axes else g
            return g if g.shape == shape else g.reshape(shape)
    shape = np.shape(like)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    if isinstance(like, (list, tuple)) and not isinstance(g, np.ndarray):
        raise SourceGradError(_JOINED)
    extra = len(gshape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and gshape[i + extra] != 1
    )
    g = np.sum(g, axis=axes, keepdims=False) if axes else g
    return np.reshape(g, shape)


def _expand(g, shape, axis, keepdims):
    """Give ``g`` back the reduced axes of a reduction over ``axis``."""
    if axis is None or keepdims:
        return np.reshape(g, [1] * len(shape)) if axis is None and not keepdims else g
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(sorted(a % len(shape) for a in axes))
    return np.expand_dims(g, axes)


def unsum(g, xs):
    """The adjoint of the builtin ``sum(xs)``: ``g`` for every item of ``xs``."""
    if isinstance(xs, np.ndarray):
        return np.broadcast_to(g, xs.shape)
    return Parts(unbroadcast(g, x) for x in xs)


def unreduce(g, x, axis=None, keepdims=False):
    """The adjoint of a sum over ``axis``: ``g`` spread back over ``x``'s shape."""
    shape = np.shape(x)
    return np.broadcast_to(_expand(g, shape, axis, keepdims), shape)


def extremum_grad(g, x, y, axis=None, keepdims=False, initial=None):
    """The adjoint of ``max``/``min``: ``g`` shared equally among the ties."""
    x = np.asarray(x)
    mask = x == _expand(y, x.shape, axis, keepdims)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    count = np.sum(mask, axis=axis, keepdims=True, dtype=dtype)
    if initial is not None:  # the maximum may be ``initial``, then no element has a share
        count = np.maximum(count, 1)
    return mask * (_expand(g, x.shape, axis, keepdims) / count)


def extremum_tangent(t, x, y, axis=None, keepdims=False, initial=None):
    """The tangent of ``max``/``min`` along ``t``: the tangent of the element
    selected, the mean of the tied elements' tangents (the transpose of
    ``extremum_grad``, which shares the adjoint equally among them)."""
    x, t = np.asarray(x), np.asarray(t)
    mask = x == _expand(y, x.shape, axis, keepdims)
    dtype = t.dtype if t.dtype.kind == "f" else np.float64
    count = np.sum(mask, axis=axis, keepdims=keepdims, dtype=dtype)
    if initial is not None:  # the maximum may be ``initial``, then no element has a share
        count = np.maximum(count, 1)
    return np.sum(np.where(mask, t, 0), axis=axis, keepdims=keepdims) / count


def _axes(axis, ndim):
    """``axis`` (``None``, an int or a tuple) as a sorted tuple of nonnegative axes."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in ((axis,) if np.ndim(axis) == 0 else axis)))


def _prod_others(x, y, axis, keepdims):
    """For each factor of ``y = np.prod(x, axis)``, the product of the others.

    ``y / x`` when no factor is zero; otherwise products of the factors before
    and after each one, so that zeros give the right (finite) answer.
    """
    if x.all():
        return _expand(y, x.shape, axis, keepdims) / x
    axes = _axes(axis, x.ndim)
    rest = [i for i in range(x.ndim) if i not in axes]
    order = rest + list(axes)
    moved = np.transpose(x, order)
    flat = np.reshape(moved, moved.shape[:len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.transpose(np.reshape(before * after, moved.shape), np.argsort(order))


def prod_grad(g, x, y, axis=None, keepdims=False):
    """The adjoint of ``np.prod``: ``g`` times the product of the other factors."""
    x = np.asarray(x)
    return _expand(g, x.shape, axis, keepdims) * _prod_others(x, y, axis, keepdims)


def prod_tangent(t, x, y, axis=None, keepdims=False):
    """The tangent of ``np.prod`` along ``t``: each factor's tangent times the
    product of the other factors, summed."""
    x = np.asarray(x)
    return np.sum(t * _prod_others(x, y, axis, keepdims), axis=axis, keepdims=keepdims)


def prod_grad_tangent(g, x, y, t, axis=None, keepdims=False):
    """The tangent of ``prod_grad(g, x, y, axis, keepdims)`` along the tangent
    ``t`` of ``x``, with ``y = np.prod(x, axis)`` moving with ``x``: ``g``
    times the tangent of the product of the other factors.  Zeros among the
    factors (one, two, or more per product) give the exact answer too."""
    x = np.asarray(x)
    axes = _axes(axis, x.ndim)
    gx = _expand(g, x.shape, axis, keepdims)
    if x.all():  # others = y / x: its tangent is others * (sum(t / x) - t / x)
        ratio = t / x
        others = _expand(y, x.shape, axis, keepdims) / x
        return gx * others * (np.sum(ratio, axis=axes, keepdims=True) - ratio)
    zero = x == 0
    safe = np.where(zero, 1, x)
    count = np.sum(zero, axis=axes, keepdims=True)
    rest = np.prod(safe, axis=axes, keepdims=True)  # the product of the nonzero factors
    ratio = np.where(zero, 0, t / safe)
    total = np.sum(ratio, axis=axes, keepdims=True)
    at_zeros = np.sum(np.where(zero, t, 0), axis=axes, keepdims=True)
    # no zero: as above; one zero: the zero's tangent times the other nonzero
    # factors, and for the zero itself the tangent of the product of the rest;
    # two zeros: for each, the other zero's tangent times the rest; more: none
    none = rest / safe * (total - ratio)
    one = np.where(zero, rest * total, at_zeros * rest / safe)
    two = np.where(zero, (at_zeros - t) * rest, 0)
    return gx * np.select([count == 0, count == 1, count == 2], [none, one, two], 0)


def var_grad(g, x, axis=None, ddof=0, keepdims=False):
    """The adjoint of ``np.var``: ``g * 2 (x - mean) / (n - ddof)``."""
    x = np.asarray(x)
    axes = _axes(axis, x.ndim)
    n = int(np.prod([x.shape[i] for i in axes]))
    centered = x - np.mean(x, axis=axes, keepdims=True)
    return _expand(g, x.shape, axis, keepdims) * (2.0 / (n - ddof)) * centered


def var_tangent(t, x, axis=None, ddof=0, keepdims=False):
    """The tangent of ``np.var`` along ``t``: ``2 sum(t (x - mean)) / (n - ddof)``."""
    x = np.asarray(x)
    axes = _axes(axis, x.ndim)
    n = int(np.prod([x.shape[i] for i in axes]))
    centered = x - np.mean(x, axis=axes, keepdims=True)
    return np.sum(t * centered, axis=axis, keepdims=keepdims) * (2.0 / (n - ddof))


def uncumsum(g, x, axis=None):
    """The adjoint of ``np.cumsum(x, axis)``: a cumulative sum from the end."""
    if axis is None:
        return np.reshape(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def unindex(g, x, index):
    """The adjoint of ``x[index]``: zeros shaped like ``x`` with ``g`` put back.

    Repeated integer indices accumulate (``np.add.at``); basic indices
    (integers, slices, ``None``, ``...``) use a plain assignment.  For a
    tuple, list or dict ``x`` the adjoint holds ``g`` alone (``Grads``).
    """
    if isinstance(x, (tuple, list, dict)):
        if isinstance(index, slice):
            positions = range(len(x))[index]
            return Items((positions[k], v) for k, v in _items(g))
        kind = Grads if isinstance(x, dict) else Items
        return kind({_container_key(x, index): g})
    out = np.zeros(np.shape(x), dtype=np.result_type(x, g, 1.0))
    parts = index if isinstance(index, tuple) else (index,)
    if all(_basic(p) for p in parts):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _basic(part) -> bool:
    return part is None or part is Ellipsis or isinstance(part, (int, np.integer, slice))


def unconcatenate(g, xs, axis=0):
    """The adjoint of ``np.concatenate(xs, axis)``: one piece of ``g`` per input."""
    if axis is None:
        sizes = [np.size(x) for x in xs]
        pieces = np.split(g, np.cumsum(sizes)[:-1])
        return Parts(np.reshape(p, np.shape(x)) for p, x in zip(pieces, xs))
    sizes = [np.shape(x)[axis] for x in xs]
    return Parts(np.split(g, np.cumsum(sizes)[:-1], axis=axis))


def unstack(g, axis=0):
    """The adjoint of ``np.stack(xs, axis)``: ``g`` cut along ``axis``."""
    return Parts(np.take(g, i, axis=axis) for i in range(np.shape(g)[axis]))


def zeros_like(x):
    """A zero gradient shaped like ``x``: a float for a float, no item for a
    container, an array otherwise."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return 0.0
    if isinstance(x, (tuple, list, dict)):
        return Grads() if isinstance(x, dict) else Items()
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind in "fc" else np.float64
    return np.zeros(x.shape, dtype=dtype)


def sign_safe_div(num, den):
    """``num / den`` where ``den`` is nonzero, 0 where it is zero."""
    safe = np.where(den == 0, 1, den)
    return np.where(den == 0, 0, num / safe)


def norm_grad(g, x, y, ord=None, axis=None, keepdims=False):
    """The adjoint of ``np.linalg.norm``: every norm NumPy has.

    Vector norms (a 1-d input or one axis): ``ord`` 2, 1, ``inf``, ``-inf``,
    0 and any other power; matrix norms (a 2-d input or two axes): ``'fro'``,
    ``1``, ``-1``, ``inf``, ``-inf``, ``2``, ``-2`` and ``'nuc'``.
    """
    shape = np.shape(x)
    vector = _is_vector_norm(shape, ord, axis)
    gx = _expand(g, shape, axis, keepdims)
    if ord is None or (ord == 2 if vector else ord == "fro"):
        return gx * sign_safe_div(x, _expand(y, shape, axis, keepdims))
    if not vector:
        return _matrix_norm_grad(gx, x, _expand(y, shape, axis, keepdims), ord, axis)
    if ord == 1:
        return gx * np.sign(x)
    if ord in (np.inf, -np.inf):
        return extremum_grad(gx, np.abs(x), _expand(y, shape, axis, keepdims), axis,
                             keepdims=True) * np.sign(x)
    if ord == 0:  # a count of nonzeros: a step function
        return zeros_like(x) * gx
    if isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool):
        yx = _expand(y, shape, axis, keepdims)
        return gx * np.sign(x) * sign_safe_div(np.abs(x) ** (ord - 1), yx ** (ord - 1))
    raise SourceGradError(
        f"sourcegrad has no derivative of np.linalg.norm with ord={ord!r} "
        f"for an input of {np.ndim(x)} dimensions and axis={axis!r}"
    )


def _is_vector_norm(shape, ord, axis) -> bool:
    """Whether ``np.linalg.norm(x, ord, axis)`` of an ``x`` of ``shape`` is a
    vector norm (else a matrix norm)."""
    if axis is None:
        return ord is None or len(shape) == 1  # ord=None: the 2-norm of the flattened input
    return np.ndim(axis) == 0 or len(axis) == 1


def norm_tangent(t, x, y, ord=None, axis=None, keepdims=False):
    """The tangent of ``np.linalg.norm`` along ``t``: ``t`` against the norm's
    slope (``norm_grad`` of a unit adjoint), summed over the reduced axes."""
    if ord is None or (ord == 2 if _is_vector_norm(np.shape(x), ord, axis) else ord == "fro"):
        return sign_safe_div(np.sum(t * x, axis=axis, keepdims=keepdims), y)
    slope = norm_grad(np.ones_like(y), x, y, ord, axis, keepdims)
    return np.sum(t * slope, axis=axis, keepdims=keepdims)


def norm_grad_tangent(g, x, y, t, ord=None, axis=None, keepdims=False):
    """The tangent of ``norm_grad(g, x, y, ord, axis, keepdims)`` along the
    tangent ``t`` of ``x``, with ``y = np.linalg.norm(x, ...)`` moving with
    ``x``: ``g`` times the tangent of the norm's slope.  Zero where the slope
    is piecewise constant (``ord`` 1, ``inf``, ``-inf``, 0 and the matrix
    norms built from them)."""
    x = np.asarray(x)
    shape = x.shape
    vector = _is_vector_norm(shape, ord, axis)
    gx = _expand(g, shape, axis, keepdims)
    yx = _expand(y, shape, axis, keepdims)
    axes = _axes(axis, x.ndim)
    if ord is None or (ord == 2 if vector else ord == "fro"):
        # slope x / y; y's tangent is x . t / y
        dot = np.sum(x * t, axis=axes, keepdims=True)
        return gx * sign_safe_div(t - x * sign_safe_div(dot, yx * yx), yx)
    if not vector:
        if ord in (2, -2, "nuc"):
            return gx * _singular_slope_tangent(x, t, ord, axis)
        if ord in (1, -1, np.inf, -np.inf):
            return zeros_like(x) * gx
    elif ord in (1, 0, np.inf, -np.inf):
        return zeros_like(x) * gx
    elif isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool):
        # slope s = sign(x) |x|^(p-1) / y^(p-1); y's tangent is s . t
        slope = np.sign(x) * sign_safe_div(np.abs(x) ** (ord - 1), yx ** (ord - 1))
        dy = np.sum(slope * t, axis=axes, keepdims=True)
        direct = sign_safe_div(np.abs(x) ** (ord - 2), yx ** (ord - 1)) * t
        return gx * (ord - 1) * (direct - slope * sign_safe_div(dy, yx))
    raise SourceGradError(
        f"sourcegrad has no second derivative of np.linalg.norm with ord={ord!r} "
        f"for an input of {np.ndim(x)} dimensions and axis={axis!r}"
    )


def _singular_slope_tangent(x, t, ord, axis):
    """The tangent along ``t`` of the slope of a singular-value norm of ``x``
    over the axes ``axis`` (the last two if ``None``): ``u_i v_i^T`` for the
    largest (``ord=2``) or smallest (``-2``) singular value, ``U V^T`` for the
    nuclear norm.  In the basis of the full SVD, ``M = U^T t V``, with the
    singular values padded with zeros to each side's length."""
    rows, cols = (0, 1) if axis is None else (axis[0] % x.ndim, axis[1] % x.ndim)
    a = np.moveaxis(x, (rows, cols), (-2, -1))
    ta = np.moveaxis(np.broadcast_to(t, x.shape), (rows, cols), (-2, -1))
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vt = np.linalg.svd(a, full_matrices=True)
    v = _swap(vt)
    big = np.zeros(s.shape[:-1] + (max(m, n),), dtype=s.dtype)
    big[..., :k] = s
    mm = _swap(u) @ ta @ v  # (..., m, n)
    if ord == "nuc":
        # d(U V^T) = U X V^T, X_ij = (M_ij - M_ji) / (s_i + s_j), M_ji zero outside the square
        sq = np.zeros(mm.shape, dtype=mm.dtype)
        sq[..., :k, :k] = _swap(mm[..., :k, :k])
        den = big[..., :m, None] + big[..., None, :n]
        return np.moveaxis(u @ ((mm - sq) / den) @ vt, (-2, -1), (rows, cols))
    i = 0 if ord == 2 else k - 1
    sigma = s[..., i:i + 1]
    col = mm[..., :, i]  # u_j^T t v_i, for every j < m
    row = mm[..., i, :]  # u_i^T t v_j, for every j < n
    col_n = np.zeros(row.shape, dtype=mm.dtype)
    col_n[..., :k] = col[..., :k]
    row_m = np.zeros(col.shape, dtype=mm.dtype)
    row_m[..., :k] = row[..., :k]
    den_m = sigma ** 2 - big[..., :m] ** 2
    den_n = sigma ** 2 - big[..., :n] ** 2
    den_m[..., i] = den_n[..., i] = 1.0
    cu = (sigma * col + big[..., :m] * row_m) / den_m
    cv = (sigma * row + big[..., :n] * col_n) / den_n
    cu[..., i] = cv[..., i] = 0.0
    du, dv = u @ cu[..., None], v @ cv[..., None]
    ui, vi = u[..., :, i:i + 1], v[..., :, i:i + 1]
    return np.moveaxis(du @ _swap(vi) + ui @ _swap(dv), (-2, -1), (rows, cols))


def _matrix_norm_grad(gx, x, yx, ord, axis):
    """The adjoint of a matrix norm over the axes ``axis`` (the last two if ``None``),
    ``gx`` and ``yx`` with those axes kept."""
    x = np.asarray(x)
    rows, cols = (0, 1) if axis is None else (axis[0] % x.ndim, axis[1] % x.ndim)
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum
        inner, outer = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = np.sum(np.abs(x), axis=inner, keepdims=True)
        return extremum_grad(gx, sums, yx, outer, keepdims=True) * np.sign(x)
    if ord in (2, -2, "nuc"):
        # singular values: d sigma_k = u_k v_k^T
        u, _, vt = np.linalg.svd(np.moveaxis(x, (rows, cols), (-2, -1)), full_matrices=False)
        if ord == 2:
            u, vt = u[..., :, :1], vt[..., :1, :]
        elif ord == -2:
            u, vt = u[..., :, -1:], vt[..., -1:, :]
        return gx * np.moveaxis(u @ vt, (-2, -1), (rows, cols))
    raise SourceGradError(f"sourcegrad has no derivative of the matrix norm with ord={ord!r}")


def _swap(a):
    return a.T if np.ndim(a) == 2 else np.swapaxes(a, -1, -2)


def _ranks(x, y):
    """The ranks of ``x`` and ``y`` (``.ndim`` of arrays, without ``np.ndim``'s dispatch)."""
    if type(x) is np.ndarray and type(y) is np.ndarray:
        return x.ndim, y.ndim
    return np.ndim(x), np.ndim(y)


def matmul_left(g, x, y):
    """The adjoint of ``x @ y`` with respect to ``x``, for any ranks."""
    nx, ny = _ranks(x, y)
    if ny == 1:
        if nx == 1:
            return g * y
        if nx == 2 and type(g) is np.ndarray and g.ndim == 1:
            return g[:, None] * y  # np.outer, without its overhead
        return np.multiply.outer(g, y)
    if nx == 1:
        return unbroadcast(np.matmul(y, g[..., None])[..., 0], x)
    if nx == 2 and ny == 2:
        return g @ y.T
    return unbroadcast(np.matmul(g, _swap(y)), x)


def matmul_left_sum(parts, x):
    """The sum of ``matmul_left(g, x, y)`` over the pairs ``(g, y)`` of ``parts``
    (a loop's accumulation, see ``accumulate``): one product of the stacked
    factors when every ``g`` and ``y`` is a vector and ``x`` a matrix."""
    if parts and type(x) is np.ndarray and x.ndim == 2:
        found = _stacked_outer(parts)
        if found is not None:
            return found
    total = 0.0
    for g, y in parts:
        total = total + matmul_left(g, x, y)
    return total


def outer_sum(parts):
    """The sum of the outer products of the pairs of vectors ``(g, y)`` of
    ``parts`` (a loop's, see ``accumulate``): one product of the stacked
    vectors, ``G.T @ Y``."""
    if not parts:
        return 0.0
    found = _stacked_outer(parts)
    if found is not None:
        return found
    total = 0.0
    for g, y in parts:
        total = total + np.multiply.outer(g, y)
    return total


def _stacked_outer(parts):
    """``G.T @ Y`` of the stacked vectors of the pairs ``(g, y)``; ``None``
    unless every one is a 1-d array."""
    gs, ys = zip(*parts)
    if all(type(g) is np.ndarray and g.ndim == 1 for g in gs) and all(
            type(y) is np.ndarray and y.ndim == 1 for y in ys):
        return np.array(gs).T @ np.array(ys)
    return None


def outer_sum_tangent(parts, dparts):
    """The tangent of ``outer_sum(parts)`` (``dparts``: the pairs' tangents)."""
    pairs = [(dg, y) for (_, y), (dg, _) in zip(parts, dparts)]
    return outer_sum(pairs + [(g, dy) for (g, _), (_, dy) in zip(parts, dparts)])


def matmul_left_sum_tangent(parts, dparts, x):
    """The tangent of ``matmul_left_sum(parts, x)``: every product's, by the
    product rule (``dparts`` holds the pairs' tangents)."""
    pairs = [(dg, y) for (_, y), (dg, _) in zip(parts, dparts)]
    pairs += [(g, dy) for (g, _), (_, dy) in zip(parts, dparts)]
    return matmul_left_sum(pairs, x)


def matmul_right(g, x, y):
    """The adjoint of ``x @ y`` with respect to ``y``, for any ranks."""
    nx, ny = _ranks(x, y)
    if nx == 2 and ny == 2:
        return x.T @ g
    if nx == 2 and ny == 1:
        return g @ x
    if nx == 1:
        return g * x if ny == 1 else unbroadcast(x[:, None] * g[..., None, :], y)
    if ny == 1:
        return unbroadcast(np.matmul(g[..., None, :], x)[..., 0, :], y)
    return unbroadcast(np.matmul(_swap(x), g), y)


def dot_left(g, x, y):
    """The adjoint of ``np.dot(x, y)`` with respect to ``x``.

    ``np.dot`` is ``np.matmul`` when ``y`` has at most 2 dimensions; beyond,
    it pairs every batch of ``x`` with every batch of ``y``.
    """
    nx, ny = np.ndim(x), np.ndim(y)
    if nx == 0 or ny == 0:
        return unbroadcast(g * y, x)
    if ny <= 2:
        return matmul_left(g, x, y)
    return np.tensordot(g, y, (tuple(range(nx - 1, np.ndim(g))), tuple(range(ny - 2)) + (ny - 1,)))


def dot_right(g, x, y):
    """The adjoint of ``np.dot(x, y)`` with respect to ``y``."""
    nx, ny = np.ndim(x), np.ndim(y)
    if nx == 0 or ny == 0:
        return unbroadcast(x * g, y)
    if ny <= 2:
        return matmul_right(g, x, y)
    return np.moveaxis(np.tensordot(x, g, (tuple(range(nx - 1)), tuple(range(nx - 1)))), 0, -2)


def between(a, lo, hi):
    """1 where ``lo <= a <= hi`` (a missing bound is no bound), else 0."""
    inside = np.ones(np.shape(a), dtype=bool)
    if lo is not None:
        inside = inside & (a >= lo)
    if hi is not None:
        inside = inside & (a <= hi)
    return inside


def either(value, other):
    """``value``, or ``other`` when ``value`` is ``None`` (``np.clip``'s ``a_min`` or ``min``)."""
    return other if value is None else value


def below(a, lo, hi):
    """1 where ``np.clip(a, lo, hi)`` is ``lo``: ``a < lo``, unless ``lo > hi``
    (then the result is ``hi`` everywhere)."""
    return a < lo if hi is None else (a < lo) & (lo <= hi)


def above(a, lo, hi):
    """1 where ``np.clip(a, lo, hi)`` is ``hi``: ``a > hi``, or ``lo > hi``."""
    return a > hi if lo is None else np.maximum(a, lo) > hi


def inner_left(g, a, b):
    """The adjoint of ``np.inner(a, b)`` with respect to ``a``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    na = np.ndim(a) - 1
    return np.tensordot(g, b, (tuple(range(na, np.ndim(g))), tuple(range(np.ndim(b) - 1))))


def inner_right(g, a, b):
    """The adjoint of ``np.inner(a, b)`` with respect to ``b``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(a * g, b)
    na = np.ndim(a) - 1
    return np.tensordot(g, a, (tuple(range(na)), tuple(range(na))))


def unvstack(g, xs):
    """The adjoint of ``np.vstack(xs)``: rows of ``g`` back to each input's shape."""
    sizes = [np.shape(x)[0] if np.ndim(x) > 1 else 1 for x in xs]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis=0)
    return Parts(np.reshape(p, np.shape(x)) for p, x in zip(pieces, xs))


def unhstack(g, xs):
    """The adjoint of ``np.hstack(xs)``: columns (or pieces) of ``g`` back to each input."""
    axis = 0 if np.ndim(g) == 1 else 1
    sizes = [np.shape(x)[axis] if np.ndim(x) > axis else 1 for x in xs]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    return Parts(np.reshape(p, np.shape(x)) for p, x in zip(pieces, xs))


def untranspose(g, axes=None):
    """The adjoint of ``np.transpose(x, axes)``: the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    ndim = np.ndim(g)
    return np.transpose(g, np.argsort([a % ndim for a in axes]))


def cast_grad(g, x, dtype):
    """The adjoint of a cast of ``x`` to ``dtype``: ``g`` in ``x``'s float type,
    or zero for a cast to integers or booleans (a step function)."""
    if np.dtype(dtype).kind not in "fc":
        return zeros_like(x)
    like = x.dtype if isinstance(x, np.ndarray) and x.dtype.kind in "fc" else np.float64
    return np.asarray(g, dtype=like)


def cast_tangent(t, like):
    """The tangent ``t`` of a value converted to ``like``'s type: in ``like``'s
    float type, or zero for an integer or boolean ``like`` (a step function)."""
    if isinstance(like, np.ndarray):
        if like.dtype.kind not in "fc":
            return zeros_like(like)
        if isinstance(t, np.ndarray) and t.dtype == like.dtype:
            return t
        return np.asarray(t, dtype=like.dtype)
    if isinstance(like, np.generic):
        return like.dtype.type(t) if like.dtype.kind in "fc" else np.float64(0.0)
    if isinstance(like, float):
        return float(t)
    if isinstance(like, int):  # bool too
        return 0.0
    return t


def power_log(z, x):
    """``z * log(x)`` for ``z = x ** y``, the derivative of ``z`` in ``y``: 0
    where ``x`` is 0 (the limit for ``y > 0``), NaN for a negative ``x``."""
    if type(x) is float and x > 0:  # a Python float: weak, as NumPy has it
        return z * math.log(x)
    if np.all(np.asarray(x) > 0):
        return z * np.log(x)
    zero = np.asarray(x) == 0
    return np.where(zero, 0.0, z * np.log(np.where(zero, 1.0, x)))


def add_at(out, index, g, like=None):
    """``out[index] += g`` in place, adding repeated integer indices each time;
    returns ``out``.  For the adjoint of a list (a ``Grads``), ``like`` is the
    list, to place a negative index or a slice."""
    if isinstance(out, Grads):
        if like is not None:
            return out.__iadd__(unindex(g, like, index))
        if isinstance(index, slice) or isinstance(index, (int, np.integer)) and index < 0:
            raise SourceGradError(_FROM_THE_START)
        out[index] = out[index] + g if index in out else g
        return out
    parts = index if isinstance(index, tuple) else (index,)
    if all(_basic(p) for p in parts):
        out[index] += g
    else:
        np.add.at(out, index, g)
    return out


def list_pop(items):
    """``items.pop()``: the normal form's name for it."""
    return items.pop()


def pick(g, index, like=None):
    """A copy of ``g[index]`` (a basic index gives a view of ``g``); for the
    adjoint of a list or dict, the item's (zeros like ``like`` if it has none)."""
    if isinstance(g, Grads):
        if isinstance(g, Items) and (isinstance(index, slice) or index < 0):
            raise SourceGradError(_FROM_THE_START)
        return item(g, index, like)
    return np.array(g[index])


def owned(g):
    """A copy of the adjoint ``g`` that may be updated in place (a number is
    one already: ``+=`` rebinds it)."""
    if type(g) is float:
        return g
    if isinstance(g, dict):
        return type(g)(g) if isinstance(g, Grads) else Grads(g)
    if isinstance(g, (list, tuple)):
        return Items(enumerate(g))
    return np.array(g)


def owned_tangent(t):
    """A copy of the tangent ``t`` that may be written into: a list stays a
    list (its items are positions, negative ones included)."""
    if isinstance(t, (list, tuple)):
        return list(t)
    if isinstance(t, dict):
        return dict(t)
    return np.array(t)


def rebroadcast(t, like):
    """The tangent ``t`` of an operand broadcast to the shape of the result
    ``like`` (``t`` itself when the shapes already match)."""
    shape = np.shape(like)
    if np.shape(t) == shape:
        return t
    if isinstance(like, (list, tuple)) and not isinstance(t, np.ndarray):
        raise SourceGradError(_JOINED)
    if type(t) is float and isinstance(like, np.ndarray):  # weak, as NumPy has it
        t = np.asarray(t, dtype=like.dtype if like.dtype.kind == "f" else np.float64)
    return np.broadcast_to(t, shape)


def zero_tangent(x):
    """A zero tangent shaped like ``x``: containers item by item."""
    if isinstance(x, dict):
        return {k: zero_tangent(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(zero_tangent(v) for v in x)
    return zeros_like(x)


def nested_grad(func, x, wrt=0):
    """``sourcegrad.grad(func, wrt)(x)`` called inside a differentiated function."""
    from . import api  # the compiler, only for code that differentiates twice

    return api.grad(func, wrt)(x)


def nested_hvp(func, x, v, wrt=0):
    """The Hessian of ``func`` at ``x`` times ``v``: the derivative of
    ``nested_grad`` in both modes (a Hessian is symmetric)."""
    from . import jacobians

    return jacobians.hvp(func, wrt)(x, v)


# The helpers of batched forward mode (tangents with a leading batch axis), and
# those of gradients in blocks, live in their own modules; generated code
# imports them from here, like the others.
from .runtime_blocks import BLOCKS, in_blocks  # noqa: E402,F401
from .runtime_batched import *  # noqa: E402,F401,F403
from .runtime_batched import __all__ as _batched_all  # noqa: E402

__all__ += _batched_all
