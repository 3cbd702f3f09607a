"""Rank specialization of ``sg.grad``.

The first call of a ``grad`` object compiles a version of the gradient code
specialized to the call's ``Signature`` (ranks of its arrays, their axes of
length 1, types of its numbers): the shapes analysis drops ``unbroadcast``
where shapes provably match, picks the product's own adjoint, hoists a loop's
``U @ xs[t]`` before the loop; the version starts with guards and raises
``Unspecialized`` for arguments it does not fit, and ``sg.grad`` then runs a
version for those (or the general one).

Every gradient here is checked against central differences and against the
general (unspecialized) code: ``value_and_grad``'s general function,
``sg.vjp`` or ``derivative(f, wrt, "gradient")`` without a signature.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sourcegrad as sg
from sourcegrad import api
from sourcegrad.errors import NonScalarOutputError
from sourcegrad.runtime import Unspecialized
from sourcegrad.signature import Signature
from tests.programs.helpers import assert_like, numeric_grad

# helpers ----------------------------------------------------------------------


def _tuple(wrt):
    return wrt if isinstance(wrt, tuple) else (wrt,)


def close(got, want, tol=1e-6):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64),
                               np.asarray(want, dtype=np.float64), rtol=tol, atol=tol)


def general(f, wrt, args):
    """The gradients by the general code (value_and_grad's unspecialized
    function), as a tuple."""
    d = api.derivative(f, wrt, "reverse")
    grads = api._matched(d, args, {}, d.function(*args)[1], not isinstance(wrt, tuple))
    return grads if isinstance(wrt, tuple) else (grads,)


def check(f, args, grads, wrt, tol=1e-6):
    """``grads`` (what a ``grad`` object gave for ``wrt``) have the type, shape
    and dtype of their arguments, and match central differences and the
    general code."""
    wrts = _tuple(wrt)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    assert len(grads) == len(wrts)
    reference = general(f, wrt, args)
    loose = any(isinstance(a, (np.ndarray, np.generic)) and a.dtype == np.float32 for a in args)
    for w, g, r in zip(wrts, grads, reference):
        x = args[w]
        assert_like(g, x)
        if isinstance(g, np.ndarray):  # a fresh array the caller may write to
            assert g.flags.writeable and not any(
                np.shares_memory(g, a) for a in args if isinstance(a, np.ndarray))
        close(g, numeric_grad(f, args, {}, w), 2e-2 if loose else tol)
        close(g, r, 1e-5 if loose else 1e-9)


def specialized(f, wrt, args):
    """The Derivative specialized to ``args``'s signature."""
    return api.derivative(f, wrt, "gradient", signature=Signature.of(args))


def compiled(f, wrt):
    """``(signatures of the specialized versions, whether the general one was
    compiled)`` among ``grad``'s functions of ``f``."""
    keys = [k for k in api._compiled.get(f, {}) if k[:2] == ("gradient", wrt)]
    return {k[3] for k in keys if len(k) > 3}, any(len(k) == 3 for k in keys)


def hoisted(text) -> bool:
    """Whether ``text`` computes a loop's products with rows before it
    (``u_rows = xs @ transpose``)."""
    return re.search(r"^\s*\w+_rows\w* = .*@", text, re.M) is not None


def guard_equalities(text):
    """The sets of lengths the guard of ``text`` says are equal."""
    out = []
    for line in text.splitlines():
        found = re.match(r"\s*if not (.*):$", line)
        if found:
            out.append(set(found.group(1).strip("()").split(" == ")))
    return out


def rng_arrays(seed):
    rng = np.random.default_rng(seed)
    return lambda *shape, scale=0.5: rng.standard_normal(shape) * scale


# the functions --------------------------------------------------------------


def tanh_sum(W, x):
    return np.sum(np.tanh(W @ x))


def tanh_sum_seq(W, x):  # its own compiled versions: test_ranks_in_sequence counts them
    return np.sum(np.tanh(W @ x))


def product_tanh(a, b):
    return np.sum(np.tanh(a @ b) * np.tanh(a @ b))


def sine_square(x):
    return np.sum(np.sin(x) * x + 0.5 * x ** 2)


def prod_sum(a, b):
    return np.sum(a * b)


def prod_sum_ones_first(a, b):
    return np.sum(a * b)


def prod_sum_text(a, b):
    return np.sum(a * b)


def broadcast_mix(a, b, c):
    return np.sum(np.tanh(a * b) + np.sin(b - c) * a)


def scaled(a, b):
    return np.sum(np.exp(a * b))


def pick_branch(a, b, s):
    if s > 0:
        y = a
    else:
        y = b
    return np.sum(y * y) * s


def grow(x):
    h = np.zeros(1)
    for t in range(3):
        h = h + x * t
    return np.sum(h * h)


