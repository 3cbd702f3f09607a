"""Every row of ``specs.SPECS``, checked three ways.

- ``test_check_grads``: the packaged ``sourcegrad.check_grads`` (central
  differences along random directions against a random-cotangent vjp).
- ``test_numeric_gradient``: ``sourcegrad.grad`` (scalar outputs) and
  ``sourcegrad.vjp`` against a gradient computed here, element by element,
  by central differences in float64; and each gradient has the type, shape
  and dtype of its argument.
- ``test_no_shared_memory``: no gradient is a view of an argument, of the
  cotangent or of another gradient (a caller may update it in place).
- ``test_every_rule_has_a_row``: every registered reverse rule is exercised
  by at least one row, computed from the functions of the table.

And in forward mode:

- ``test_forward``: ``sourcegrad.jvp`` along random tangents against central
  differences along the same tangents, in float64; the tangent has the
  output's type, shape and dtype, and so has the generated code's own tangent
  before the API matches it to the output (float32 stays float32).
- ``test_forward_float32``: each case in float32, where the output stays
  float32: so does the tangent.
- ``test_modes_agree``: ``<u, J v>`` from ``jvp`` equals ``<J^T u, v>`` from
  ``vjp``, to a tight tolerance: no finite differences involved.
- ``test_every_reverse_rule_has_a_forward_rule``: computed from the registry,
  with the same parameters, so that arguments bind the same way.

And second order, where the first derivative is smooth:

- ``test_hvp``: ``sourcegrad.hvp`` (forward over the generated reverse-mode
  code: the forward rules of the runtime's helpers) against central
  differences of ``sourcegrad.grad``, for scalar outputs.
- ``test_forward_over_forward``: forward mode over the generated forward-mode
  code (the forward rules of the tangent helpers), any output, against
  central differences of the first derivative.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import operator
import textwrap

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import rules
from sourcegrad.normal_expressions import ATTRIBUTES, METHODS
from sourcegrad.primitives import BINARY, UNARY

from .specs import SPECS, Spec, arg, label


def _unwrap(entry):
    """``(value, marks)`` of a table entry that may be a ``pytest.param``."""
    if isinstance(entry, type(pytest.param(None))):
        (value,) = entry.values
        return value, list(entry.marks)
    return entry, []


def _rows():
    return [_unwrap(entry) for entry in SPECS]


def _cases():
    out = []
    for spec, marks in _rows():
        for entry in spec.cases:
            case, case_marks = _unwrap(entry)
            out.append(pytest.param(spec, case, id=f"{spec.id}-{label(case)}",
                                    marks=marks + case_marks))
    return out


CASES = _cases()


def _forward_cases():
    """``CASES``, with the forward-mode skip of each row."""
    out = []
    for param in CASES:
        spec = param.values[0]
        marks = list(param.marks)
        if spec.forward_skip:
            marks.append(pytest.mark.skip(reason=spec.forward_skip))
        out.append(pytest.param(*param.values, id=param.id, marks=marks))
    return out


FORWARD_CASES = _forward_cases()


def _where(keep):
    """The forward cases for which ``keep(spec, case)`` holds: a test that does
    not apply to a case is not generated for it (rather than skipped)."""
    return [p for p in FORWARD_CASES if keep(*p.values)]


def _is_float32(case) -> bool:
    return any(arg(a).dtype == "float32" for a in case)


# ---------------------------------------------------------------------------
# check_grads


@pytest.mark.parametrize("spec, case", CASES)
def test_check_grads(spec: Spec, case):
    args = spec.make_args(case)
    sg.check_grads(spec.fn, args, modes=("reverse",), order=1)


# ---------------------------------------------------------------------------
# against an elementwise numeric gradient


def _float64(x):
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float64)
    return x


def _contract(y, u) -> float:
    return float(np.sum(np.asarray(y, dtype=np.float64) * np.asarray(u, dtype=np.float64)))


def numeric_vjp(f, args, wrt, u, step=1e-6):
    """``J^T u`` for each argument in ``wrt``, by central differences, element
    by element, in float64."""
    args = [_float64(a) for a in args]
    out = []

    def at(i, value):
        shifted = list(args)
        shifted[i] = value
        return _contract(f(*shifted), u)

    for i in wrt:
        x = args[i]
        if isinstance(x, float):
            h = step * max(1.0, abs(x))
            out.append((at(i, x + h) - at(i, x - h)) / (2 * h))
            continue
        g = np.zeros(np.shape(x))
        for j in np.ndindex(*np.shape(x)):
            h = step * max(1.0, abs(float(x[j])))
            plus, minus = x.copy(), x.copy()
            plus[j] += h
            minus[j] -= h
            g[j] = (at(i, plus) - at(i, minus)) / (2 * h)
        out.append(g)
    return out


def assert_like(g, x, what):
    """``g`` has the type, shape and dtype of the primal ``x``."""
    if isinstance(x, (float, np.generic)):  # a Python float, or a NumPy scalar
        assert type(g) is type(x), f"{what}: a {type(x).__name__} argument got a {type(g).__name__}"
        return
    assert isinstance(g, np.ndarray), f"{what}: an array argument got a {type(g).__name__}"
    assert g.shape == x.shape, f"{what}: shape {g.shape}, argument shape {x.shape}"
    assert g.dtype == x.dtype, f"{what}: dtype {g.dtype}, argument dtype {x.dtype}"


@pytest.mark.parametrize("spec, case", CASES)
def test_numeric_gradient(spec: Spec, case):
    args = spec.make_args(case)
    wrt = spec.differentiated(case)
    rtol, atol = (1e-3, 1e-4) if _is_float32(case) else (spec.rtol, spec.atol)
    y = spec.fn(*args)
    rng = np.random.default_rng(1)
    if np.ndim(y) == 0:
        u = 1.0
    else:
        u = rng.standard_normal(np.shape(y)).astype(np.result_type(y, np.float32))
    # a float32 function rounds to float32 even on float64 input: a longer step
    expected = numeric_vjp(spec.fn, args, wrt, u, step=1e-3 if _is_float32(case) else 1e-6)

    _, pullback = sg.vjp(spec.fn, *args)
    grads = pullback(u)
    assert len(grads) == len(args)
    for i, want in zip(wrt, expected):
        assert_like(grads[i], args[i], f"vjp, argument {i}")
        np.testing.assert_allclose(grads[i], want, rtol=rtol, atol=atol,
                                   err_msg=f"vjp, argument {i}")

    if np.ndim(y) == 0:
        got = sg.grad(spec.fn, wrt=wrt)(*args)
        assert isinstance(got, tuple) and len(got) == len(wrt)
        for i, g, want in zip(wrt, got, expected):
            assert_like(g, args[i], f"grad, argument {i}")
            np.testing.assert_allclose(g, want, rtol=rtol, atol=atol,
                                       err_msg=f"grad, argument {i}")


# ---------------------------------------------------------------------------
# forward mode: against finite differences, and against reverse mode


def _tangent(x, rng):
    """A random tangent like the primal ``x``."""
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape).astype(x.dtype)
    if isinstance(x, np.generic):
        return x.dtype.type(rng.standard_normal())
    return float(rng.standard_normal())


def _tangents(spec, case, args, seed=2):
    """Random tangents for the differentiated arguments, ``None`` for the others."""
    rng = np.random.default_rng(seed)
    wrt = spec.differentiated(case)
    return tuple(_tangent(x, rng) if i in wrt else None for i, x in enumerate(args))


def numeric_jvp(f, args, tangents, step=1e-6):
    """``J v`` along ``tangents`` by central differences, in float64."""
    args = [_float64(a) for a in args]
    tangents = [_float64(t) for t in tangents]
    scale = max([1.0] + [float(np.max(np.abs(a))) for a, t in zip(args, tangents)
                         if t is not None and np.size(a)])
    h = step * scale

    def at(s):
        shifted = []
        for a, t in zip(args, tangents):
            if t is None:
                shifted.append(a)
            elif isinstance(a, np.ndarray):  # stays an array, 0-d ones too
                shifted.append(np.asarray(a + s * t, dtype=a.dtype))
            else:
                shifted.append(type(a)(a + s * t))
        return np.asarray(f(*shifted), dtype=np.float64)

    return (at(h) - at(-h)) / (2 * h)


def generated_jvp(f, args, tangents):
    """What the generated ``jvp_f`` itself returns, before ``sourcegrad.jvp``
    gives the tangent the output's type: ``(y, ty)``."""
    from sourcegrad.api import derivative

    wrt = tuple(i for i, t in enumerate(tangents) if t is not None)
    compiled = derivative(f, wrt, mode="forward")
    seeds = dict(zip(compiled.compiled.tangents, (tangents[i] for i in wrt)))
    return compiled.function(*args, **seeds)


