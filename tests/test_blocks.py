"""Elementwise gradients of large arrays, in blocks and threads (``blocks``,
``runtime.in_blocks``): the same numbers as without blocks, checked against
the general version, against differences, and with one or several threads."""

from __future__ import annotations

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad import api, runtime
from sourcegrad.signature import Signature
from tests.programs.helpers import numeric_grad


def smooth(x):
    return np.sum(np.sin(x) * np.exp(-x * x) + x ** 2)


def two_arrays(x, y, c):
    return np.sum(np.tanh(x * y) + c * x * x - np.maximum(y, 0.5))


def with_math(x, c):
    return np.sum(np.exp(x * math_scale(c)))


def math_scale(c):
    return 0.5 * c


def a_reduction_inside(x):
    return np.sum(x * np.sum(x))


def rows(X):
    return np.sum(X - np.max(X, axis=1, keepdims=True))


def large(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape)


def specialized(f, wrt, args):
    return api.derivative(f, wrt, "gradient", signature=Signature.of(args))


def test_the_elementwise_gradient_goes_in_blocks():
    text = specialized(smooth, 0, (large(10),)).text
    assert "if x.size >= BLOCKS and x.shape[0] > 1:" in text
    assert "in_blocks(grad_smooth, (x,), (0,))" in text


@pytest.mark.parametrize("f, args, wrt", [
    (a_reduction_inside, (large(10),), 0),
    (rows, (large((4, 5)),), 0),
    (with_math, (large(10), 0.5), 0),  # a call of the user's function
])
def test_other_gradients_do_not(f, args, wrt):
    assert "in_blocks" not in specialized(f, wrt, args).text


@pytest.mark.parametrize("threads", ["1", "2", "3"])
@pytest.mark.parametrize("shape", [(runtime.BLOCKS + 7,), (700, 300), (3 * runtime.BLOCKS,),
                                   (3, runtime.BLOCKS + 5)])  # rows longer than a block
def test_blocks_give_the_general_gradient(monkeypatch, threads, shape):
    monkeypatch.setenv("SOURCEGRAD_THREADS", threads)
    x = large(shape)
    got = sg.grad(smooth)(x)
    want = api.derivative(smooth, 0, "gradient").function(x)
    assert got.shape == x.shape and got.dtype == x.dtype and got.flags.owndata
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_several_arrays_and_a_number():
    x, y = large(runtime.BLOCKS + 100, 1), large(runtime.BLOCKS + 100, 2)
    gx, gy, gc = sg.grad(two_arrays, wrt=(0, 1, 2))(x, y, 0.7)
    want = sg.value_and_grad(two_arrays, wrt=(0, 1, 2))(x, y, 0.7)[1]
    for got, expected in zip((gx, gy, gc), want):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert isinstance(gc, float)


def test_small_arrays_against_differences():
    """The same generated function, below the size where blocks start."""
    x, y = large(6, 3), large(6, 4)
    for k in range(3):
        got = sg.grad(two_arrays, wrt=k)(x, y, 0.7)
        np.testing.assert_allclose(got, numeric_grad(two_arrays, (x, y, 0.7), {}, k),
                                   rtol=1e-6, atol=1e-8)


def test_a_float32_array_keeps_its_dtype():
    x = large(runtime.BLOCKS + 1).astype(np.float32)
    got = sg.grad(smooth)(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, api.derivative(smooth, 0, "gradient").function(x),
                               rtol=1e-5)


def test_an_error_in_a_block_reaches_the_caller():
    calls = []

    def second_block_fails(x):
        calls.append(len(x))
        if len(calls) == 2:
            raise FloatingPointError("second")
        return x

    with pytest.raises(FloatingPointError, match="second"):
        runtime.in_blocks(second_block_fails, (np.arange(1e6),), (0,))


def test_in_blocks_writes_each_block_where_it_belongs():
    x = np.arange(5 * runtime.BLOCKS, dtype=float)
    doubled, same, total = runtime.in_blocks(lambda a, k: (a * k, a, np.sum(a)), (x, 2.0), (0,),
                                             (True, True, False))
    np.testing.assert_array_equal(doubled, 2.0 * x)
    np.testing.assert_array_equal(same, x)
    assert total == np.sum(x)  # whole numbers: exact in any order


def test_the_gradient_of_a_number_alone_is_not_in_blocks():
    text = specialized(two_arrays, 2, (large(10), large(10), 0.5)).text
    assert "in_blocks" not in text


def test_numpys_error_settings_hold_in_every_block(monkeypatch):
    """np.errstate is the caller's context: the threads run in copies of it."""
    monkeypatch.setenv("SOURCEGRAD_THREADS", "2")
    x = large(4 * runtime.BLOCKS)
    x[2 * (1 << 14) + 5] = 1e200  # overflows in block 2: the other thread's
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            sg.grad(squares_exp)(x)


def squares_exp(x):
    return np.sum(np.exp(x * x))
