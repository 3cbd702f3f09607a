"""Matrices of derivatives: ``jacobian``, ``hessian``, and ``hvp``.

Built on the derivatives of ``api``: batched forward mode for a Jacobian's
columns (``batched_jacobian``), one pullback per row, and forward mode over
``grad``'s generated code for Hessians.
"""

from __future__ import annotations

import numpy as np

from .api import (
    Differentiable, _match, _matched, _params_of, _primals, _run, derivative, jvp,
)
from .errors import SourceGradError


def hvp(func, wrt=0):
    """``hvp(f, wrt)(*args, v)``: the Hessian of the scalar ``f`` with respect to
    ``wrt`` times ``v``, by forward mode over the generated reverse-mode code."""

    def hvp_f(*args):
        *primals, v = args
        return _hvp(func, wrt, primals, v)

    return hvp_f


def _hvp(func, wrt, primals, v):
    d = derivative(func, wrt)
    target = func.__wrapped__ if isinstance(func, Differentiable) else func
    names = list(_params_of(target, primals, {}))
    position = names.index(wrt) if isinstance(wrt, str) else wrt % len(names)
    tangents = [None] * (len(primals) + 1)
    tangents[position] = v
    (value, grad), (_, tangent) = jvp(d.function, tuple(primals) + (1.0,), tangents)
    if np.ndim(value) != 0:
        raise d.nonscalar(value)
    return _match(tangent, primals[position])


def hessian(func, wrt=0):
    """``hessian(f, wrt)(*args)``: the Hessian of the scalar ``f`` with respect
    to ``wrt``, of shape ``x.shape + x.shape``: every column in one call of
    batched forward mode over ``grad``'s generated code, or, where that does
    not apply (see ``_hessian_batched``), one Hessian-vector product per
    element of ``x`` (forward over reverse)."""

    def hessian_f(*args):
        target = func.__wrapped__ if isinstance(func, Differentiable) else func
        names = list(_params_of(target, args, {}))
        position = names.index(wrt) if isinstance(wrt, str) else wrt % len(names)
        x = np.asarray(args[position], dtype=float)
        found = _hessian_batched(func, wrt, args, position)
        if found is not None:
            return np.reshape(found, x.shape + x.shape)
        columns = []
        for j in range(x.size):
            seed = np.zeros(x.shape)
            seed.flat[j] = 1.0
            v = seed if np.ndim(args[position]) else float(seed)
            columns.append(np.asarray(_hvp(func, wrt, args, v), dtype=float))
        return np.reshape(np.stack(columns, axis=-1), x.shape + x.shape)

    return hessian_f


def _hessian_batched(func, wrt, args, position):
    """The Hessian as the Jacobian of ``grad``'s generated function (the
    gradient alone, the seed folded in) by batched forward mode; ``None``
    where the output is not provably a scalar (the function returns the value
    too), or batching does not apply (a helper with no batched rule, the
    adjoint of a container, a ``wrt`` argument that is not a float array)."""
    from .batched_jacobian import jacobian_batched

    try:
        d = derivative(func, wrt, "gradient")
    except SourceGradError:  # the column loop reports it
        return None
    if d.value:
        return None
    found = jacobian_batched(d.function, position, tuple(args), {})
    if found is None or np.size(found) != np.size(args[position]) ** 2:
        return None
    return found


def jacobian(func, wrt=0, mode="auto"):
    """The Jacobian of ``func`` with respect to ``wrt``: output shape + input shape.

    ``mode="forward"`` computes every column at once with batched forward
    mode (one call whose tangents carry a batch axis), or, for a function
    that calls a primitive with no batch-safe rule, one tangent per input
    element; ``"reverse"`` runs one pullback per output element; ``"auto"``
    picks reverse only for outputs much smaller than the input (see
    ``batched_jacobian.prefer_rows``).
    """
    if mode not in ("auto", "reverse", "forward"):
        raise SourceGradError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', not {mode!r}")

    def jacobian_f(*args, **kwargs):
        from .batched_jacobian import jacobian_batched, prefer_rows

        chosen = mode
        if mode == "auto":
            value = func(*args, **kwargs)
            inputs = sum(np.size(x) for x in _wrt_values(func, wrt, args, kwargs))
            if prefer_rows(inputs, np.size(value)):
                return _jacobian_reverse(func, wrt, args, kwargs)
        if chosen in ("auto", "forward"):
            found = jacobian_batched(func, wrt, args, kwargs)
            if found is not None:
                return found
            if mode == "auto":  # no batching: one call per column or per row
                chosen = "forward" if inputs < np.size(value) else "reverse"
        if chosen == "forward":
            return _jacobian_forward(func, wrt, args, kwargs)
        return _jacobian_reverse(func, wrt, args, kwargs)

    return jacobian_f


def _wrt_values(func, wrt, args, kwargs) -> list:
    target = func.__wrapped__ if isinstance(func, Differentiable) else func
    values = _params_of(target, args, kwargs)
    names = list(values)
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    return [values[w if isinstance(w, str) else names[w]] for w in items]


def _jacobian_forward(func, wrt, args, kwargs):
    """Columns of the Jacobian, one tangent per element of each ``wrt`` argument."""
    if kwargs:
        raise SourceGradError("jacobian(mode='forward') takes positional arguments only")
    target = func.__wrapped__ if isinstance(func, Differentiable) else func
    names = list(_params_of(target, args, kwargs))
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    positions = [names.index(w) if isinstance(w, str) else w % len(names) for w in items]
    value = func(*args)
    out = []
    for position in positions:
        x = np.asarray(args[position], dtype=float)
        columns = []
        for j in range(x.size):
            seed = np.zeros(x.shape)
            seed.flat[j] = 1.0
            tangents = [None] * len(args)
            tangents[position] = seed if np.ndim(args[position]) else float(seed)
            columns.append(np.asarray(jvp(target, args, tangents)[1], dtype=float))
        block = np.stack(columns, axis=-1) if columns else np.zeros(np.shape(value) + (0,))
        out.append(np.reshape(block, np.shape(value) + x.shape))
    return out[0] if not isinstance(wrt, (tuple, list)) else tuple(out)


def _jacobian_reverse(func, wrt, args, kwargs):
    """Rows of the Jacobian, one pullback per element of the output."""
    d = derivative(func, wrt)
    single = not isinstance(wrt, (tuple, list))
    value = func(*args, **kwargs)
    rows = []
    for i in range(np.size(value)):
        seed = np.zeros(np.shape(value))
        seed.flat[i] = 1.0
        _, g = _run(d, args, kwargs, scalar=False, **{d.seed: seed})
        g = _matched(d, args, kwargs, g, single)
        rows.append((g,) if single else g)
    out = tuple(
        np.reshape(np.array([row[k] for row in rows]), np.shape(value) + np.shape(x))
        for k, x in enumerate(_primals(d, args, kwargs))
    )
    return out[0] if single else out
