"""Bad input around the user's own functions: what stays unsupported inside a
helper, a nested ``def`` or a lambda, and the misuse of functions and
containers, raises a ``SourceGradError`` subclass whose message names this
file, the line (the helper's own line when the construct is in the helper)
and shows the code with a caret under it.

Each offending line carries a marker comment (``# <- name``); the tests look
the expected line number up in this file.
"""

from __future__ import annotations


import numpy as np
import pytest

import sourcegrad
from tests.located import Source
from sourcegrad.errors import SourceGradError, UnsupportedSyntaxError

SOURCE = Source(__file__)
HERE, line_of = SOURCE.path, SOURCE.line_of


def assert_located(error: Exception, marker: str, snippet: str, function: str) -> str:
    return SOURCE.assert_located(error, marker, snippet, function)


X = np.array([0.5, 1.0, 1.5])


# -- unsupported statements inside a helper or a nested def -------------------

def log_or_identity(a):
    try:  # <- try
        return np.log(a)
    except ValueError:
        return a


def try_in_a_helper(x):
    return np.sum(log_or_identity(x))


def with_in_a_nested_def(x):
    def inner(t):
        with np.errstate(all="ignore"):  # <- with
            return np.log(t)
    return np.sum(inner(x))


def doubled(x):
    for v in x:
        yield v * 2.0  # <- yield


def generator_helper(x):
    return sum(doubled(x))


def boxed(x):
    class Box:  # <- class
        pass
    return np.sum(x)


def class_in_a_helper(x):
    return boxed(x)


CALLS = 0


def counted(x):
    global CALLS  # <- global
    CALLS = CALLS + 1
    return np.sum(x)


def global_write_in_a_helper(x):
    return counted(x)


def nonlocal_write(x):
    total = 0.0

    def add(t):
        nonlocal total  # <- nonlocal
        total = total + np.sum(t)
        return total
    return add(x)


def as_dict(a):
    return {"a": a, "b": a * 2.0}  # <- dictlit


def dict_literal_in_a_helper(x):
    return np.sum(as_dict(x)["b"])


def first_of(a, *rest):  # <- varargs
    return a * 2.0


def varargs_helper(x):
    return np.sum(first_of(x, x))


def spread(*parts):  # <- onlyvarargs
    return parts[0] * parts[1]


def only_varargs_helper(x):
    return np.sum(spread(x, x))


def named(**values):  # <- onlykwargs
    return values["a"] * 2.0


def only_kwargs_helper(x):
    return np.sum(named(a=x))


UNSUPPORTED = [
    (try_in_a_helper, "try", "try:", "log_or_identity", "'try' statement"),
    (with_in_a_nested_def, "with", "with np.errstate", "with_in_a_nested_def", "'with' statement"),
    (generator_helper, "yield", "yield v * 2.0", "doubled", "yield"),
    (class_in_a_helper, "class", "class Box:", "boxed", "class definition"),
    (global_write_in_a_helper, "global", "global CALLS", "counted", "'global' statement"),
    (nonlocal_write, "nonlocal", "nonlocal total", "nonlocal_write", "'nonlocal' statement"),
    (dict_literal_in_a_helper, "dictlit", '{"a": a', "as_dict", "dict literal"),
    (varargs_helper, "varargs", "rest", "first_of", "*args"),
    pytest.param(only_varargs_helper, "onlyvarargs", "parts", "spread", "*args", id="onlyvarargs"),
    pytest.param(only_kwargs_helper, "onlykwargs", "values", "named", "**kwargs", id="onlykwargs"),
]


@pytest.mark.parametrize("f, marker, snippet, function, words", [
    case if hasattr(case, "marks") else pytest.param(*case, id=case[1])
    for case in UNSUPPORTED])
def test_unsupported_construct_in_a_called_function(f, marker, snippet, function, words):
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(X)
    assert isinstance(info.value, SourceGradError)
    message = assert_located(info.value, marker, snippet, function)
    assert words in message.splitlines()[0], message


def test_the_error_is_raised_by_source_too():
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.source(try_in_a_helper)
    assert_located(info.value, "try", "try:", "log_or_identity")


# -- functions defined where they cannot be lifted --------------------------------

def def_in_a_loop(x):
    t = 0.0
    for k in range(3):
        def scaled(v):  # <- defloop
            return v * k
        t = t + np.sum(scaled(x))
    return t


def def_in_a_branch(x):
    if np.sum(x) > 0:
        def pick(v):  # <- defif
            return v * 2.0
    else:
        def pick(v):
            return v * 3.0
    return np.sum(pick(x))


def lambda_in_a_loop(x):
    t = 0.0
    for k in range(3):
        f = lambda v: v * k  # <- lambdaloop
        t = t + np.sum(f(x))
    return t


NOT_LIFTED = [
    (def_in_a_loop, "defloop", "def scaled(v):", "def_in_a_loop"),
    (def_in_a_branch, "defif", "def pick(v):", "def_in_a_branch"),
    (lambda_in_a_loop, "lambdaloop", "lambda v: v * k", "lambda_in_a_loop"),
]


@pytest.mark.parametrize("f, marker, snippet, function", NOT_LIFTED,
                         ids=[case[1] for case in NOT_LIFTED])
