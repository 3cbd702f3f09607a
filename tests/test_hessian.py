"""Second order: Hessians and Hessian-vector products by forward mode over the
generated reverse-mode code, against central differences of the gradient."""

import numpy as np
import pytest

import sourcegrad as sg


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def mlp_loss(w, X, y):
    W1 = np.reshape(w[:12], (4, 3))
    W2 = w[12:16]
    h = np.tanh(X @ W1.T)
    out = h @ W2
    return np.mean((out - y) ** 2)


def looped(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + np.sum(np.sin(x * (i + 1)))
        else:
            s = s + np.sum(x * x) * 0.5
    return s


def _layer(W, x):
    return np.tanh(W @ x)


def with_helper(W, x):
    return np.sum(_layer(W, _layer(W, x)) ** 2)


def gradient_differences(f, args, position, eps=1e-5):
    g = sg.grad(f, wrt=position)
    x = np.asarray(args[position], dtype=float)
    columns = []
    for j in range(x.size):
        e = np.zeros(x.shape)
        e.flat[j] = eps
        up, down = list(args), list(args)
        up[position], down[position] = x + e, x - e
        if not x.ndim:  # a number stays a number
            up[position], down[position] = float(up[position]), float(down[position])
        columns.append((np.asarray(g(*up)) - np.asarray(g(*down))).ravel() / (2 * eps))
    return np.stack(columns, axis=-1).reshape(x.shape + x.shape)


rng = np.random.default_rng(0)
CASES = [
    (rosenbrock, (np.array([0.5, 1.2, -0.3, 0.8, 0.1]),), 0),
    (mlp_loss, (rng.normal(size=16) * 0.5, rng.normal(size=(6, 3)), rng.normal(size=6)), 0),
    (looped, (np.array([0.3, -0.7, 1.1]), 5), 0),
    (with_helper, (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3)), 1),
]


@pytest.mark.parametrize("f, args, position", CASES, ids=[c[0].__name__ for c in CASES])
def test_hessian_matches_differences_of_the_gradient(f, args, position):
    H = sg.hessian(f, wrt=position)(*args)
    expected = gradient_differences(f, args, position)
    np.testing.assert_allclose(H, expected, rtol=1e-5, atol=1e-6)
    x = np.asarray(args[position])
    np.testing.assert_allclose(H, np.swapaxes(H.reshape(x.size, x.size), 0, 1).reshape(H.shape),
                               atol=1e-8)  # symmetric


@pytest.mark.parametrize("f, args, position", CASES, ids=[c[0].__name__ for c in CASES])
def test_hvp_is_hessian_times_v(f, args, position):
    x = np.asarray(args[position])
    v = np.random.default_rng(1).normal(size=x.shape)
    H = sg.hessian(f, wrt=position)(*args).reshape(x.size, x.size)
    hv = sg.hvp(f, wrt=position)(*args, v)
    assert hv.shape == x.shape
    np.testing.assert_allclose(hv.ravel(), H @ v.ravel(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("f, args, position", CASES, ids=[c[0].__name__ for c in CASES])
def test_check_grads_order_two(f, args, position):
    sg.check_grads(f, args, modes=("forward", "reverse"), order=2)


def test_check_grads_order_two_can_fail():
    def f(x):
        return np.sum(x ** 3)

    original = sg.jacobians.hvp

    def wrong_hvp(func, wrt=0):
        inner = original(func, wrt)
        return lambda *args: 1.01 * inner(*args)

    sg.jacobians.hvp = wrong_hvp
    try:
        with pytest.raises(AssertionError, match="Hessian-vector product"):
            sg.check_grads(f, (np.array([0.5, 1.5]),), order=2)
    finally:
        sg.jacobians.hvp = original


def test_hessian_of_a_non_scalar_function_is_an_error():
    def f(x):
        return x * x

    with pytest.raises(sg.SourceGradError, match="not a scalar"):
        sg.hessian(f)(np.ones(2))


def _energy(x):
    return np.sum(np.sin(x) * x ** 2)


def gradient_norm(x):
    return np.sum(sg.grad(_energy)(x) ** 2)


def test_grad_of_a_function_that_calls_grad():
    """Nested use: the derivative of grad(f)(x) is a Hessian-vector product."""
    x = np.array([0.3, -0.7, 1.1])
    sg.check_grads(gradient_norm, (x,), modes=("forward", "reverse"))
    H = sg.hessian(_energy)(x)
    np.testing.assert_allclose(sg.grad(gradient_norm)(x), 2.0 * H @ sg.grad(_energy)(x),
                               rtol=1e-10)
