"""The accumulate stage: an adjoint loop's outer products summed as one product
after the loop, in ``grad``'s own function.

Gradients are checked against ``vjp`` (the other generated function, which
keeps the per-turn accumulation) and central differences; the stage must
leave alone an accumulator the loop also reads, and a factor the loop changes.
"""

from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import api, runtime
from tests.programs.helpers import numeric_grad

RNG = np.random.default_rng(3)
W = RNG.standard_normal((4, 4)) / 2
U = RNG.standard_normal((4, 3)) / 2
XS = RNG.standard_normal((5, 3))
H0 = RNG.standard_normal(4) / 3


def rnn(W, U, xs, h0):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
        loss = loss + np.sum(h * h)
    return loss


def reads_its_accumulator(W, xs):
    s = 0.0
    v = xs[0]
    for t in range(xs.shape[0]):
        v = np.tanh(W @ xs[t]) + 0.1 * np.sum(W) * v
        s = s + np.sum(v)
    return s


def batched_rows(W, X):  # a matrix times matrices: no vector pairs, the general sum
    s = 0.0
    for t in range(3):
        s = s + np.sum(np.tanh(X @ W) * (t + 1.0))
    return s


CASES = [(rnn, (W, U, XS, H0), (0, 1)), (reads_its_accumulator, (W, XS[:, :1].repeat(4, 1)), 0),
         (batched_rows, (W, RNG.standard_normal((2, 4))), 0)]


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_matches_vjp_and_differences(f, args, wrt):
    got = sg.grad(f, wrt=wrt)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    _, pullback = sg.vjp(f, *args)
    want = pullback(1.0)
    for g, k in zip(got, wrt if isinstance(wrt, tuple) else (wrt,)):
        np.testing.assert_allclose(g, want[k], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g, numeric_grad(f, args, {}, k), rtol=1e-6, atol=1e-8)


def test_the_rnn_sums_its_weight_gradients_after_the_loop():
    text = api.derivative(rnn, (0, 1), "gradient").text
    loop_end = text.index("    return")
    assert "bW += matmul_left_sum(bW_terms, W)" in text[:loop_end]
    assert "bU += matmul_left_sum(bU_terms, U)" in text[:loop_end]
    assert "matmul_left(" not in text.replace("matmul_left_sum", "")


def test_a_factor_changed_in_the_loop_is_not_deferred():
    import gast

    from sourcegrad.accumulate import defer_accumulations
    from sourcegrad.emit import to_source

    fn = gast.parse("def g(W, hs, bys):\n    bW = zeros_like(W)\n    for t in range(3):\n"
                    "        bW += matmul_left(bys[t], W, hs[t])\n        W = W * 2.0\n"
                    "    return bW\n").body[0]
    assert "matmul_left_sum" not in to_source(defer_accumulations(fn))


def test_matmul_left_sum_is_the_sum_of_its_terms():
    x = RNG.standard_normal((4, 3))
    vectors = [(RNG.standard_normal(4), RNG.standard_normal(3)) for _ in range(5)]
    matrices = [(RNG.standard_normal((2, 3)), RNG.standard_normal((3, 3))) for _ in range(3)]
    for parts, like in ((vectors, x), (matrices, RNG.standard_normal((2, 3)))):
        want = sum(runtime.matmul_left(g, like, y) for g, y in parts)
        np.testing.assert_allclose(runtime.matmul_left_sum(parts, like), want, rtol=1e-13)
    assert runtime.matmul_left_sum([], x) == 0.0


def test_matmul_left_sum_tangent_against_differences():
    x = RNG.standard_normal((4, 3))
    parts = [(RNG.standard_normal(4), RNG.standard_normal(3)) for _ in range(3)]
    dparts = [(RNG.standard_normal(4), RNG.standard_normal(3)) for _ in range(3)]

    def at(eps):
        return runtime.matmul_left_sum([(g + eps * dg, y + eps * dy) for (g, y), (dg, dy)
                                        in zip(parts, dparts)], x)

    expected = (at(1e-6) - at(-1e-6)) / 2e-6
    np.testing.assert_allclose(runtime.matmul_left_sum_tangent(parts, dparts, x), expected,
                               rtol=1e-7, atol=1e-9)


def _transformed(source: str) -> str:
    import gast

    from sourcegrad.accumulate import defer_accumulations
    from sourcegrad.emit import to_source

    return to_source(defer_accumulations(gast.parse(source).body[0]))


@pytest.mark.parametrize("loop", ["range(n)", "reversed(range(n))", "range(2, n)",
                                  "reversed(range(1, n, 2))"])
def test_a_row_of_zeros_visited_once_is_written(loop):
    text = _transformed(f"def g(G, n):\n    bX = zeros_like(G)\n    for t in {loop}:\n"
                        "        bX[t] += G[t] * 2.0\n    return bX")
    assert "bX[t] = G[t] * 2.0" in text


@pytest.mark.parametrize("source", [
    # a negative start: t = -2 and t = 1 may be one row
    "def g(G, n):\n    bX = zeros_like(G)\n    for t in range(-2, n):\n"
    "        bX[t] += G[t]\n    return bX",
    # the row was not zero before the loop
    "def g(G, n):\n    bX = zeros_like(G)\n    bX += G\n    for t in range(n):\n"
    "        bX[t] += G[t]\n    return bX",
    # the loop reads the array too
    "def g(G, n):\n    bX = zeros_like(G)\n    for t in range(n):\n"
    "        bX[t] += G[t] + bX[0]\n    return bX",
    # another index than the loop's
    "def g(G, n):\n    bX = zeros_like(G)\n    for t in range(n):\n"
    "        bX[0] += G[t]\n    return bX",
])
def test_other_rows_keep_adding(source):
    assert "] += G[" in _transformed(source)
