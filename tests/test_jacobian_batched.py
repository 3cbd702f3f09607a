"""Jacobians by batched forward mode, and their fallback to one jvp per column.

- ``test_rule_batched``: every case of the rule table (``rules/specs.py``)
  whose function is batch-safe: the batched Jacobian against the column
  loop (``jacobians._jacobian_forward``, tight tolerance) and against central
  differences, element by element; the one row that is not batch-safe
  (``nested_grad``) is refused, and still gets its Jacobian.
- ``test_program_batched``: every program of the corpora
  (``programs/test_straightline.py``, ``test_control_flow.py``,
  ``test_functions.py``) with array or number arguments runs batched, and
  agrees with reverse mode.
- ``test_map``: maps ``R^n -> R^m`` written here (broadcasting, products of
  every rank, reductions over axes, fancy indexing, writes in loops,
  branches, helpers, appends, scalars in and out), the batched Jacobian
  against the column loop, the row loop and central differences.
- The table itself: every forward rule is batch-safe or listed as refused,
  batched rules bind like forward rules, and a rule that is not known to
  act elementwise is never lifted.
- Fallbacks: a primitive with no batch-safe rule, a runtime case the
  helpers refuse, containers; ``mode="auto"``.
"""

from __future__ import annotations

import math

import gast
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import rules
from sourcegrad.rules import d
from sourcegrad.rules.registry import parse_template
from sourcegrad.runtime import unreduce
from sourcegrad.jacobians import _jacobian_forward
from sourcegrad.batched_jacobian import _seedable, jacobian_batched, prefer_rows
from sourcegrad.forward_batched import NotBatchable
from sourcegrad.pipeline import compile_forward
from sourcegrad.rules import batched as batched_rules

from .programs import test_control_flow, test_functions, test_straightline
from .rules.specs import Spec, arg
from .rules.test_rules import FORWARD_CASES

#: Rows of the rule table whose functions call a primitive with no batch-safe rule.
NOT_BATCH_SAFE_ROWS = {"nested_grad"}

#: Rows where the column loop itself fails on a 0-d array argument (it seeds
#: a 0-d array with a Python float, which the function then indexes).
COLUMN_LOOP_FAILS = {"index_empty", "index_ellipsis_only"}


def _is_float32(case) -> bool:
    return any(arg(a).dtype == "float32" for a in case)


def numeric_jacobian(f, args, i, step=1e-6):
    """``d f / d args[i]`` by central differences, element by element, in float64."""
    args = [np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            else a for a in args]
    x = args[i]

    def at(value):
        shifted = list(args)
        shifted[i] = value
        return np.asarray(f(*shifted), dtype=np.float64)

    if not isinstance(x, np.ndarray):
        h = step * max(1.0, abs(float(x)))
        return (at(type(x)(x + h)) - at(type(x)(x - h))) / (2 * h)
    columns = []
    for j in np.ndindex(*x.shape):
        h = step * max(1.0, abs(float(x[j])))
        plus, minus = x.copy(), x.copy()
        plus[j] += h
        minus[j] -= h
        columns.append((at(plus) - at(minus)) / (2 * h))
    y_shape = np.shape(f(*args))
    if not columns:
        return np.zeros(y_shape + x.shape)
    return np.moveaxis(np.array(columns), 0, -1).reshape(y_shape + x.shape)


# ---------------------------------------------------------------------------
# the rule table


@pytest.mark.parametrize("spec, case", FORWARD_CASES)
def test_rule_batched(spec: Spec, case):
    args = spec.make_args(case)
    wrt = spec.differentiated(case)
    got = jacobian_batched(spec.fn, wrt, args, {})
    if spec.id in NOT_BATCH_SAFE_ROWS:
        assert got is None
        with pytest.raises(NotBatchable):
            compile_forward(spec.fn, wrt, batched=True)
        got = sg.jacobian(spec.fn, wrt, mode="forward")(*args)  # the column loop
    else:
        assert got is not None, "batched forward mode refused a batch-safe function"
    loose = _is_float32(case)
    try:
        columns = _jacobian_forward(spec.fn, wrt, args, {})
    except TypeError:
        assert spec.id in COLUMN_LOOP_FAILS and any(arg(a).shape == () for a in case)
        columns = None
    for k, i in enumerate(wrt):
        x, y = args[i], spec.fn(*args)
        assert got[k].shape == np.shape(y) + np.shape(x)
        if columns is not None:
            # the column loop rounds each column to the output's float32
            np.testing.assert_allclose(got[k], columns[k], rtol=1e-5 if loose else 1e-10,
                                       atol=1e-6 if loose else 1e-12,
                                       err_msg=f"batched against columns, argument {i}")
        if spec.kink:  # on a tie: no derivative for differences to find
            continue
        expected = numeric_jacobian(spec.fn, args, i, step=1e-3 if loose else 1e-6)
        rtol, atol = (1e-3, 1e-4) if loose else (spec.rtol, spec.atol)
        np.testing.assert_allclose(got[k], expected, rtol=rtol, atol=atol,
                                   err_msg=f"batched against differences, argument {i}")


