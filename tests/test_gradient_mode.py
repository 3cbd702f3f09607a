"""``grad``'s own generated function: the seed 1.0 folded in, the output's
value left out when it is provably a scalar.

Folding ``1.0 * e`` into ``e`` must keep the value and the dtype, so a name
that may hold booleans or integers keeps its factor, and so does one whose
copy the sweep would then update in place (``True + True`` is
``True`` in NumPy); a sweep that reuses the seed's name (``x = f(x)`` in a
loop, the output being the parameter) starts it at 1.0 instead.  Gradients
are checked against central differences and against ``value_and_grad``,
which runs the other generated function (with a seed parameter).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import api
from sourcegrad.errors import NonScalarOutputError
from tests.programs.helpers import numeric_grad

MASK = np.array([True, False, True])
COUNTS = np.array([2, 0, 5])


def masked_twice(x):
    return np.sum(x * MASK) + np.sum(x * MASK)


def counted_twice(x):
    return np.sum(x * COUNTS) - np.sum(COUNTS * x) * 3


def the_parameter_is_the_output(x):
    for _ in range(4):
        x = math.sin(x) * x
    return x


def tanh_sum(W, x):
    return np.sum(np.tanh(W @ x))


def squared_halved(x):
    return np.sum(x ** 2) / 2


def mean_over_rows(X):
    return -np.sum(X * X) / X.shape[0]


def square_of_a_tanh(W, x):
    h = np.tanh(W @ x)  # bh = 1.0 * h, then bh += h: must not become h += h
    return np.sum(h * h)


def sine_times_gaussian(x):
    return np.sum(np.sin(x) * np.exp(-x * x) + x ** 2)


def an_array(x):
    return x * 2.0


def identity(x):
    return x


CASES = [
    (masked_twice, (np.array([0.3, -1.2, 2.0]),)),
    (counted_twice, (np.array([0.3, -1.2, 2.0]),)),
    (the_parameter_is_the_output, (0.8,)),
    (tanh_sum, (np.arange(6.0).reshape(2, 3) / 7, np.array([0.5, -0.25, 1.0]))),
    (squared_halved, (np.array([1.5, -2.0]),)),
    (mean_over_rows, (np.arange(6.0).reshape(3, 2),)),
    (identity, (1.25,)),
    (square_of_a_tanh, (np.arange(6.0).reshape(2, 3) / 7, np.array([0.5, -0.25, 1.0]))),
    (sine_times_gaussian, (np.linspace(-1.0, 2.0, 5),)),
]


@pytest.mark.parametrize("f, args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_gradient_matches_differences_and_value_and_grad(f, args):
    got = sg.grad(f)(*args)
    np.testing.assert_allclose(got, numeric_grad(f, args, {}, 0), rtol=1e-6, atol=1e-8)
    value, other = sg.value_and_grad(f)(*args)
    np.testing.assert_allclose(got, other, rtol=1e-13, atol=0)
    assert value == pytest.approx(f(*args))
    assert np.asarray(got).dtype == np.float64


@pytest.mark.parametrize("f", [tanh_sum, squared_halved, mean_over_rows])
def test_a_provable_scalar_is_not_computed(f):
    """The function sg.grad runs has no seed parameter and returns the gradient
    alone: the reduction that made the output is dead code."""
    d = api.derivative(f, 0, "gradient")
    assert d.value is False
    text = d.text
    signature = next(line for line in text.splitlines() if line.startswith("def grad_"))
    assert "=1.0" not in signature, signature
    assert "np.sum(" not in text.split("# adjoint")[0], text
    assert "return (" not in text


def test_the_seed_name_reused_by_the_sweep_starts_at_one():
    text = api.derivative(the_parameter_is_the_output, 0, "gradient").text
    assert "    bx = 1.0\n" in text


def scaled_by_a_flag(x, flag):
    return np.sum(x) * flag


def test_a_name_that_may_hold_booleans_keeps_its_factor():
    x = np.array([0.5, 2.0])
    g = sg.grad(scaled_by_a_flag)(x, True)
    assert g.dtype == np.float64 and np.array_equal(g, np.ones(2))
    text = api.derivative(scaled_by_a_flag, 0, "gradient").text
    assert "1.0 * flag" in text or "flag * 1.0" in text, text


def test_an_output_not_provably_scalar_is_still_checked():
    with pytest.raises(NonScalarOutputError):
        sg.grad(an_array)(np.ones(3))
    assert api.derivative(an_array, 0, "gradient").value is True


@pytest.mark.parametrize("between", ["u[0] = 5.0", "u += 1.0", "u = add_at(u, 0, 1.0)",
                                     "c = t * 2.0"])
def test_a_negation_is_not_moved_past_a_change_of_its_operand(between):
    import gast

    from sourcegrad.emit import to_source
    from sourcegrad.optimize import propagate_negations

    text = f"def f(b, u):\n    t = -u\n    {between}\n    b += 2.0 * t\n    return b\n"
    fn = gast.parse(text).body[0]
    assert propagate_negations(fn) is False
    assert to_source(fn) == to_source(gast.parse(text).body[0])


def test_a_negated_factor_is_subtracted():
    import gast

    from sourcegrad.emit import to_source
    from sourcegrad.optimize import propagate_negations

    fn = gast.parse("def f(b, u, x):\n    t = -u\n    y = x * 2.0\n    b -= y * t\n"
                    "    return b\n").body[0]
    assert propagate_negations(fn) is True
    assert "b += y * u" in to_source(fn)