@pytest.mark.parametrize("spec, case", FORWARD_CASES)
def test_forward(spec: Spec, case):
    args = spec.make_args(case)
    tangents = _tangents(spec, case, args)
    rtol, atol = (1e-3, 1e-4) if _is_float32(case) else (spec.rtol, spec.atol)
    y, ty = sg.jvp(spec.fn, args, tangents)
    if isinstance(y, (float, np.ndarray, np.generic)):
        assert_like(ty, y, "jvp")
    np.testing.assert_allclose(y, spec.fn(*args), rtol=1e-12, err_msg="jvp's value")
    expected = numeric_jvp(spec.fn, args, tangents, step=1e-3 if _is_float32(case) else 1e-6)
    np.testing.assert_allclose(ty, expected, rtol=rtol, atol=atol, err_msg="jvp")

    # the generated code's own tangent: the output's shape and float type
    _, raw = generated_jvp(spec.fn, args, tangents)
    assert np.shape(raw) == np.shape(y), (
        f"generated tangent shape {np.shape(raw)}, output shape {np.shape(y)}")
    if np.result_type(y).kind == "f":
        assert np.result_type(raw) == np.result_type(y), (
            f"generated tangent dtype {np.result_type(raw)}, output dtype {np.result_type(y)}")


def _float32_args(spec, case):
    return tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
                 else a for a in spec.make_args(case))