def test_every_forward_rule_is_batch_safe_or_refused():
    """A new forward rule needs a decision: a batched rule, or refusal."""
    from sourcegrad import runtime

    # the runtime's helpers (for forward over generated code), but list_pop: items.pop();
    # those in HELPERS have batched rules of their own (a Hessian in one call), the
    # others are refused
    helpers = {getattr(runtime, name) for name in runtime.__all__
               if getattr(runtime, name) in rules.FORWARD} - {runtime.list_pop}
    refused = helpers - set(batched_rules.HELPERS)
    assert runtime.nested_grad in refused and runtime.matmul_left_sum in refused
    assert set(batched_rules.HELPERS) <= helpers
    undecided = [p for p in rules.FORWARD
                 if p not in batched_rules.BATCHED and p not in helpers]
    assert not undecided, undecided
    assert not any(p in batched_rules.BATCHED for p in helpers)
    assert all(batched_rules.lookup_batched(p) is None for p in refused)


def test_batched_rules_bind_like_forward_rules():
    """Both tables: the primitives' rules and the runtime helpers' (HELPERS)."""
    assert not set(batched_rules.HELPERS) & set(batched_rules.BATCHED)
    for primitive, template in [*batched_rules.BATCHED.items(), *batched_rules.HELPERS.items()]:
        forward = rules.FORWARD[primitive]
        assert list(template.signature.parameters) == list(forward.signature.parameters), \
            primitive
        assert template.diff_params == forward.diff_params, primitive
        assert batched_rules.lookup_batched(primitive) is template


def test_every_lifted_rule_is_lifted():
    for primitive in batched_rules.LIFTED:
        node = batched_rules.BATCHED[primitive].node
        calls = {n.func.id for n in gast.walk(node)
                 if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)}
        assert "batched_lift" in calls and "rebroadcast" not in calls, primitive


def _not_elementwise_a(y, x):
    d[y] = np.sum(d[x])  # a template: never run


def _not_elementwise_b(y, x, w):
    d[y] = d[x] @ w


def _not_elementwise_c(y, x):
    d[y] = d[x][0] * x


def _not_elementwise_d(y, x):
    d[y] = d[x].T


def _not_elementwise_e(y, x):
    d[y] = unreduce(d[x], x)


def _not_elementwise_f(y, x):
    d[y] = np.matmul(d[x], x)


@pytest.mark.parametrize("template", [_not_elementwise_a, _not_elementwise_b,
                                      _not_elementwise_c, _not_elementwise_d,
                                      _not_elementwise_e, _not_elementwise_f])
def test_a_rule_not_known_to_act_elementwise_is_not_lifted(template):
    assert batched_rules.lifted(parse_template(template)) is None


# ---------------------------------------------------------------------------
# the program corpora (scalar outputs): batched against reverse mode


def _program_rows():
    rows = list(test_straightline.PROGRAMS) + list(test_control_flow.corpus.params) + list(
        test_functions.corpus.params)
    return [pytest.param(*row.values, id=row.id, marks=row.marks) for row in rows]


