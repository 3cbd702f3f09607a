"""The runtime's helpers as functions of their own.

Generated code calls the helpers of ``sourcegrad.runtime``, and forward mode
over generated code (``hvp``, ``hessian``, forward over forward) needs a
forward rule for each of them: a helper without one would be a hole in
second derivatives.  The second-order helpers, the tangents of the adjoints
of ``np.prod`` and ``np.linalg.norm``, are checked here directly against
central differences, on cases the rule table cannot reach (zeros among the
factors, rectangular and stacked matrices, every norm).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from sourcegrad import rules, runtime, runtime_batched
from sourcegrad.runtime import norm_grad, norm_grad_tangent, prod_grad, prod_grad_tangent

#: Helpers with no forward rule: the second-order helpers (no third derivatives;
#: differentiating them raises NoRuleError), and those of batched forward mode
#: (only batched code calls them, and nothing differentiates it), and
#: ``in_blocks``, which only ``grad``'s specialized functions call.
NO_FORWARD_RULE = {prod_grad_tangent, norm_grad_tangent, runtime.nested_hvp,
                   runtime.matmul_left_sum_tangent, runtime.outer_sum_tangent,
                   runtime.in_blocks} | {
    getattr(runtime_batched, name) for name in runtime_batched.__all__}


def test_every_runtime_helper_has_a_forward_rule():
    helpers = [getattr(runtime, name) for name in runtime.__all__]
    functions = [f for f in helpers if inspect.isfunction(f)]
    missing = sorted(f.__name__ for f in functions
                     if f not in rules.FORWARD and f not in rules.ZERO
                     and f not in NO_FORWARD_RULE)
    assert not missing, "runtime helpers with no forward rule: " + ", ".join(missing)


def _central(f, x, t, h=1e-6):
    return (f(x + h * t) - f(x - h * t)) / (2 * h)


NORMS = [
    ((5,), None, None, False), ((5,), 2, None, False), ((5,), 3, None, False),
    ((5,), 0.5, None, False), ((5,), 1, None, False), ((5,), np.inf, None, False),
    ((5,), 0, None, False), ((3, 4), None, None, False), ((3, 4), None, None, True),
    ((3, 4), "fro", None, False), ((3, 4), 1, None, False), ((3, 4), -np.inf, None, False),
    ((3, 4), 2, None, False), ((3, 4), -2, None, False), ((4, 3), 2, None, False),
    ((4, 3), -2, None, False), ((3, 3), -2, None, False), ((3, 4), "nuc", None, False),
    ((4, 3), "nuc", None, False), ((3, 3), "nuc", None, False), ((3, 4), 3, 1, False),
    ((3, 4), None, 0, True), ((2, 3, 4), None, (1,), False), ((2, 3, 4), "fro", (1, 2), False),
    ((3, 2, 4), 2, (2, 0), True), ((3, 2, 4), -2, (2, 0), True), ((3, 2, 4), "nuc", (2, 0), True),
    ((3, 2, 4), "nuc", (0, -1), False),
]


@pytest.mark.parametrize("shape, ord, axis, keepdims", NORMS,
                         ids=[f"{s}-{o}-{a}-{k}" for s, o, a, k in NORMS])
def test_norm_grad_tangent(shape, ord, axis, keepdims):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal(shape), rng.standard_normal(shape)
    y = np.linalg.norm(x, ord, axis, keepdims)
    g = rng.standard_normal(np.shape(y))

    def slope(z):
        return norm_grad(g, z, np.linalg.norm(z, ord, axis, keepdims), ord, axis, keepdims)

    got = norm_grad_tangent(g, x, y, t, ord, axis, keepdims)
    assert np.shape(got) == shape
    np.testing.assert_allclose(got, _central(slope, x, t), rtol=1e-6, atol=1e-7)


PRODUCTS = [
    ((5,), None, False, 0), ((5,), None, False, 1), ((5,), None, False, 2),
    ((5,), None, False, 3), ((3, 4), 1, False, 0), ((3, 4), 0, True, 1),
    ((3, 4), 0, False, 2), ((3, 4), (0, 1), False, 2), ((2, 3, 4), (0, 2), True, 3),
]


@pytest.mark.parametrize("shape, axis, keepdims, zeros", PRODUCTS,
                         ids=[f"{s}-{a}-{k}-{z}zeros" for s, a, k, z in PRODUCTS])
def test_prod_grad_tangent(shape, axis, keepdims, zeros):
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal(shape), rng.standard_normal(shape)
    x.flat[rng.permutation(x.size)[:zeros]] = 0.0
    y = np.prod(x, axis, keepdims=keepdims)
    g = rng.standard_normal(np.shape(y))

    def adjoint(z):
        return prod_grad(g, z, np.prod(z, axis, keepdims=keepdims), axis, keepdims)

    got = prod_grad_tangent(g, x, y, t, axis, keepdims)
    assert np.shape(got) == shape
    np.testing.assert_allclose(got, _central(adjoint, x, t), rtol=1e-6, atol=1e-7)


def test_second_order_helpers_keep_float32():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = rng.standard_normal((3, 4)).astype(np.float32)
    for ord in (None, 3, "nuc", 2):
        y = np.linalg.norm(x, ord, axis=None if ord in (None, "nuc", 2) else 1)
        axis = None if ord in (None, "nuc", 2) else 1
        got = norm_grad_tangent(np.ones_like(y), x, y, t, ord, axis)
        assert got.dtype == np.float32, (ord, got.dtype)
    y = np.prod(x, axis=0)
    assert prod_grad_tangent(np.ones_like(y), x, y, t, 0).dtype == np.float32


@pytest.mark.parametrize("turns", [0, 1, 5])
def test_outer_sum_is_the_sum_of_outer_products(turns):
    rng = np.random.default_rng(turns)
    parts = [(rng.standard_normal(3), rng.standard_normal(4)) for _ in range(turns)]
    expected = sum((np.outer(g, y) for g, y in parts), np.zeros((3, 4)))
    np.testing.assert_allclose(np.zeros((3, 4)) + runtime.outer_sum(parts), expected,
                               rtol=1e-13, atol=1e-13)


def test_outer_sum_of_zeros_and_numbers():
    """A tangent list may hold zeros (numbers) among its vectors: the sum is
    taken product by product then."""
    y = np.arange(4.0)
    total = runtime.outer_sum([(np.ones(3), y), (0.0, y), (np.ones(3), 2.0 * y)])
    np.testing.assert_allclose(total, 3.0 * np.outer(np.ones(3), y))


def test_outer_sum_tangent_against_differences():
    rng = np.random.default_rng(7)
    gs, ys = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    dgs, dys = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))

    def total(s):
        return runtime.outer_sum(list(zip(gs + s * dgs, ys + s * dys)))

    tangent = runtime.outer_sum_tangent(list(zip(gs, ys)), list(zip(dgs, dys)))
    np.testing.assert_allclose(tangent, (total(1e-6) - total(-1e-6)) / 2e-6, rtol=1e-6,
                               atol=1e-8)