def _float32_applies(spec, case) -> bool:
    """Array tangents, and a float32 output, in the float32 rerun of a case."""
    args = _float32_args(spec, case)
    tangents = _tangents(spec, case, args)
    if not all(isinstance(t, np.ndarray) for t in tangents if t is not None):
        return False
    return np.result_type(spec.fn(*args)) == np.float32


@pytest.mark.parametrize("spec, case", _where(_float32_applies))
def test_forward_float32(spec: Spec, case):
    """Every case again with its float64 arrays in float32: where the output is
    float32, so is the tangent the generated code computes (no rule upcasts).
    (A Python float's tangent is a Python float, which NumPy may promote:
    ``0.5 * mask`` is float64; such cases are left out.)"""
    args = _float32_args(spec, case)
    tangents = _tangents(spec, case, args)
    y = spec.fn(*args)
    _, raw = generated_jvp(spec.fn, args, tangents)
    assert np.shape(raw) == np.shape(y)
    assert np.result_type(raw) == np.float32, (
        f"a float32 output got a {np.result_type(raw)} tangent")


def _magnitude(a, b) -> float:
    return float(np.sum(np.abs(np.asarray(a, dtype=np.float64))
                        * np.abs(np.asarray(b, dtype=np.float64))))


@pytest.mark.parametrize("spec, case", FORWARD_CASES)
def test_modes_agree(spec: Spec, case):
    """``<u, J v> == <J^T u, v>``: forward against reverse mode, no finite differences."""
    args = spec.make_args(case)
    tangents = _tangents(spec, case, args)
    y = spec.fn(*args)
    rng = np.random.default_rng(3)
    u = rng.standard_normal(np.shape(y)).astype(np.result_type(y, np.float32))
    _, ty = sg.jvp(spec.fn, args, tangents)
    _, pullback = sg.vjp(spec.fn, *args)
    grads = pullback(u if np.ndim(y) else float(u))
    wrt = spec.differentiated(case)
    forward = _contract(ty, u)
    reverse = sum(_contract(grads[i], tangents[i]) for i in wrt)
    # the size of the terms summed, which bounds the rounding of either side
    scale = _magnitude(ty, u) + sum(_magnitude(grads[i], tangents[i]) for i in wrt)
    tol = 1e-5 if _is_float32(case) or np.result_type(y) == np.float32 else 1e-11
    assert abs(forward - reverse) <= tol * scale + 1e-300, (
        f"<u, J v> = {forward!r} by jvp, <J^T u, v> = {reverse!r} by vjp "
        f"(difference {forward - reverse:.3g}, terms of size {scale:.3g})")