@pytest.mark.parametrize("f, args, kwargs, wrt, tol", _program_rows())
def test_program_batched(f, args, kwargs, wrt, tol):
    kwargs = kwargs or {}
    got = jacobian_batched(f, wrt, args, kwargs)
    wrts = wrt if isinstance(wrt, tuple) else (wrt,)
    params = sg.api._params_of(f, args, kwargs)
    names = list(params)
    values = [params[w if isinstance(w, str) else names[w]] for w in wrts]
    if not all(_seedable(x) for x in values):  # containers: no batched seed
        assert got is None
        return
    assert got is not None, "batched forward mode refused a program"
    want = sg.grad(f, wrt=wrt)(*args, **kwargs)
    pairs = zip(got, want) if isinstance(wrt, tuple) else [(got, want)]
    # reverse mode keeps float32 in float32; the batched Jacobian is float64
    loose = any(getattr(a, "dtype", None) == np.float32 for a in (*args, *kwargs.values()))
    for g, w in pairs:
        np.testing.assert_allclose(g, np.asarray(w, dtype=np.float64),
                                   rtol=1e-5 if loose else 1e-8, atol=1e-6 if loose else 1e-10)


# ---------------------------------------------------------------------------
# maps R^n -> R^m


RNG = np.random.default_rng(7)


def _arr(*shape):
    return RNG.uniform(0.5, 1.5, shape) * RNG.choice([-1.0, 1.0], shape)


def broadcast_pairs(x, c):
    return x[:, None] * c + np.sin(x)[:, None] - c * 2.0


def scalar_times_matrix(s, A):
    return s * A + s ** 2


def scalar_in_scalar_out(s, t):
    return math.sin(s) * t + s * s


def vector_to_scalar(x):
    return np.sum(np.exp(x) * x) / np.size(x)


def matvec(W, x):
    return np.tanh(W @ x)


def vecmat(x, W):
    return x @ W


def vecvec(x, y):
    return x @ y + np.dot(x, y) + np.inner(x, y)


def matmat(A, B):
    return A @ B + np.dot(A, B)


def stacked(A, B):
    return np.matmul(A, B)


def stacked_vector(A, x):
    return A @ x + x @ np.swapaxes(A, -1, -2)


def outer_inner(x, y):
    return np.outer(x, y) + np.inner(np.outer(y, x), x)[None, :]


def reductions(X):
    a = np.sum(X, axis=0)[:3] + np.mean(X, axis=-1, keepdims=True)[:, 0]
    b = np.max(X, axis=1) * np.prod(X, axis=1)
    return a[:3] + b + np.var(X, axis=1) + np.std(X) + np.linalg.norm(X, axis=1)


def reductions_3d(X):
    return np.sum(X, axis=(0, 2)) + np.cumsum(X, axis=1)[0, :, 1] + np.max(X, keepdims=True)[0, 0]


def fancy_index(X, rows):
    a = X[rows, 1:]
    b = X[[0, 2], :, None][:, 2, 0]
    c = X[..., -1]
    d = X[X[:, 0] > 0]
    return np.sum(a, axis=1)[:3] + b[:1] + c[:3] + np.sum(d)


def separated_advanced(X):
    return X[[0, 1], :, [2, 0]] * 2.0 + X[0, :, [1, 1]]


def shapes_and_joins(X, y):
    a = np.reshape(X, (-1,))
    b = np.ravel(np.transpose(X, (1, 0, 2)))
    c = np.moveaxis(X, 0, -1).reshape(-1) * np.swapaxes(X, 0, 2).ravel()
    d = np.concatenate([y, y * 2.0, a])[:24]
    e = np.stack([y, y * y], axis=1).ravel()
    f = np.hstack([y, [1.0]]) + np.vstack([y, y, y])[1, :].sum()
    g = np.squeeze(np.expand_dims(y, 0), axis=0)
    return np.concatenate([a + b + c + d + X.T.ravel(), e, f, g])


def write_in_a_loop(x):
    out = np.zeros((len(x), 2))
    for i in range(len(x)):
        out[i, 0] = x[i] * x[i]
        out[i, 1] = np.sin(x[i])
    out[1:, :] = out[1:, :] * 2.0
    return out


def list_writes(x):
    ys = [x[0], x[1], x[2]]
    for i in range(3):
        ys[i] = ys[i] * x[i]
    return np.stack(ys) + 1.0


def branches(x):
    if np.sum(x) > 0:
        y = x * x
    else:
        y = -x
    while np.max(np.abs(y)) > 0.5:
        y = y * 0.5
    return y


def _helper(a, b):
    return np.tanh(a) * b


def _nested_helper(a):
    return _helper(a, a) + _helper(a[::-1], 2.0)