def test_function_defined_inside_a_block(f, marker, snippet, function):
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(X)
    assert_located(info.value, marker, snippet, function)


# -- changing a dict argument in place ------------------------------------------

def dict_argument_write(params, x):
    params["W"] = params["W"] * 2.0  # <- dictwrite
    return np.sum(params["W"] * x)


def dict_argument_augmented_write(params, x):
    params["W"] += x  # <- dictaug
    return np.sum(params["W"] * x)


def reset_weights(p, x):
    p["W"] = x  # <- dicthelper
    return np.sum(p["W"])


def dict_argument_written_by_a_helper(params, x):
    return reset_weights(params, x)


DICT_WRITES = [
    (dict_argument_write, "dictwrite", 'params["W"]', "dict_argument_write"),
    (dict_argument_augmented_write, "dictaug", 'params["W"]', "dict_argument_augmented_write"),
    (dict_argument_written_by_a_helper, "dicthelper", 'p["W"]', "reset_weights"),
]


@pytest.mark.parametrize("f, marker, snippet, function", DICT_WRITES,
                         ids=[case[1] for case in DICT_WRITES])
def test_changing_a_dict_argument_in_place(f, marker, snippet, function):
    params = {"W": X.copy()}
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(params, X)
    message = assert_located(info.value, marker, snippet, function)
    assert "changing a dict in place is not supported" in message
    np.testing.assert_array_equal(params["W"], X)  # nothing ran


# -- functions as values ----------------------------------------------------------

def apply(fn, x):
    return fn(x)  # <- applied


def local_function_passed_to_a_helper(x):
    def inner(t):
        return t * 2.0
    return np.sum(apply(inner, x))  # <- localarg


def local_function_passed_to_map(x):
    def inner(t):
        return t * 2.0
    return sum(map(inner, x))  # <- localmap


def local_function_assigned(x):
    def inner(t):
        return t * 2.0
    g = inner  # <- localassign
    return np.sum(g(x))


def lambda_passed_to_a_helper(x):
    return np.sum(apply(lambda t: t * 2.0, x))  # <- lambdaarg


def lambda_passed_as_a_key(x):
    return sorted(x, key=lambda t: -t)[0]  # <- lambdakey


def lambda_in_a_comprehension(x):
    return sum([(lambda t: t * k)(x[k]) for k in range(3)])  # <- lambdacomp


def square_sum(a):
    return np.sum(a * a)


def module_function_passed_as_a_value(x):
    return apply(square_sum, x)


AS_VALUES = [
    (local_function_passed_to_a_helper, "localarg", "inner", "local_function_passed_to_a_helper",
     "passing it around is not supported"),
    (local_function_passed_to_map, "localmap", "inner", "local_function_passed_to_map",
     "passing it around is not supported"),
    (local_function_assigned, "localassign", "inner", "local_function_assigned",
     "passing it around is not supported"),
    (lambda_passed_to_a_helper, "lambdaarg", "lambda t: t * 2.0", "lambda_passed_to_a_helper",
     "only when assigned to a name"),
    (lambda_passed_as_a_key, "lambdakey", "lambda t: -t", "lambda_passed_as_a_key",
     "only when assigned to a name"),
    (lambda_in_a_comprehension, "lambdacomp", "lambda t: t * k", "lambda_in_a_comprehension",
     "only when assigned to a name"),
]


@pytest.mark.parametrize("f, marker, snippet, function, words", AS_VALUES,
                         ids=[case[1] for case in AS_VALUES])
def test_function_passed_as_a_value(f, marker, snippet, function, words):
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(X)
    message = assert_located(info.value, marker, snippet, function)
    assert words in message.splitlines()[0], message


def test_module_function_passed_as_a_value():
    """The call of the parameter inside the helper is what fails, at the helper's line."""
    with pytest.raises(SourceGradError) as info:
        sourcegrad.grad(module_function_passed_as_a_value)(X)
    message = assert_located(info.value, "applied", "fn", "apply")
    assert "'fn'" in message.splitlines()[0], message


# -- a list argument: append is allowed ----------------------------------------

def append_to_the_argument(xs, x):
    xs.append(x * 2.0)
    return np.sum(xs[1] * xs[0])


def test_append_to_a_list_argument_is_differentiated():
    xs = [X.copy()]
    gxs, gx = sourcegrad.grad(append_to_the_argument, wrt=(0, 1))(xs, X)
    assert type(gxs) is list and len(gxs) == 1
    np.testing.assert_allclose(gxs[0], 2.0 * X)
    np.testing.assert_allclose(gx, 2.0 * X)


def _inner_loss(x, y):
    return np.sum(x ** 3 * y)


def grad_of_grad(x):
    return np.sum(sourcegrad.grad(_inner_loss)(x, 2.0) ** 2)  # <- gradgrad


def test_grad_of_grad_of_a_function_of_two_arguments_is_refused_clearly():
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.grad(grad_of_grad)(np.ones(3))
    message = str(info.value)
    assert f"line {line_of('gradgrad')}" in message
    assert "supported for grad(f)(x) of a function of one argument only" in message
