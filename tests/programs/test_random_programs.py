"""Random straight-line and looped programs, written to a module file and
differentiated in both modes, against central differences, and ``grad``
against ``vjp`` (hypothesis, derandomized so that every run checks the same
programs)."""

from __future__ import annotations

import importlib.util
import re
import textwrap

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sourcegrad

UNARY = ["np.tanh({})", "np.sin({})", "np.exp(0.3 * {})", "({}) ** 2", "-({})",
         "np.sqrt(1.0 + ({}) ** 2)", "np.log1p(({}) ** 2)", "np.cos({})"]
BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (2.0 + ({}) ** 2)",
          "np.maximum({}, {})", "np.arctan2({}, 1.5 + ({}) ** 2)"]
LEAVES = ["x", "y", "x[::-1]", "y * 0.5", "np.sum(x) * y", "np.mean(y)",
          "m * 0.5", "np.sum(m, axis=0)", "m[1]"]  # m is 3 x 4: broadcasting


def expressions(depth: int, leaves=tuple(LEAVES)):
    leaf = st.sampled_from(leaves)
    if depth == 0:
        return leaf
    smaller = expressions(depth - 1, leaves)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from(UNARY), smaller).map(lambda t: t[0].format(t[1])),
        st.tuples(st.sampled_from(BINARY), smaller, smaller).map(
            lambda t: t[0].format(t[1], t[2])),
    )


@st.composite
def programs(draw):
    """A function of ``x``, ``y`` (float arrays of 4) and ``m`` (3 x 4): a few
    assignments, perhaps a loop that updates a carried value, a branch (one
    whose branches give a name different shapes), an in-place write in a
    loop, a call of a helper."""
    lines = []
    names = ["x", "y"]
    for k in range(draw(st.integers(1, 3))):
        expr = draw(expressions(2))
        name = f"t{k}"
        lines.append(f"{name} = {expr}")
        names.append(name)
    if draw(st.booleans()):
        body = re.sub(r"\by\b", names[-1], re.sub(r"\bx\b", "s", draw(expressions(1))))
        lines += ["s = x * 1.0", "for i in range(3):", f"    s = 0.5 * s + 0.1 * ({body})"]
        names.append("s")
    if draw(st.booleans()):
        lines += [f"if np.sum({names[-1]}) > 0:", f"    {names[-1]} = {names[-1]} * 2.0"]
    if draw(st.booleans()):  # an in-place write in a loop that reads what it wrote
        item = draw(expressions(1, ("x[i]", "w[i - 1]", "y[i] * x[i - 1]")))
        lines += [f"w = x * 0.5 + np.sum({names[-1]}) * 0.1", "for i in range(1, 4):",
                  f"    w[i] = w[i - 1] * 0.5 + 0.2 * ({item})"]
        names.append("w")
    if draw(st.booleans()):  # the else branch reads ``a`` from before the if
        lines += [f"a = {names[-1]} * 1.0", f"if np.sum({names[-2]}) > 0:",
                  f"    a = np.sum({names[-1]})", "    b = a * y", "else:", "    b = a + m * 0.5"]
        names.append("b")
    if draw(st.booleans()):  # a helper of the module, called on a value
        lines.append(f"h = helper({names[-1]}, {names[-2]})")
        names.append("h")
    lines.append(f"return np.sum({names[-1]} * {names[-2]})")
    return "def f(x, y, m):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


_loaded = {}


def load(source: str, tmp_path_factory):
    """The function ``f`` of ``source``, from a real file (sourcegrad reads it)."""
    if source not in _loaded:
        path = tmp_path_factory.mktemp("random") / f"program_{len(_loaded)}.py"
        path.write_text("import numpy as np\n\n\ndef helper(a, b):\n"
                        "    return np.tanh(a) * b + np.sum(a * a) * 0.1\n\n\n" + source)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[source] = module.f
    return _loaded[source]


X = np.array([0.31, -0.83, 1.17, 0.46])
Y = np.array([-0.62, 0.27, 0.94, -1.33])
M = np.array([[0.21, -0.47, 0.88, -1.06], [0.53, 0.12, -0.74, 0.39], [-0.95, 0.66, 0.07, 1.23]])
X6, Y6 = np.linspace(-1.1, 0.9, 6), np.linspace(0.7, -0.8, 6)
M6 = np.linspace(-1.0, 1.2, 18).reshape(3, 6)


@settings(max_examples=40, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(source=programs())
def test_random_program(source, tmp_path_factory):
    f = load(source, tmp_path_factory)
    value = f(X, Y, M)
    if not np.isfinite(value) or abs(value) > 1e6:
        return  # a program that overflows says nothing about derivatives
    sourcegrad.check_grads(f, (X, Y, M), modes=("reverse", "forward"), rtol=1e-4, atol=1e-6)
    # grad runs code of its own (the seed folded in, the value left out,
    # specialized to the arguments' ranks): as vjp's; then on other lengths
    # (the same grad object: its test of the arguments, another version)
    g = sourcegrad.grad(f, wrt=(0, 1, 2))
    for args in ((X, Y, M), (X6, Y6, M6)):
        if not np.isfinite(f(*args)):
            continue
        _, pullback = sourcegrad.vjp(f, *args)
        for got, want in zip(g(*args), pullback(1.0)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