# ---------------------------------------------------------------------------
# second order: forward mode over the generated reverse-mode code


def _scalar_output(spec, case) -> bool:
    return np.ndim(spec.fn(*spec.make_args(case))) == 0


@pytest.mark.parametrize("spec, case", _where(
    lambda spec, case: _scalar_output(spec, case) and not spec.kink))
def test_hvp(spec: Spec, case):
    """``hvp`` in each differentiated argument against central differences of
    ``grad`` along the same direction (scalar outputs, off kinks)."""
    args = spec.make_args(case)
    tangents = _tangents(spec, case, args)
    rtol, atol = (2e-2, 2e-3) if _is_float32(case) else (1e-4, 1e-5)
    step = 1e-3 if _is_float32(case) else 1e-5
    for i in spec.differentiated(case):
        x, v = args[i], tangents[i]
        got = sg.hvp(spec.fn, wrt=i)(*args, v)
        assert_like(got, x, f"hvp, argument {i}")
        grad = sg.grad(spec.fn, wrt=i)
        x64, v64 = _float64(x), _float64(v)
        h = step * max(1.0, float(np.max(np.abs(x64))))

        def at(s):
            shifted = list(args)
            shifted[i] = (np.asarray(x64 + s * v64) if isinstance(x, np.ndarray)
                          else type(x)(x64 + s * v64))
            return np.asarray(grad(*shifted), dtype=np.float64)

        want = (at(h) - at(-h)) / (2 * h)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"hvp, argument {i}")


@pytest.mark.parametrize("spec, case", _where(lambda spec, case: not spec.kink))
def test_forward_over_forward(spec: Spec, case):
    """The second derivative along ``v`` (forward mode over the generated
    forward-mode code, any output) against central differences of the
    first, along the same tangents."""
    from sourcegrad.api import derivative

    args = spec.make_args(case)
    tangents = _tangents(spec, case, args)
    wrt = spec.differentiated(case)
    first = derivative(spec.fn, wrt, mode="forward")
    seeds = dict(zip(first.compiled.tangents, (tangents[i] for i in wrt)))
    second = derivative(first.function, wrt, mode="forward")
    again = dict(zip(second.compiled.tangents, (tangents[i] for i in wrt)))
    (_, ty), (_, got) = second.function(*args, **seeds, **again)
    scale = max([1.0] + [float(np.max(np.abs(args[i]))) for i in wrt if np.size(args[i])])
    h = (1e-3 if _is_float32(case) else 1e-5) * scale

    def at(s):
        shifted = [a if t is None else np.asarray(_float64(a) + s * _float64(t))
                   if isinstance(a, np.ndarray) else type(a)(a + s * t)
                   for a, t in zip(args, tangents)]
        return np.asarray(first.function(*shifted, **seeds)[1], dtype=np.float64)

    want = (at(h) - at(-h)) / (2 * h)
    rtol, atol = (2e-2, 2e-3) if _is_float32(case) else (1e-4, 1e-5)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# gradients are the caller's own


