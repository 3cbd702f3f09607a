"""Writes into Python lists, in both modes, and names that generated code uses.

Regressions for gradients that came back wrong without an error: forward mode
turned a list's tangent into a dict when it wrote into it (so ``ys[-1] = v``
set a key -1, and a returned list's tangent came back as its indices); reverse
mode zeroed a key -1 in a list's adjoint; and a global of the user's named
like one of the runtime's helpers (``item``, ``pick``) was shadowed by the
generated module's import of the helper.
"""

from __future__ import annotations

import numpy as np
import pytest

import sourcegrad
from sourcegrad import SourceGradError
from tests.programs.helpers import Corpus, arrays, check_program

arr = arrays(5)
corpus = Corpus()
program = corpus.program


@program(1.3)
@program(arr(3))
def write_every_item_in_a_loop(x):
    ys = [x, x, x]
    for i in range(3):
        ys[i] = ys[i] * (i + 1.0) + x
    return np.sum(ys[0] + ys[1] * ys[2])


@program(0.7)
def write_from_the_previous_item(x):
    ys = [0.0] * 3
    for i in range(1, 3):
        ys[i] = ys[i - 1] * x + 1.0
    return ys[2]


@program(1.3)
@program(arr(2))
def append_then_write(x):
    ys = []
    for i in range(3):
        ys.append(x * i)
    for i in range(3):
        ys[i] = ys[i] * ys[i]
    return np.sum(ys[1] + ys[2])


@program(1.1)
def write_alternate_items(x):
    acc = [x, x]
    for i in range(4):
        acc[i % 2] = acc[(i + 1) % 2] * x
    return acc[0] * acc[1]


@pytest.mark.parametrize("f, args, kwargs, wrt, tol", corpus.params)
def test_program(f, args, kwargs, wrt, tol):
    check_program(f, args, kwargs, wrt, tol)


def write_the_last_item(x):
    ys = [x, x]
    ys[-1] = x * x
    return ys[1] * 3.0 + ys[0]


def write_a_constant_last(x):
    ys = [x, x]
    ys[-1] = 2.0
    return ys[1] * 3.0 + ys[0]


@pytest.mark.parametrize("f, expected", [(write_the_last_item, 1.0 + 6.0 * 1.3),
                                         (write_a_constant_last, 1.0)])
def test_negative_index_write(f, expected):
    """Forward mode gets it right; reverse mode refuses (a list's adjoint holds
    positions from the start) rather than adjoin the wrong item."""
    _, tangent = sourcegrad.jvp(f, (1.3,), (1.0,))
    assert tangent == pytest.approx(expected, rel=1e-12)
    with pytest.raises(SourceGradError, match="index from the start"):
        sourcegrad.grad(f)(1.3)


def scaled_items(x):
    ys = [x, x]
    for i in range(2):
        ys[i] = ys[i] * (i + 2.0)
    return ys


def test_tangent_of_a_returned_list_is_a_list():
    value, tangent = sourcegrad.jvp(scaled_items, (1.0,), (1.0,))
    assert value == [2.0, 3.0]
    assert isinstance(tangent, list) and tangent == [2.0, 3.0]


def join_after_write(x):
    ys = [x, x]
    for i in range(2):
        ys[i] = ys[i] * 2.0
    zs = ys + [x * 3.0]
    return zs[2] + zs[0]


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_joining_lists_is_refused_in_both_modes(mode):
    with pytest.raises(SourceGradError, match="joins them"):
        if mode == "forward":
            sourcegrad.jvp(join_after_write, (1.3,), (1.0,))
        else:
            sourcegrad.grad(join_after_write)(1.3)


# -- a global named like a runtime helper ----------------------------------------------

item = 3.0


def pick(a, i):
    return a * 10.0 + i


def reads_a_global_named_item(x):
    return np.sum(x * item)


def calls_a_function_named_pick(x):
    return np.sum(pick(x, 1) * x[0])


@pytest.mark.parametrize("f", [reads_a_global_named_item, calls_a_function_named_pick])
def test_a_global_named_like_a_helper_is_the_users(f):
    check_program(f, (arr(3),))
    assert "Bound at load from the source's namespace" in sourcegrad.source(f) or (
        "primal_pick" in sourcegrad.source(f))


def test_rebinding_a_global_named_like_a_helper_is_seen():
    global item
    x = arr(3)
    before = sourcegrad.grad(reads_a_global_named_item)(x)
    item = 5.0
    try:
        after = sourcegrad.grad(reads_a_global_named_item)(x)
    finally:
        item = 3.0
    np.testing.assert_allclose(before, np.full(3, 3.0))
    np.testing.assert_allclose(after, np.full(3, 5.0))


def fill(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] * 2.0
    return np.sum(y * y)


def fill_a_copy(x):
    y = np.copy(x)
    for i in range(3):
        y[i] = y[i] * 2.0
    return np.sum(y * y)


@pytest.mark.parametrize("f", [fill, fill_a_copy, write_every_item_in_a_loop])
def test_forward_mode_copies_a_written_tangent_once_not_every_turn(f):
    check_program(f, (arr(3),))
    text = sourcegrad.source(f, mode="forward")
    loop = text.index("    for ")
    assert "owned" not in text[loop:], text