def helper_calls(x, w):
    return _nested_helper(x) * w + _helper(w, x)


def appends(x):
    rows = []
    total = 0.0
    for i in range(3):
        total = total + x[i]
        rows.append(x * total)
    return np.stack(rows)


def keyword_only(x, *, scale=2.0):
    return x * scale + np.sum(x)


def float32_map(x):
    return np.exp(x) * 2.0


def zero_map(x):
    return np.ones(3) * 2.0


MAPS = [
    (broadcast_pairs, (_arr(4), _arr(3)), (0, 1)),
    (scalar_times_matrix, (0.7, _arr(2, 3)), (0, 1)),
    (scalar_in_scalar_out, (0.3, 1.2), (0, 1)),
    (vector_to_scalar, (_arr(5),), 0),
    (matvec, (_arr(3, 4), _arr(4)), (0, 1)),
    (vecmat, (_arr(4), _arr(4, 3)), (0, 1)),
    (vecvec, (_arr(4), _arr(4)), (0, 1)),
    (matmat, (_arr(2, 4), _arr(4, 3)), (0, 1)),
    (stacked, (_arr(2, 3, 4), _arr(4, 2)), (0, 1)),
    (stacked, (_arr(3, 4), _arr(2, 4, 2)), (0, 1)),
    (stacked_vector, (_arr(2, 3, 3), _arr(3)), (0, 1)),
    (outer_inner, (_arr(3), _arr(3)), (0, 1)),
    (reductions, (_arr(3, 4),), 0),
    (reductions_3d, (_arr(2, 3, 4),), 0),
    (fancy_index, (_arr(4, 3), np.array([2, 0, 2, 3])), 0),
    (separated_advanced, (_arr(2, 3, 4),), 0),
    (shapes_and_joins, (_arr(2, 3, 4), _arr(4)), (0, 1)),
    (write_in_a_loop, (_arr(4),), 0),
    (list_writes, (_arr(3),), 0),
    (branches, (np.abs(_arr(3)),), 0),
    (branches, (-np.abs(_arr(3)),), 0),
    (helper_calls, (_arr(3), _arr(3)), (0, 1)),
    (appends, (_arr(3),), 0),
    (float32_map, (_arr(3).astype(np.float32),), 0),
    (zero_map, (_arr(3),), 0),
]

#: Maps the column loop gets wrong, by bugs of unbatched forward mode: a write
#: into a list in a loop turns the list's tangent into a dict (``owned``), and
#: a constant list among the items of ``np.hstack`` gets a dict for its zero
#: tangent (``zeros_like``); batched mode has neither.
COLUMN_LOOP_WRONG = {"list_writes", "shapes_and_joins"}


@pytest.mark.parametrize("f, args, wrt", MAPS,
                         ids=[f"{m[0].__name__}-{i}" for i, m in enumerate(MAPS)])
def test_map(f, args, wrt):
    got = jacobian_batched(f, wrt, args, {})
    assert got is not None, "batched forward mode refused"
    gots = got if isinstance(wrt, tuple) else (got,)
    assert all(np.all(np.isfinite(g)) for g in gots)
    reverse = sg.jacobian(f, wrt, mode="reverse")(*args)
    reverse = reverse if isinstance(wrt, tuple) else (reverse,)
    if f.__name__ not in COLUMN_LOOP_WRONG:
        columns = _jacobian_forward(f, wrt, args, {})
        columns = columns if isinstance(wrt, tuple) else (columns,)
    loose = any(getattr(a, "dtype", None) == np.float32 for a in args)
    for k, i in enumerate(wrt if isinstance(wrt, tuple) else (wrt,)):
        expected = numeric_jacobian(f, args, i, step=1e-3 if loose else 1e-6)
        tol = dict(rtol=1e-3, atol=1e-4) if loose else dict(rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gots[k], expected, **tol, err_msg="against differences")
        tight = dict(rtol=1e-6, atol=1e-7) if loose else dict(rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gots[k], np.asarray(reverse[k], dtype=float), **tight,
                                   err_msg="against reverse mode")
        if f.__name__ not in COLUMN_LOOP_WRONG:
            np.testing.assert_allclose(gots[k], columns[k], **tight, err_msg="against columns")


