"""Hessians in one call: batched forward mode over ``grad``'s generated code.

- Whole Hessians: for each function, the batched path is taken (the
  gradient function is batch-safe, and ``_hvp`` is never called), and the
  Hessian equals the one of a Hessian-vector product per column and central
  differences of the gradient.
- The fallback: a gradient that calls a helper with no batched rule (or the
  adjoint of a container) still gets its Hessian, one column at a time.
- Every batched adjoint helper against a loop of its unbatched twin over the
  batch axis (the helper the unbatched forward rule calls, one direction at
  a time), on every rank and index case it distinguishes.
"""

from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import api, jacobians, runtime
from sourcegrad import runtime_batched as rb
from sourcegrad.batched_jacobian import jacobian_batched
from tests.test_hessian import gradient_differences


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def mlp_loss(W, b, X, labels):
    h = np.tanh(X @ W + b)
    z = h - np.max(h, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), labels])


def slices(x):
    return np.sum(np.sin(x[1:] * x[:-1])) + np.sum(x[::2] ** 3) + np.sum(x[0] * x[-1])


def matrix_energy(A):
    return np.sum(np.sin(A) * A.T) + np.sum((A @ A) ** 2) + np.sum(np.cos(np.sum(A, axis=0)))


def looped(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + np.sum(np.cos(x[i:] * x[:len(x) - i]))
        else:
            s = s + np.sum(x * x * x) * 0.5
    return s


def cumulative(x):
    return np.sum(np.cumsum(np.sin(x)) ** 2)


def scalar_input(t, c):
    return np.sum(np.sin(t) * t ** 3 + c * np.exp(-t * t))


rng = np.random.default_rng(7)
CASES = [
    (rosenbrock, (np.array([0.5, 1.2, -0.3, 0.8, 0.1, 0.9]),), 0),
    (mlp_loss, (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3)),
                np.array([0, 3, 1, 1, 2])), 0),
    (mlp_loss, (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3)),
                np.array([2, 0, 1, 3, 3])), 1),
    (slices, (rng.normal(size=7),), 0),
    (matrix_energy, (rng.normal(size=(3, 3)) * 0.5,), 0),
    (looped, (rng.normal(size=5), 4), 0),
    (cumulative, (rng.normal(size=4),), 0),
    (scalar_input, (0.7, 1.5), 0),
]
IDS = [f"{c[0].__name__}-{c[2]}" for c in CASES]


def columns_of_hvps(f, args, position):
    x = np.asarray(args[position], dtype=float)
    cols = []
    for j in range(x.size):
        v = np.zeros(x.shape)
        v.flat[j] = 1.0
        cols.append(np.ravel(sg.hvp(f, position)(*args, v if x.ndim else float(v))))
    return np.stack(cols, axis=-1).reshape(x.shape + x.shape)


def _no_hvp(*args, **kwargs):
    raise AssertionError("the Hessian took the column loop")


@pytest.mark.parametrize("f, args, position", CASES, ids=IDS)
def test_hessian_batched(f, args, position, monkeypatch):
    d = api.derivative(f, position, "gradient")
    assert not d.value
    assert jacobian_batched(d.function, position, args, {}) is not None
    monkeypatch.setattr(jacobians, "_hvp", _no_hvp)
    H = sg.hessian(f, wrt=position)(*args)
    monkeypatch.undo()
    x = np.asarray(args[position])
    assert H.shape == x.shape + x.shape and H.dtype == np.float64
    np.testing.assert_allclose(H, columns_of_hvps(f, args, position), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H, gradient_differences(f, args, position), rtol=1e-5,
                               atol=1e-6)


def test_the_check_can_fail(monkeypatch):
    """A wrong batched helper shows in the Hessian (the tests above can fail)."""
    x = CASES[0][1][0]
    right = sg.hessian(rosenbrock)(x)
    wrong = rb.batched_unindex

    def doubled(t, x, index):
        return 2.0 * wrong(t, x, index)

    d = api.derivative(api.derivative(rosenbrock, 0, "gradient").function, 0, "batched")
    monkeypatch.setitem(d.globals, "batched_unindex", doubled)
    assert not np.allclose(sg.hessian(rosenbrock)(x), right)