def rnn(W, U, b, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum(h @ h)


def rnn_explicit(W, U, b, xs, h):
    for t in range(xs.shape[0]):
        x = xs[t]
        u = U @ x
        h = np.tanh(W @ h + u + b)
    return np.sum(h @ h)


def rnn_right(W, V, b, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(h @ W + xs[t] @ V + b)
    return np.sum(h @ h)


def rnn_matrix(W, U, b, xs, H):  # xs of rank 3: U @ xs[t] is a matrix product
    for t in range(xs.shape[0]):
        H = np.tanh(W @ H + U @ xs[t] + b)
    return np.sum(H * H)


def rnn_two(W, U, b, xs, h):  # reads 2 of xs's rows
    for t in range(2):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum(h @ h)


def rnn_reversed(W, U, b, xs, h):
    for t in reversed(range(xs.shape[0])):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum(h @ h)


def rnn_middle(W, U, b, xs, h):
    for t in range(1, xs.shape[0] - 1):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum(h @ h)


def rnn_stride(W, U, b, xs, h):
    for t in range(0, xs.shape[0], 2):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum(h @ h)


def rnn_batch_rows(W, V, b, xs, H):  # a row of xs @ V broadcast over H's rows
    for t in range(xs.shape[0]):
        H = np.tanh(H @ W + xs[t] @ V + b)
    return np.sum(H * H)


def rnn_changing(W, U, b, xs, h):  # U changes in the loop: nothing to hoist
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
        U = U * 0.9
    return np.sum(h @ h)


def rnn_nested(W, U, xs, h):  # U changes in the outer loop only
    for e in range(2):
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + U @ xs[t])
        U = U * 0.5 + 0.1
    return np.sum(h * h)


def rnn_break(W, U, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
        if np.sum(h) > 0.5:
            break
    return np.sum(h * h)


def rnn_writes_ahead(W, U, xs, h):  # the loop writes xs's next row: nothing to hoist
    xs = xs * 1.0
    for t in range(xs.shape[0] - 1):
        h = np.tanh(W @ h + U @ xs[t])
        xs[t + 1] = xs[t + 1] + h[:3]
    return np.sum(h * h)


def rnn_in_branch(W, U, xs, h, flag):
    if flag > 0:
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def self_product_loop(xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ xs + h)
    return np.sum(h * h)


def sum_of_two(a, b):
    return np.sum(a + b)


def rnn_count(W, U, xs, h, n):
    for t in range(n):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def rnn_any(W, U, b, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum(h * h)


def mlp(params, x):
    h = np.tanh(params["W"] @ x + params["b"])
    return np.sum(h * h)


def listed(ws, x):
    return np.sum(np.tanh(ws[0] * x) * ws[1])


def sine_of_number(x, y):
    return math.sin(x) * y + x * x


def sine_loop(x):
    for _ in range(3):
        x = math.sin(x) * x + 0.5
    return x


def cross_entropy(W, X, Y):
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def nll(Z, labels):
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.sum(logp[np.arange(Z.shape[0]), labels])


def gather(x, idx):
    return np.sum(np.sin(x[idx]) * x[idx])


def pick_pair(x, i):
    return np.sum(np.tanh(x[i]) * x[i + 1])


def argmax_scale(v, A, w):
    return np.sum(v[np.argmax(A, axis=1)] * np.sum(w))


def argmax_rows(v, A):
    return v[np.argmax(A, axis=1)] * 2.0


def cumsum_matvec(X, v):
    return np.sum(np.cumsum(X) @ v)


def matvec_output(x, w):
    return x @ w


def layer(W, x):
    return np.tanh(W @ x)


def net(W, x):
    h = layer(W, x)
    if np.sum(x) > 0:
        out = np.sum(h * h)
    else:
        out = np.sum(np.sin(h))
    return out


def writes(x):
    y = np.zeros(3)
    y[0] = x[0] * 2
    y[1] = np.sin(x[1])
    y[2] = x[0] * x[2]
    return np.sum(y * y)


def writes_like(x, s):
    y = np.zeros_like(x)
    y[0] = x[0] * s
    y[1:] = x[1:] ** 2
    return np.sum(y * x)


def by_rank(x):
    if np.ndim(x) == 1:
        return np.sum(x * x)
    return np.sum(x[0] * x[-1])


def with_default(x, s=2.0):
    return np.sum(np.sin(x) * s)


def while_loop(x, w):
    i = 0
    h = x
    while i < 3:
        h = np.tanh(w * h + x)
        i = i + 1
    return np.sum(h)


# the signature --------------------------------------------------------------


class Sub(np.ndarray):
    pass


@pytest.mark.parametrize("value, entry", [
    (np.ones((2, 1)), ("ndarray", 2, (1,))),
    (np.ones((1, 1, 3)), ("ndarray", 3, (0, 1))),
    (np.ones(4), ("ndarray", 1, ())),
    (np.array(2.0), ("ndarray", 0, ())),
    (np.ones(3, dtype=np.int64), ("ndarray", 1, ())),
    (3.0, ("float",)),
    (3, ("int",)),
    (np.float64(3.0), ("float64",)),
    (np.float32(3.0), ("float32",)),
    (True, None),
    (np.int64(3), None),
    ([1.0, 2.0], None),
    ({"a": np.ones(2)}, None),
    (np.ones(3).view(Sub), None),
])
def test_signature_entries(value, entry):
    assert Signature.of((value,)).params == (entry,)


# 1. one grad object, arguments of different ranks ------------------------------


def test_ranks_in_sequence_matvec_matmat_matvec():
    arr = rng_arrays(1)
    W = arr(3, 4)
    g = sg.grad(tanh_sum_seq, wrt=(0, 1))
    calls = [arr(4), arr(4, 2), arr(4), arr(4, 1), arr(4, 2), arr(4)]
    for x in calls:
        check(tanh_sum_seq, (W, x), g(W, x), (0, 1))
    signatures, general_used = compiled(tanh_sum_seq, (0, 1))
    # a version for each rank (the (4, 1) call may use the (4, 2) one: its
    # guard admits it), and no general one needed
    assert signatures <= {Signature.of((W, x)).params for x in calls}
    assert {Signature.of((W, calls[0])).params, Signature.of((W, calls[1])).params} <= signatures
    assert not general_used


def test_ranks_in_sequence_then_python_numbers():
    g = sg.grad(sine_square)
    calls = [np.array([0.3, -0.5, 1.2]), np.array([[0.1, 0.2], [-0.3, 0.4]]), 0.7,
             np.float64(-0.4), np.array(0.25), 2, np.float32(0.6),
             np.array([[0.5], [1.5]], dtype=np.float32), np.array([0.3, -0.5, 1.2])]
    for x in calls:
        check(sine_square, (x,), g(x), 0)


@pytest.mark.parametrize("shapes", [
    [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((2, 3, 4), (4, 2)),
     ((3, 4), (2, 4, 5)), ((4,), (4,))],
])
def test_matmul_adjoints_for_each_pair_of_ranks(shapes):
    arr = rng_arrays(2)
    g = sg.grad(product_tanh, wrt=(0, 1))
    for sa, sb in shapes:
        a, b = arr(*sa), arr(*sb)
        check(product_tanh, (a, b), g(a, b), (0, 1))


@pytest.mark.parametrize("sa, sb, own", [
    ((3, 4), (4,), True), ((4,), (4, 2), True), ((3, 4), (4, 2), True), ((4,), (4,), True),
    ((2, 3, 4), (4, 2), False),
])
def test_matmul_known_ranks_use_the_products_own_adjoint(sa, sb, own):
    """With both ranks 1 or 2 the adjoint is written out; with a batch axis
    the runtime's general ``matmul_left``/``matmul_right``."""
    args = (np.ones(sa), np.ones(sb))
    text = specialized(product_tanh, (0, 1), args).text
    assert ("matmul_left" not in text) == own, text
    general_text = api.derivative(product_tanh, (0, 1), "gradient").text
    assert "matmul_left" in general_text


# 2. broadcasting where a length is 1 only at run time --------------------------


def test_equal_lengths_first_then_an_axis_of_length_one():
    arr = rng_arrays(3)
    g = sg.grad(prod_sum, wrt=(0, 1))
    first = (arr(3, 4), arr(3, 4))
    check(prod_sum, first, g(*first), (0, 1))
    misfit = (arr(3, 1), arr(3, 4))
    with pytest.raises(Unspecialized):  # the first version assumed equal lengths
        specialized(prod_sum, (0, 1), first).function(*misfit)
    ga, gb = g(*misfit)
    assert ga.shape == (3, 1) and gb.shape == (3, 4)
    check(prod_sum, misfit, (ga, gb), (0, 1))
    close(ga, np.sum(misfit[1], axis=1, keepdims=True), 1e-12)
    for sa, sb in [((3, 4), (1, 4)), ((3, 4), (4,)), ((1,), (3, 4)), ((3, 1), (1, 4)),
                   ((3, 4), (3, 4))]:
        args = (arr(*sa), arr(*sb))
        check(prod_sum, args, g(*args), (0, 1))


def test_an_axis_of_length_one_first_then_equal_lengths():
    arr = rng_arrays(4)
    g = sg.grad(prod_sum_ones_first, wrt=(0, 1))
    first = (arr(3, 1), arr(3, 4))
    ga, gb = g(*first)
    assert ga.shape == (3, 1)
    check(prod_sum_ones_first, first, (ga, gb), (0, 1))
    with pytest.raises(Unspecialized):  # the first version assumed a length of 1
        specialized(prod_sum_ones_first, (0, 1), first).function(arr(3, 4), arr(3, 4))
    for sa, sb in [((3, 4), (3, 4)), ((3, 1), (3, 1)), ((1, 1), (3, 4)), ((3, 4), (3, 1)),
                   ((3, 1), (3, 4))]:
        args = (arr(*sa), arr(*sb))
        check(prod_sum_ones_first, args, g(*args), (0, 1))


def test_unbroadcast_dropped_where_lengths_are_assumed_equal():
    equal = specialized(prod_sum_text, (0, 1), (np.ones((3, 4)), np.ones((3, 4)))).text
    ones = specialized(prod_sum_text, (0, 1), (np.ones((3, 1)), np.ones((3, 4)))).text
    assert "unbroadcast" not in equal
    assert any(e == {"a.shape[1]", "1"} for e in guard_equalities(ones)), ones
    assert any(e == {"a.shape[1]", "b.shape[1]"} for e in guard_equalities(equal)), equal


def test_python_float_then_arrays_that_broadcast():
    arr = rng_arrays(5)
    g = sg.grad(scaled, wrt=(0, 1))
    b = arr(3)
    for a in [0.5, arr(3), arr(1), np.array(0.3), np.float64(-0.2), arr(2, 3), 0.5]:
        check(scaled, (a, b), g(a, b), (0, 1))


def test_same_signature_with_a_failed_length_assumption_runs_the_general_version():
    """Both branches give ``y``, so the analysis assumed ``a`` and ``b`` of one
    length: another length with the same ranks fails the guard and the same
    signature has no other version."""
    a = np.array([1.0, -2.0, 3.0])
    g = sg.grad(pick_branch, wrt=(0, 1))
    check(pick_branch, (a, a + 0.5, 1.5), g(a, a + 0.5, 1.5), (0, 1))
    assert not compiled(pick_branch, (0, 1))[1]
    text = specialized(pick_branch, (0, 1), (a, a, 1.5)).text
    assert {"a.shape[0]", "b.shape[0]"} in guard_equalities(text)
    b = np.arange(5.0) - 2.0
    for args in [(a, b, 1.5), (a, b, -1.5), (a, b, 2), (a, a * 2, -0.5)]:
        check(pick_branch, args, g(*args), (0, 1))
    assert compiled(pick_branch, (0, 1))[1]  # the general version ran


def test_loop_carried_value_that_starts_with_one_element():
    g = sg.grad(grow)
    for x in [np.array([0.5, 1.0, 2.0]), np.array([0.7]), np.array([[0.1, 0.2], [0.3, 0.4]]),
              0.3, np.array([0.5, 1.0, 2.0])]:
        check(grow, (x,), g(x), 0)


def test_a_length_the_first_call_saw_over_one_is_not_assumed_to_be_one():
    """``h = np.zeros(1)`` then ``h = h + x * t`` in a loop: ``h`` does not keep
    its shape around the loop (it grows to x's), so nothing is assumed of x's
    length; the version fits the call it was compiled for and longer ones."""
    x = np.array([0.5, 1.0, 2.0])
    d = specialized(grow, 0, (x,))
    assert "== 1" not in d.text
    for y in (x, np.arange(5.0)):
        np.testing.assert_allclose(d.function(y), numeric_grad(grow, (y,), {}, 0), rtol=1e-6)


def test_while_loop_with_broadcasting_arguments():
    g = sg.grad(while_loop, wrt=(0, 1))
    for x, w in [(np.array([0.1, 0.2]), np.array([0.5, -0.3])), (np.array([0.1, 0.2]), 0.7),
                 (np.array([[0.1], [0.2]]), np.array([0.5, -0.3])),
                 (np.array([0.1, 0.2]), np.array([0.5, -0.3]))]:
        check(while_loop, (x, w), g(x, w), (0, 1))


# 3. the guard ---------------------------------------------------------------


def _rnn_args(seed=6, n=4, m=3, steps=5):
    arr = rng_arrays(seed)
    return arr(n, n), arr(n, m), arr(n, scale=0.1), arr(steps, m), arr(n)


def test_rnn_guard_text():
    args = _rnn_args()
    text = specialized(rnn, (0, 1, 2, 3, 4), args).text
    assert "raise Unspecialized" in text
    for name, rank in zip(["W", "U", "b", "xs", "h"], [2, 2, 1, 2, 1]):
        assert f"{name}.__class__ is not ndarray or {name}.ndim != {rank}" in text
    equalities = guard_equalities(text)
    assert any({"W.shape[1]", "h.shape[0]"} <= e for e in equalities), equalities
    assert any({"W.shape[0]", "W.shape[1]", "U.shape[0]", "b.shape[0]"} <= e
               for e in equalities), equalities
    assert {"U.shape[1]", "xs.shape[1]"} in equalities
    # the guard comes first: nothing is computed before it
    body = text.split("def grad_rnn(W, U, b, xs, h):")[1]
    assert body.index("raise Unspecialized") < body.index("np.tanh")


def test_general_version_has_no_guard_and_no_hoist():
    text = api.derivative(rnn, (0, 1, 2, 3, 4), "gradient").text
    assert "Unspecialized" not in text and not hoisted(text)
    assert "Unspecialized" not in sg.source(rnn, wrt=(0, 1, 2, 3, 4))


def _misfits():
    W, U, b, xs, h = _rnn_args()
    return {
        "xs of rank 3": (W, U, b, xs[:, :, None], h),
        "h of rank 2": (W, U, b, xs, h[:, None]),
        "W a list": (W.tolist(), U, b, xs, h),
        "b a float": (W, U, 0.5, xs, h),
        "an ndarray subclass": (W.view(Sub), U, b, xs, h),
        "U against xs": (W, U[:, :2], b, xs, h),
        "W against h": (W[:3, :3], U[:3], b[:3], xs, h),
        "b against W": (W, U, b[:3], xs, h),
    }


@pytest.mark.parametrize("name", list(_misfits()))
def test_guard_rejects_arguments_it_does_not_fit(name):
    function = specialized(rnn, (0, 1, 2, 3, 4), _rnn_args()).function
    function(*_rnn_args())  # fits
    with pytest.raises(Unspecialized):
        function(*_misfits()[name])


def test_guard_admits_other_lengths_of_the_same_ranks():
    function = specialized(rnn, (0, 1, 2, 3, 4), _rnn_args()).function
    other = _rnn_args(seed=7, n=6, m=2, steps=3)
    got = function(*other)
    for g, r in zip(got, general(rnn, (0, 1, 2, 3, 4), other)):
        close(g, r, 1e-10)


def test_grad_recovers_from_every_misfit():
    """``sg.grad`` catches ``Unspecialized`` where the misfit is still a valid call."""
    args = _rnn_args()
    g = sg.grad(rnn, wrt=(0, 1, 2, 3, 4))
    check(rnn, args, g(*args), (0, 1, 2, 3, 4), tol=1e-5)
    W, U, b, xs, h = args
    for other in [(W.view(Sub), U, b, xs, h), (W, U, 0.3, xs, h),
                  (W, U, b[:, None], xs, np.tile(h[:, None], (1, 4))),
                  _rnn_args(seed=8, n=3, m=2, steps=4), args]:
        grads = g(*other)
        for k, (got, x) in enumerate(zip(grads, other)):
            assert type(got) is (float if isinstance(x, float) else np.ndarray)
            assert np.shape(got) == np.shape(x)
            close(got, numeric_grad(rnn, other, {}, k), 1e-5)
            close(got, sg.vjp(rnn, *other)[1](1.0)[k], 1e-9)


def test_gradients_are_separate_arrays():
    """Specialized for equal shapes, both adjoints of ``a + b`` are one array
    in the generated code; the caller gets two."""
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 0.5])
    assert "unbroadcast" not in specialized(sum_of_two, (0, 1), (a, b)).text
    ga, gb = sg.grad(sum_of_two, wrt=(0, 1))(a, b)
    check(sum_of_two, (a, b), (ga, gb), (0, 1))
    ga[0] = 7.0
    assert gb[0] == 1.0


def test_keyword_arguments_after_positional_ones():
    arr = rng_arrays(9)
    W = arr(3, 4)
    g = sg.grad(tanh_sum, wrt=(0, 1))
    for x, call in [(arr(4), lambda x: g(W, x)), (arr(4, 2), lambda x: g(W, x=x)),
                    (arr(4), lambda x: g(W=W, x=x)), (arr(4, 3), lambda x: g(W, x))]:
        check(tanh_sum, (W, x), call(x), (0, 1))


def test_default_argument_left_out_then_passed():
    x = np.array([0.1, -0.2, 0.4])
    g = sg.grad(with_default, wrt=(0, 1))
    for args in [(x, 3.0), (x,), (x, np.array([1.0, 2.0, -1.0])), (x, 3.0), (x[:, None], 0.5)]:
        grads = g(*args)
        full = args if len(args) == 2 else args + (2.0,)
        check(with_default, full, grads, (0, 1))


# 4. hoisting a loop's products with rows --------------------------------------


def _hoist_args(f, seed=10):
    arr = rng_arrays(seed)
    n, m, steps = 4, 3, 5
    if f is rnn_right:
        return arr(n, n), arr(m, n), arr(n, scale=0.1), arr(steps, m), arr(n)
    if f is rnn_matrix:
        return arr(n, n), arr(n, m), arr(n, 1, scale=0.1), arr(steps, m, 2), arr(n, 2)
    if f is rnn_batch_rows:
        return arr(n, n), arr(m, n), arr(n, scale=0.1), arr(steps, m), arr(2, n)
    return arr(n, n), arr(n, m), arr(n, scale=0.1), arr(steps, m), arr(n)


@pytest.mark.parametrize("f, expected", [
    (rnn, True), (rnn_explicit, True), (rnn_right, True), (rnn_matrix, True),
    (rnn_two, True), (rnn_reversed, True), (rnn_middle, True), (rnn_stride, True),
    (rnn_batch_rows, True), (rnn_changing, False),
], ids=lambda v: v.__name__ if callable(v) else str(v))
def test_hoisted_loop_gradients(f, expected):
    wrt = (0, 1, 2, 3, 4)
    args = _hoist_args(f)
    text = specialized(f, wrt, args).text
    assert hoisted(text) == expected, text
    grads = sg.grad(f, wrt=wrt)(*args)
    check(f, args, grads, wrt, tol=1e-5)
    # and against the general gradient-mode function itself
    for got, want in zip(grads, api.derivative(f, wrt, "gradient").function(*args)):
        close(got, want, 1e-10)


def _more_hoist_cases():
    arr = rng_arrays(18)
    W, U, xs, h = arr(4, 4), arr(4, 3), arr(5, 3), arr(4)
    return [
        (rnn_nested, (W, U, xs, h), (0, 1, 2, 3), True),
        (rnn_break, (W, U, xs, h), (0, 1, 2, 3), True),
        (rnn_writes_ahead, (W, U, xs, h), (0, 1, 2, 3), False),
        (rnn_in_branch, (W, U, xs, h, 1.0), (0, 1, 2, 3), True),
        (rnn_in_branch, (W, U, xs, h, -1.0), (0, 1, 2, 3), True),
        (self_product_loop, (arr(4, 4), arr(4)), (0, 1), True),
    ]


@pytest.mark.parametrize("case", range(len(_more_hoist_cases())))
def test_more_hoisted_loops(case):
    f, args, wrt, expected = _more_hoist_cases()[case]
    assert hoisted(specialized(f, wrt, args).text) == expected
    grads = sg.grad(f, wrt=wrt)(*args)
    check(f, args, grads, wrt, tol=1e-5)
    for got, want in zip(grads, api.derivative(f, wrt, "gradient").function(*args)):
        close(got, want, 1e-10)


def test_rows_the_loop_does_not_read_get_no_gradient():
    args = _hoist_args(rnn_two)
    gxs = sg.grad(rnn_two, wrt=3)(*args)
    assert gxs.shape == args[3].shape
    assert np.all(gxs[2:] == 0.0)
    assert np.all(np.abs(gxs[:2]) > 0)
    close(gxs, numeric_grad(rnn_two, args, {}, 3))


def test_hoisted_rnn_across_sequence_lengths_ranks_and_an_empty_sequence():
    arr = rng_arrays(11)
    W, U, b = arr(4, 4), arr(4, 3), arr(4, scale=0.1)
    g = sg.grad(rnn_any, wrt=(0, 1, 2, 3, 4))
    for xs, h, bb in [(arr(5, 3), arr(4), b), (arr(2, 3), arr(4), b), (arr(0, 3), arr(4), b),
                      (arr(5, 3, 2), arr(4, 2), b[:, None]), (arr(1, 3), arr(4), b),
                      (arr(5, 3), arr(4), b)]:
        args = (W, U, bb, xs, h)
        check(rnn_any, args, g(*args), (0, 1, 2, 3, 4), tol=1e-5)


def test_loop_count_argument():
    arr = rng_arrays(12)
    W, U, xs, h = arr(4, 4), arr(4, 3), arr(6, 3), arr(4)
    g = sg.grad(rnn_count, wrt=(0, 1, 2, 3))
    assert hoisted(specialized(rnn_count, (0, 1, 2, 3), (W, U, xs, h, 3)).text)
    for n in [3, 6, 0, 1]:
        check(rnn_count, (W, U, xs, h, n), g(W, U, xs, h, n), (0, 1, 2, 3), tol=1e-5)


# 5. containers and numbers ------------------------------------------------------


def _dict_numeric(f, params, x, eps=1e-6):
    out = {}
    for k, v in params.items():
        grad = np.zeros(v.shape)
        for i in np.ndindex(v.shape):
            up = {kk: vv.copy() for kk, vv in params.items()}
            down = {kk: vv.copy() for kk, vv in params.items()}
            up[k][i] += eps
            down[k][i] -= eps
            grad[i] = (f(up, x) - f(down, x)) / (2 * eps)
        out[k] = grad
    return out


def test_dict_argument():
    arr = rng_arrays(13)
    params = {"W": arr(2, 3), "b": arr(2)}
    g = sg.grad(mlp)
    assert Signature.of((params, arr(3))).params[0] is None
    for x in [arr(3), arr(3, 2), arr(3), arr(3, 1)]:
        got = g(params, x)
        assert isinstance(got, dict) and set(got) == {"W", "b"}
        want = _dict_numeric(mlp, params, x)
        by_vjp = sg.vjp(mlp, params, x)[1](1.0)[0]
        for k in params:
            assert_like(got[k], params[k])
            close(got[k], want[k])
            close(got[k], by_vjp[k], 1e-10)


def test_list_argument():
    ws = [np.array([0.3, 0.4]), np.array([1.0, -2.0])]
    g = sg.grad(listed, wrt=(0, 1))
    for x in [np.array([0.5, 0.7]), 0.5, np.array([[0.5], [0.7], [0.1]]), np.float64(0.2),
              np.array([0.5, 0.7])]:
        check(listed, (ws, x), g(ws, x), (0, 1))


def test_math_function_of_a_float_then_numpy_scalars():
    g = sg.grad(sine_of_number, wrt=(0, 1))
    for x, y in [(0.3, 2.0), (np.float64(0.3), 2.0), (np.array(0.3), 2.0),
                 (np.float64(-1.1), np.float64(0.5)), (np.array(0.8), np.array(-1.5)),
                 (1, 2.0), (np.float32(0.3), 2.0), (0.3, 2.0)]:
        check(sine_of_number, (x, y), g(x, y), (0, 1))


def test_math_function_in_a_loop_over_the_parameter():
    g = sg.grad(sine_loop)
    for x in [0.8, np.float64(0.8), np.array(0.8), 0.3, np.array(-0.4)]:
        check(sine_loop, (x,), g(x), 0)


# 6. integer arguments ------------------------------------------------------------


def test_integer_one_hot_labels():
    arr = rng_arrays(14)
    W = arr(3, 4)
    g = sg.grad(cross_entropy)
    eye = np.eye(4, dtype=np.int64)
    for X, Y in [(arr(5, 3), eye[[0, 1, 3, 2, 1]]), (arr(1, 3), eye[[2]]),
                 (arr(5, 3), eye[[3, 3, 0, 1, 2]]), (arr(2, 3), eye[[1, 0]].astype(np.int8))]:
        check(cross_entropy, (W, X, Y), g(W, X, Y), 0)


def test_integer_labels_as_an_index():
    arr = rng_arrays(15)
    g = sg.grad(nll)
    for Z, labels in [(arr(2, 3), np.array([2, 0])), (arr(1, 3), np.array([1])),
                      (arr(4, 5), np.array([4, 0, 0, 3]))]:
        check(nll, (Z, labels), g(Z, labels), 0)


def test_index_arrays_and_integer_indices():
    x = np.array([0.3, -0.7, 1.1, 0.2, -0.5, 0.9])
    g = sg.grad(gather)
    for xx, idx in [(x, np.array([0, 2, 2, 5])), (x, np.array([3])), (x.reshape(2, 3),
                    np.array([1, 0, 1])), (x, 4), (x, np.int64(1)), (x, [5, 5]),
                    (x, np.array([0, 2, 2, 5]))]:
        check(gather, (xx, idx), g(xx, idx), 0)
    g = sg.grad(pick_pair)
    for xx, i in [(x, 2), (x.reshape(3, 2), 1), (x, np.int64(3)), (x, 0), (x, -2)]:
        check(pick_pair, (xx, i), g(xx, i), 0)


def test_argmax_along_an_axis_is_an_index_array():
    """``np.argmax(A, axis=1)`` is an array of integers: indexing ``v`` with it
    gives one value per row of ``A``, not a single number."""
    v = np.array([0.3, 0.5, 0.9])
    A = np.array([[0., 1., 0.], [2., 0., 1.], [0., 0., 3.], [1., 0., 0.]])
    w = np.array([0.1, 0.2, 0.3, 0.4])
    args = (v, A, w)
    expected = np.full(4, np.sum(v[np.argmax(A, axis=1)]))  # = 2.0 each
    close(numeric_grad(argmax_scale, args, {}, 2), expected)
    close(sg.vjp(argmax_scale, *args)[1](1.0)[2], expected, 1e-12)
    close(sg.grad(argmax_scale, wrt=2)(*args), expected, 1e-12)


def test_argmax_along_an_axis_non_scalar_output_is_reported():
    v = np.array([0.3, 0.5, 0.9])
    A = np.array([[0., 1., 0.], [2., 0., 1.], [0., 0., 3.], [1., 0., 0.]])
    with pytest.raises(NonScalarOutputError):
        sg.value_and_grad(argmax_rows)(v, A)
    with pytest.raises(NonScalarOutputError):
        sg.grad(argmax_rows)(v, A)


# 7. helpers, branches, writes in place ------------------------------------------


def test_helper_call_and_branch():
    arr = rng_arrays(16)
    W = arr(3, 4)
    g = sg.grad(net, wrt=(0, 1))
    for x in [np.abs(arr(4)), -np.abs(arr(4)), np.abs(arr(4, 2)), -np.abs(arr(4, 2)),
              np.abs(arr(4)), -np.abs(arr(4, 1))]:
        check(net, (W, x), g(W, x), (0, 1))


def test_writes_in_place():
    g = sg.grad(writes)
    for x in [np.array([0.3, 0.5, 0.7]), np.array([0.3, 0.5, 0.7, 0.9]),
              np.array([-0.2, 0.1, 1.3])]:
        check(writes, (x,), g(x), 0)
    g = sg.grad(writes_like, wrt=(0, 1))
    for x, s in [(np.array([0.3, 0.5, 0.7]), 2.0), (np.array([[0.3, 0.5], [0.7, 0.1]]), 2.0),
                 (np.array([[0.3, 0.5], [0.7, 0.1]]), np.array([1.5, -1.0])),
                 (np.array([0.3, 0.5, 0.7]), np.float64(-1.0))]:
        check(writes_like, (x, s), g(x, s), (0, 1))


def test_branch_on_the_rank():
    g = sg.grad(by_rank)
    for x in [np.array([1.0, 2.0]), np.array([[1.0, 2.0], [3.0, 4.0]]),
              np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([3.0, 1.0, -1.0])]:
        check(by_rank, (x,), g(x), 0)


# more shapes the analysis must get right -------------------------------------------


def test_cumsum_of_a_matrix_is_flat():
    """``np.cumsum(X)`` without an axis flattens ``X``: of a (1, 3) matrix it
    is a vector of 3, so ``np.cumsum(X) @ v`` is a number."""
    X = np.array([[0.1, 0.2, 0.3]])
    v = np.array([0.5, -1.0, 2.0])
    for wrt in (0, 1):
        want = numeric_grad(cumsum_matvec, (X, v), {}, wrt)
        close(sg.vjp(cumsum_matvec, X, v)[1](1.0)[wrt], want)
        close(sg.grad(cumsum_matvec, wrt=wrt)(X, v), want)


def test_non_scalar_output_compiles_without_warnings():
    """``grad`` of a function whose output is a vector reports it, also where
    warnings are errors (the generated module must compile cleanly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NonScalarOutputError):
            sg.grad(matvec_output)(np.ones((2, 3)), np.ones(3))
    text = specialized(matvec_output, 0, (np.ones((2, 3)), np.ones(3))).text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(text, "generated", "exec")


def test_scalar_output_then_vector_output():
    g = sg.grad(matvec_output, wrt=(0, 1))
    x, w = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.5])
    check(matvec_output, (x, w), g(x, w), (0, 1))
    with pytest.raises(NonScalarOutputError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            g(np.ones((2, 3)), w)
    check(matvec_output, (w, x), g(w, x), (0, 1))


def test_float32_arrays_keep_their_dtype():
    g = sg.grad(tanh_sum, wrt=(0, 1))
    arr = rng_arrays(17)
    for W, x in [(arr(3, 4).astype(np.float32), arr(4).astype(np.float32)),
                 (arr(3, 4), arr(4)),
                 (arr(3, 4).astype(np.float32), arr(4, 2).astype(np.float32))]:
        check(tanh_sum, (W, x), g(W, x), (0, 1))


def copies_then_writes(x):
    x = x * 1.0
    x[0] = x[0] * 2.0
    return np.sum(x * x)


def test_vjp_of_a_function_that_copies_its_argument_then_writes_into_the_copy():
    """Found along the way (not specialization): ``x = x * 1.0`` rebinds ``x``
    to a new array, so writing into it does not touch the caller's array;
    ``grad`` and ``value_and_grad`` accept it, ``vjp`` must too."""
    x = np.array([0.5, -1.0, 2.0])
    want = numeric_grad(copies_then_writes, (x,), {}, 0)
    close(sg.grad(copies_then_writes)(x), want)
    close(sg.vjp(copies_then_writes, x)[1](1.0)[0], want)


# 8. a property: random broadcasting shapes, one grad object ---------------------


BROADCAST_GRAD = sg.grad(broadcast_mix, wrt=(0, 1, 2))


@st.composite
def broadcasting_calls(draw):
    """Arguments of one call: arrays whose shapes (rank 1-2, lengths 1-4)
    broadcast together, perhaps one Python float."""
    rank = draw(st.integers(1, 2))
    target = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    args = []
    for k in range(3):
        if k > 0 and draw(st.integers(0, 5)) == 0:
            args.append(draw(st.floats(-1.5, 1.5)))
            continue
        own = draw(st.integers(1, rank))
        shape = [n if draw(st.booleans()) else 1 for n in target[rank - own:]]
        values = draw(st.lists(st.floats(-1.5, 1.5), min_size=int(np.prod(shape)),
                               max_size=int(np.prod(shape))))
        args.append(np.array(values, dtype=np.float64).reshape(shape))
    return tuple(args)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(broadcasting_calls(), min_size=1, max_size=3))
def test_broadcasting_shapes_on_one_grad_object(calls):
    for args in calls:
        grads = BROADCAST_GRAD(*args)
        for k, (g, x) in enumerate(zip(grads, args)):
            assert_like(g, x)
            close(g, numeric_grad(broadcast_mix, args, {}, k), 1e-5)
            close(g, sg.vjp(broadcast_mix, *args)[1](1.0)[k], 1e-9)


def test_source_shows_the_version_grad_runs():
    args = _rnn_args()
    text = sg.source(rnn, mode="gradient", wrt=(0, 1, 2), args=args)
    assert text == specialized(rnn, (0, 1, 2), args).text
    assert "raise Unspecialized" in text and "raise Unspecialized" not in sg.source(
        rnn, mode="gradient", wrt=(0, 1, 2))
    with pytest.raises(sg.SourceGradError, match="mode='gradient' or 'reverse'"):
        sg.source(rnn, mode="forward", wrt=0, args=args)
    assert "raise Unspecialized" in sg.source(rnn, wrt=0, args=args)  # value_and_grad's


def product_sum(W, x):
    return np.sum(W * x)


def test_a_gradient_equal_to_an_argument_is_not_the_argument():
    """The gradient of sum(W * x) w.r.t. W is x's values: never x itself."""
    W, x = np.ones((2, 3)), np.arange(6.0).reshape(2, 3)
    g = sg.grad(product_sum)(W, x)
    assert g is not x and not np.shares_memory(g, x)
    np.testing.assert_array_equal(g, x)


def test_a_new_array_is_returned_as_it_is():
    args = (np.ones((3, 4)), np.arange(4.0))
    d = specialized(tanh_sum, 0, args)
    assert d.new is True
    g = sg.grad(tanh_sum)(*args)
    assert g.flags.owndata and not any(np.shares_memory(g, a) for a in args)


def test_value_and_grad_runs_specialized_code_too():
    vg = sg.value_and_grad(tanh_sum, wrt=(0, 1))
    for W, x in [(arr_of((3, 4), 1), arr_of((4,), 2)), (arr_of((3, 4), 3), arr_of((4, 2), 4)),
                 (arr_of((2, 4), 5), arr_of((4,), 6))]:
        value, (gW, gx) = vg(W, x)
        assert value == pytest.approx(tanh_sum(W, x), rel=1e-12)
        for k, g in enumerate((gW, gx)):
            close(g, numeric_grad(tanh_sum, (W, x), {}, k))
    signatures, _ = compiled_in_mode(tanh_sum, (0, 1), "reverse")
    assert {(("ndarray", 2, ()), ("ndarray", 1, ())),
            (("ndarray", 2, ()), ("ndarray", 2, ()))} <= signatures


def arr_of(shape, seed):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


def compiled_in_mode(f, wrt, mode):
    keys = [k for k in api._compiled.get(f, {}) if k[:2] == (mode, wrt)]
    return {k[3] for k in keys if len(k) > 3}, any(len(k) == 3 for k in keys)


def carried_flag(x, b):
    i = 0
    for t in range(2):
        i = t > 0  # an integer before the loop, a boolean after it: x[True] adds an axis
    return np.sum(x[i] + b)


def test_a_loop_carried_integer_may_not_stay_one():
    x, b = np.array([0.5, 1.0, 2.0]), np.array([0.1, 0.2, 0.3])
    g = sg.grad(carried_flag, wrt=(0, 1))
    check(carried_flag, (x, b), g(x, b), (0, 1))


def a_comparison_as_index(x, b, n):
    i = n > 0  # a boolean: x[True] adds an axis
    return np.sum(x[i] + b)


def test_a_comparison_of_integers_is_no_integer_index():
    x, b = np.array([0.5, 1.0, 2.0]), np.array([0.1, 0.2, 0.3])
    g = sg.grad(a_comparison_as_index, wrt=(0, 1))
    check(a_comparison_as_index, (x, b, 2), g(x, b, 2), (0, 1))
