"""``check_grads``: derivatives against central finite differences.

For random directions ``v`` (one per differentiable argument) and a random
cotangent ``u`` it checks ``<u, J v>``, with ``J v`` from central
differences, against ``<J^T u, v>`` from reverse mode and ``<u, J v>`` from
forward mode.
"""

from __future__ import annotations

import numpy as np


def _is_float(x) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, (float, np.floating)):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _differentiable(x) -> bool:
    """A float, a float array, or a dict, list or tuple holding one."""
    if isinstance(x, dict):
        return any(_differentiable(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_differentiable(v) for v in x)
    return _is_float(x)


def _direction(x, rng):
    """A random direction like ``x`` (``None`` for what is not differentiated)."""
    if isinstance(x, dict):
        return {k: _direction(v, rng) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_direction(v, rng) for v in x)
    if not _is_float(x):
        return None
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape).astype(x.dtype)
    return float(rng.standard_normal())


def _step(x, v, eps):
    """``x + eps * v``, item by item in containers."""
    if v is None:
        return x
    if isinstance(x, dict):
        return {k: _step(x[k], v[k], eps) for k in x}
    if isinstance(x, (list, tuple)):
        return type(x)(_step(a, b, eps) for a, b in zip(x, v))
    return x + eps * v


def _shift(args, dirs, eps):
    return [_step(x, v, eps) for x, v in zip(args, dirs)]


def _inner(a, b) -> float:
    """``<a, b>``, summed over the items of containers (``None`` is zero)."""
    if a is None or b is None:
        return 0.0
    if isinstance(b, dict):
        return sum(_inner(a[k], b[k]) for k in b)
    if isinstance(b, (list, tuple)) and not isinstance(a, np.ndarray):
        return sum(_inner(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))


def _tolerances(args, y, eps, rtol, atol):
    """``eps``, ``rtol``, ``atol`` for the lowest float precision among the
    inputs and the output: float32 anywhere loosens them."""
    floats = [x for x in args + [y] if isinstance(x, (np.ndarray, np.floating))]
    coarsest = max((np.finfo(x.dtype).eps for x in floats if x.dtype.kind == "f"),
                   default=np.finfo(np.float64).eps)
    if eps is None:
        eps = 1e-6 if coarsest < 1e-10 else 1e-2
    if coarsest > 1e-10:  # float32 and below: loosen
        rtol, atol = max(rtol, 2e-2), max(atol, 2e-3)
    return eps, rtol, atol


def check_grads(f, args, modes=("reverse",), order=1, eps=None, rtol=1e-5, atol=1e-7,
                seed=0, trials=2):
    """Raise ``AssertionError`` if ``f``'s derivatives disagree with finite
    differences at ``args``: for each mode in ``modes``, ``<J^T u, v>`` (reverse,
    from ``vjp``) or ``<u, J v>`` (forward, from ``jvp``) against ``<u, J v>``
    by central differences.  With ``order=2``, also Hessian-vector products
    (forward over reverse) against central differences of the gradient."""
    unknown = set(modes) - {"reverse", "forward"}
    if unknown:
        raise ValueError(f"unknown modes {sorted(unknown)}")
    if order not in (1, 2):
        raise ValueError("check_grads checks order 1 or 2")
    args = list(args)
    if order == 2:
        _check_second(f, args, eps, rtol, atol, seed, trials)
    rng = np.random.default_rng(seed)
    eps, rtol, atol = _tolerances(args, f(*args), eps, rtol, atol)
    for _ in range(trials):
        dirs = [_direction(x, rng) if _differentiable(x) else None for x in args]
        y = f(*args)
        u = rng.standard_normal(np.shape(y))
        jv = (np.asarray(f(*_shift(args, dirs, eps)), dtype=np.float64)
              - np.asarray(f(*_shift(args, dirs, -eps)), dtype=np.float64)) / (2 * eps)
        expected = _inner(u, jv)
        for mode in modes:
            got = _projection(f, args, dirs, u, y, mode)
            scale = max(1.0, abs(expected), abs(got))
            if not abs(got - expected) <= atol + rtol * scale:
                name = getattr(f, "__name__", f)
                raise AssertionError(
                    f"{mode} mode disagrees with finite differences for {name}: "
                    f"{got!r} against <u, J v> = {expected!r} (difference {got - expected:.3g})"
                )


def _projection(f, args, dirs, u, y, mode) -> float:
    """``<J^T u, v>`` by reverse mode, or ``<u, J v>`` by forward mode."""
    from .api import jvp, vjp

    if mode == "forward":
        _, tangent = jvp(f, args, dirs)
        return _inner(u, tangent)
    _, pullback = vjp(f, *args)
    grads = pullback(u if np.ndim(y) else float(u))
    return sum(_inner(g, v) for g, v in zip(grads, dirs) if v is not None)


def _check_second(f, args, eps, rtol, atol, seed, trials) -> None:
    """Hessian-vector products of ``<u, f>`` against differences of its gradient,
    for each differentiable argument."""
    from .api import grad
    from .jacobians import hvp

    rng = np.random.default_rng(seed + 1)
    y = f(*args)
    eps, rtol, atol = _tolerances(args, y, None if eps is None else eps, max(rtol, 1e-4),
                                  max(atol, 1e-6))
    eps = max(eps, 1e-5)
    for position, x in enumerate(args):
        if not _is_float(x):
            continue
        for _ in range(trials):
            v, w = _direction(x, rng), _direction(x, rng)
            g = grad(f, wrt=position)
            shifted = [list(args), list(args)]
            shifted[0][position] = x + eps * v
            shifted[1][position] = x - eps * v
            expected = _inner(w, (np.asarray(g(*shifted[0]), dtype=np.float64)
                                  - np.asarray(g(*shifted[1]), dtype=np.float64)) / (2 * eps))
            got = _inner(w, hvp(f, wrt=position)(*args, v))
            scale = max(1.0, abs(expected), abs(got))
            if not abs(got - expected) <= atol + rtol * scale:
                name = getattr(f, "__name__", f)
                raise AssertionError(
                    f"the Hessian-vector product of {name} (argument {position}) disagrees "
                    f"with differences of its gradient: {got!r} against {expected!r}")