def spread(x):
    return np.sum(np.var(x * x, axis=0, keepdims=True)) + np.sum(x ** 3)


def product(x):
    return np.prod(np.sin(x) + 2.0)


def scaled_by_norm(x):
    return np.sum(np.linalg.norm(x) * x)


def maybe_an_array(x):  # x[0] * x[1] is not provably a number: grad returns the value too
    return np.sum(x ** 4) + x[0] * x[1]


@pytest.mark.parametrize("f", [spread, product, scaled_by_norm, maybe_an_array])
def test_the_column_loop_where_batching_does_not_apply(f):
    x = np.array([0.3, -1.2, 0.8, 2.0])
    d = api.derivative(f, 0, "gradient")
    if f is not maybe_an_array:  # var_grad, prod_grad, norm_grad: no batched rule
        assert not d.value and jacobian_batched(d.function, 0, (x,), {}) is None
    else:
        assert d.value
    assert jacobians._hessian_batched(f, 0, (x,), 0) is None
    H = sg.hessian(f)(x)
    np.testing.assert_allclose(H, gradient_differences(f, (x,), 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, columns_of_hvps(f, (x,), 0), rtol=1e-10, atol=1e-12)


# -- the batched adjoint helpers against a loop of their unbatched twins ------

B = 3


def looped_twin(twin, t, *rest):
    return np.stack([np.asarray(twin(t[b], *rest), dtype=float) for b in range(B)])


def check(got, expected):
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


UNBROADCAST = [((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)), ((2, 4, 3), (4, 1)),
               ((3,), (3,)), ((4, 3), ()), ((), ()), ((2, 1, 3), (1, 1, 1))]


@pytest.mark.parametrize("gshape, shape", UNBROADCAST)
def test_batched_unbroadcast(gshape, shape):
    t = rng.normal(size=(B,) + gshape)
    like = 1.0 if shape == () else np.zeros(shape)
    check(rb.batched_unbroadcast(t, like), looped_twin(runtime.unbroadcast, t, like))


REDUCE = [((3, 4), None, False), ((3, 4), None, True), ((3, 4), 1, False), ((3, 4), -1, True),
          ((2, 3, 4), (0, 2), False), ((2, 3, 4), (2, 0), True), ((5,), 0, False)]


@pytest.mark.parametrize("shape, axis, keepdims", REDUCE)
def test_batched_unreduce(shape, axis, keepdims):
    x = rng.normal(size=shape)
    t = rng.normal(size=(B,) + np.shape(np.sum(x, axis=axis, keepdims=keepdims)))
    check(rb.batched_unreduce(t, x, axis, keepdims),
          looped_twin(runtime.unreduce, t, x, axis, keepdims))


@pytest.mark.parametrize("shape, axis, keepdims", REDUCE)
@pytest.mark.parametrize("initial", [None, -10.0])
def test_batched_extremum_grad(shape, axis, keepdims, initial):
    x = np.round(rng.normal(size=shape))  # ties
    y = np.max(x, axis=axis, keepdims=keepdims, initial=initial)
    t = rng.normal(size=(B,) + np.shape(y))
    check(rb.batched_extremum_grad(t, x, y, axis, keepdims, initial),
          looped_twin(runtime.extremum_grad, t, x, y, axis, keepdims, initial))


INDICES = [
    ((5,), np.s_[1:3]), ((5,), np.s_[::-2]), ((5,), 2), ((5,), -1), ((4, 3), np.s_[1, :]),
    ((4, 3), np.s_[..., 1]), ((4, 3), np.s_[None, 1:]), ((4, 3), np.array([0, 2, 0])),
    ((4, 3), [3, 3, 1]), ((4, 3), (np.array([0, 1, 1]), np.array([2, 2, 2]))),
    ((4, 3, 2), (np.array([0, 1, 0]), slice(None), np.array([1, 0, 1]))),
    ((4, 3, 2), (slice(1, 3), np.array([2, 2]), np.array([1, 0]))),
    ((4, 3), np.array([[True, False, True], [False, False, True], [True] * 3, [False] * 3])),
    ((4, 3), np.array([True, False, True, True])), ((4, 3, 2), np.s_[1, ..., 0]),
]


@pytest.mark.parametrize("shape, index", INDICES, ids=[str(i) for i in range(len(INDICES))])
def test_batched_unindex_and_index(shape, index):
    x = rng.normal(size=shape)
    t = rng.normal(size=(B,) + np.shape(x[index]))
    check(rb.batched_unindex(t, x, index), looped_twin(runtime.unindex, t, x, index))
    tx = rng.normal(size=(B,) + shape)
    check(rb.batched_index(tx, index), looped_twin(lambda a, i: a[i], tx, index))
    check(rb.batched_pick(tx, index), looped_twin(runtime.pick, tx, index))


def test_batched_unindex_broadcasts_the_adjoint():
    x = np.zeros((5, 2))
    t = rng.normal(size=(B,))  # a number's tangent, put into a (2, 2) slice
    check(rb.batched_unindex(t, x, np.s_[1:3]), looped_twin(runtime.unindex, t, x, np.s_[1:3]))
    t = rng.normal(size=(B, 2))
    check(rb.batched_unindex(t, x, np.s_[[0, 0, 4]]),
          looped_twin(runtime.unindex, t, x, np.s_[[0, 0, 4]]))


def test_batched_owned_grad_copies():
    t = rng.normal(size=(B, 2, 3))
    got = rb.batched_owned_grad(t)
    check(got, looped_twin(runtime.owned, t))
    got[0, 0, 0] = 99.0
    assert t[0, 0, 0] != 99.0


@pytest.mark.parametrize("shape, axes", [((3, 4), None), ((2, 3, 4), (1, 2, 0)),
                                         ((2, 3, 4), (-1, 0, 1)), ((2, 3, 4), None)])
def test_batched_untranspose(shape, axes):
    t = rng.normal(size=(B,) + np.shape(np.transpose(np.zeros(shape), axes)))
    check(rb.batched_untranspose(t, axes), looped_twin(runtime.untranspose, t, axes))


@pytest.mark.parametrize("shape, axis", [((5,), None), ((3, 4), None), ((3, 4), 0),
                                         ((3, 4), -1), ((2, 3, 4), 1)])
def test_batched_uncumsum(shape, axis):
    x = rng.normal(size=shape)
    t = rng.normal(size=(B,) + np.shape(np.cumsum(x, axis=axis)))
    check(rb.batched_uncumsum(t, x, axis), looped_twin(runtime.uncumsum, t, x, axis))


PRODUCTS = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
            ((2, 3), (5, 3, 4)), ((4, 2, 3), (1, 3, 5)), ((1, 2, 3), (4, 3, 5)),
            ((3,), (4, 3, 5)), ((4, 2, 3), (3,)), ((2, 1, 2, 3), (4, 3, 2))]