def test_keyword_arguments():
    x = _arr(3)
    got = jacobian_batched(keyword_only, 0, (x,), {"scale": 3.0})
    np.testing.assert_allclose(got, 3.0 * np.eye(3) + 1.0)


def test_blocks_of_columns(monkeypatch):
    """A Jacobian too big for one seed is computed a block of columns at a time."""
    from sourcegrad import batched_jacobian

    W, x = _arr(3, 5), _arr(5)
    whole = jacobian_batched(matvec, (0, 1), (W, x), {})
    found = batched_jacobian._derivative(matvec, (0, 1))
    original, calls = found.function, []

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(found, "function", counted)
    monkeypatch.setattr(batched_jacobian, "BUDGET", 45)  # 3 columns of W's 15 elements
    blocks = jacobian_batched(matvec, (0, 1), (W, x), {})
    assert len(calls) == 7  # 20 columns
    for a, b in zip(whole, blocks):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_generated_code():
    text = sg.source(matvec, mode="batched", wrt=1)
    assert "def jvpb_matvec(W, x, *, dx):" in text
    assert "nbatch" not in text  # only zeros need the batch size
    assert "batched_matmul(W, dx, 1)" in text
    assert "Batched forward-mode derivative of matvec" in text


# ---------------------------------------------------------------------------
# fallbacks: one jvp per column, and the right Jacobian


def _inner_grad(x):
    return np.sum(np.sin(x) * x)


def uses_nested_grad(x):
    return sg.grad(_inner_grad)(x) * 2.0


def my_softsign(x):
    return x / (1.0 + np.abs(x))


def _my_softsign_reverse(y, x):
    d[x] = d[y] / (1.0 + np.abs(x)) ** 2


def _my_softsign_forward(y, x):
    d[y] = d[x] / (1.0 + np.abs(x)) ** 2


def uses_a_rule_of_mine(x):
    return my_softsign(x) * 3.0


def repeats_a_list(x):
    parts = [x[0], x[1]] * 2
    return np.array(parts)


def returns_a_tuple(x):
    return x * 2.0, x


@pytest.mark.parametrize("f", [uses_nested_grad, uses_a_rule_of_mine])
def test_a_primitive_with_no_batched_rule_falls_back(f, monkeypatch):
    """A rule of the user's own has no batched version: refused, whatever it does."""
    monkeypatch.setitem(rules.REVERSE, my_softsign, parse_template(_my_softsign_reverse))
    monkeypatch.setitem(rules.FORWARD, my_softsign, parse_template(_my_softsign_forward))
    x = _arr(3)
    with pytest.raises(NotBatchable):
        compile_forward(f, 0, batched=True)
    assert jacobian_batched(f, 0, (x,), {}) is None
    assert jacobian_batched(f, 0, (x,), {}) is None  # remembered: not compiled again
    expected = numeric_jacobian(f, (x,), 0)
    for mode in ("forward", "auto", "reverse"):
        np.testing.assert_allclose(sg.jacobian(f, 0, mode=mode)(x), expected, rtol=1e-6,
                                   atol=1e-7, err_msg=mode)


def test_a_case_the_helpers_refuse_falls_back():
    x = _arr(2)
    assert jacobian_batched(repeats_a_list, 0, (x,), {}) is None  # lists joined by *
    np.testing.assert_allclose(sg.jacobian(repeats_a_list, 0, mode="forward")(x),
                               np.vstack([np.eye(2), np.eye(2)]))


def test_containers_are_not_batched():
    assert jacobian_batched(returns_a_tuple, 0, (_arr(2),), {}) is None
    assert jacobian_batched(vector_to_scalar, 0, ([1.0, 2.0],), {}) is None


def test_auto():
    assert prefer_rows(300, 1) and prefer_rows(300, 30) and prefer_rows(10, 1)
    assert not prefer_rows(10, 10) and not prefer_rows(100, 10) and not prefer_rows(300, 300)
    for f, args in [(matvec, (_arr(3, 4), _arr(4))), (vector_to_scalar, (_arr(5),)),
                    (broadcast_pairs, (_arr(4), _arr(3)))]:
        got = sg.jacobian(f, 1 if len(args) == 2 else 0, mode="auto")(*args)
        want = numeric_jacobian(f, args, 1 if len(args) == 2 else 0)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)