@pytest.mark.parametrize("spec, case", CASES)
def test_no_shared_memory(spec: Spec, case):
    """A caller may update a gradient in place: no gradient may share memory with
    an argument, the cotangent or another gradient."""
    args = spec.make_args(case)
    y = spec.fn(*args)
    u = 1.0 if np.ndim(y) == 0 else np.ones(np.shape(y))
    _, pullback = sg.vjp(spec.fn, *args)
    grads = pullback(u)
    others = [a for a in args if isinstance(a, np.ndarray)] + [u]
    for i in spec.differentiated(case):
        g = grads[i]
        if isinstance(g, np.ndarray):
            for o in others:
                assert not np.shares_memory(g, o), f"gradient {i} shares memory"
            others.append(g)


# ---------------------------------------------------------------------------
# the table covers the registry

#: Moves of the normal form rather than functions a user calls: a copy
#: ``y = x`` and a tuple literal.  (Rows exercise them all the same.)
INTERNAL = {rules.identity, rules.pack}

_BINARY = {cls.__name__: fn for cls, fn in BINARY.items()}
_UNARY = {cls.__name__: fn for cls, fn in UNARY.items()}


def _resolve(node, namespace, local):
    """The object a global ``Name`` or dotted ``Attribute`` refers to, or ``None``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id in local:
        return None
    obj = namespace.get(node.id, getattr(builtins, node.id, None))
    for attr in reversed(parts):
        obj = getattr(obj, attr, None)
    return obj


def primitives_of(fn) -> set:
    """The primitives ``fn``'s source applies: calls (method forms resolved to
    their NumPy function), operators and index reads."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    namespace, local = fn.__globals__, set(fn.__code__.co_varnames)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            target = _resolve(node.func, namespace, local)
            if target is None and isinstance(node.func, ast.Attribute):
                target = getattr(np, METHODS.get(node.func.attr, ""), None)
            found.add(target)
        elif isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
            if _resolve(node, namespace, local) is None:
                found.add(getattr(np, ATTRIBUTES[node.attr]))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)):
            found.add(_BINARY.get(type(node.op).__name__))
        elif isinstance(node, ast.UnaryOp):
            found.add(_UNARY.get(type(node.op).__name__))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            found.add(operator.getitem)
    found.discard(None)
    if sg.grad in found:  # grad(f)(x) inside a function is the runtime's nested_grad
        found.add(sg.runtime.nested_grad)
    return found


def _hashable(obj) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def test_every_rule_has_a_row():
    covered = set()
    for spec, _ in _rows():
        covered |= {p for p in primitives_of(spec.fn) if _hashable(p)}
    missing = [p for p in rules.REVERSE if p not in covered and p not in INTERNAL]
    names = sorted(f"{getattr(p, '__module__', None) or ''}.{getattr(p, '__name__', p)}"
                   for p in missing)
    assert not missing, "reverse rules with no row in tests/rules/specs.py: " + ", ".join(names)


def _name(p) -> str:
    return f"{getattr(p, '__module__', None) or ''}.{getattr(p, '__name__', p)}"


def test_every_reverse_rule_has_a_forward_rule():
    missing = sorted(_name(p) for p in rules.REVERSE if p not in rules.FORWARD)
    assert not missing, "reverse rules with no forward rule: " + ", ".join(missing)


def test_forward_rules_bind_like_reverse_rules():
    """Same parameters and defaults (arguments bind the same way), and the
    forward rule named after the reverse rule it sits next to."""
    wrong = []
    for p, rev in rules.REVERSE.items():
        fwd = rules.FORWARD.get(p)
        if fwd is None:
            continue
        if fwd.signature != rev.signature:
            wrong.append(f"{_name(p)}: forward {fwd.signature}, reverse {rev.signature}")
        if fwd.name != rev.name.rstrip("_") + "_forward":
            wrong.append(f"{_name(p)}: forward rule {fwd.name} beside reverse rule {rev.name}")
    assert not wrong, "\n".join(wrong)


def test_row_ids_are_unique():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


# ---------------------------------------------------------------------------
# stop_gradient really stops: a check finite differences cannot make


def blocked(x):
    return np.sum(x * sg.stop_gradient(x))


def test_stop_gradient_blocks():
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(sg.grad(blocked)(x), x)