@pytest.mark.parametrize("xshape, yshape", PRODUCTS)
def test_batched_matmul_adjoints(xshape, yshape):
    x, y = rng.normal(size=xshape), rng.normal(size=yshape)
    g = rng.normal(size=np.shape(x @ y))
    tg = rng.normal(size=(B,) + np.shape(g))
    tx, ty = rng.normal(size=(B,) + xshape), rng.normal(size=(B,) + yshape)
    left, right = runtime.matmul_left, runtime.matmul_right
    check(rb.batched_matmul_left(tg, x, y, 0), looped_twin(left, tg, x, y))
    check(rb.batched_matmul_left(g, x, ty, 1),
          looped_twin(lambda t: left(g, x, t), ty))
    check(rb.batched_matmul_right(tg, x, y, 0), looped_twin(right, tg, x, y))
    check(rb.batched_matmul_right(g, tx, y, 1),
          looped_twin(lambda t: right(g, t, y), tx))


def test_the_adjoint_of_a_container_is_refused():
    with pytest.raises(sg.SourceGradError, match="container"):
        rb.batched_unindex(np.ones((B,)), [1.0, 2.0], 0)
    with pytest.raises(sg.SourceGradError, match="container"):
        rb.batched_unbroadcast([np.ones(B)], np.zeros(2))
    with pytest.raises(sg.SourceGradError, match="container"):
        rb.batched_owned_grad({0: np.ones(B)})
