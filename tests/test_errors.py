"""Bad input: every unsupported construct and misuse raises a ``SourceGradError``
subclass whose message names the file, the line, the offending code and puts a
caret under it.

Each offending line below carries a marker comment (``# <- name``); the tests
find the expected line number by looking the marker up in this file.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pytest

import sourcegrad
from tests.located import Source
from sourcegrad.errors import (
    NonScalarOutputError, NoRuleError, SourceGradError, SourceNotFoundError,
    UnsupportedSyntaxError, WrtError,
)

SOURCE = Source(__file__)
HERE, line_of = SOURCE.path, SOURCE.line_of


def assert_located(error: Exception, marker: str, snippet: str) -> str:
    return SOURCE.assert_located(error, marker, snippet)


def raises(cls, f, *args, wrt=0):
    with pytest.raises(cls) as info:
        sourcegrad.grad(f, wrt=wrt)(*args)
    assert isinstance(info.value, SourceGradError)
    return info.value


X = np.array([0.5, 1.0, 1.5])


# -- constructs the foundation does not support -------------------------------

def try_statement(x):
    try:  # <- try
        y = np.log(x)
    except ValueError:
        y = x
    return np.sum(y)


def with_statement(x):
    with np.errstate(all="ignore"):  # <- with
        y = np.log(x)
    return np.sum(y)


def generator(x):
    yield np.sum(x)  # <- yield
    return np.sum(x)


def class_inside(x):
    class Box:  # <- class
        pass
    return np.sum(x)


TOTAL = 0.0


def global_statement(x):
    global TOTAL  # <- global
    return np.sum(x)


def passed_function(x):
    def inner(t):
        return t * 2.0
    return np.sum(np.apply_along_axis(inner, 0, x))  # <- def


def lambda_inside(x):
    return np.sum(np.apply_along_axis(lambda t: t * 2.0, 0, x))  # <- lambda


def comprehension_in_while_test(x):
    while sum(v for v in x) < 10.0:  # <- whilecomp
        x = x * 2.0
    return np.sum(x)


def dict_comprehension(x):
    parts = {k: x * k for k in range(3)}  # <- dictcomp
    return np.sum(parts[1])


def chained_comparison(x):
    y = 0 < x[0] < 1  # <- chained
    return np.sum(x * y)


def no_return(x):  # <- noreturn
    y = x * 2.0


def star_args(x, *rest):  # <- varargs
    return np.sum(x)


def nested_write(x):
    y = np.zeros((2, 3))
    y[0][1] = x[0]  # <- write
    return np.sum(y)


def dict_argument_write(x, params):
    params["w"] = x  # <- dictwrite
    return np.sum(x)


def attribute_write(x):
    x.flags.writeable = False  # <- setattr
    return np.sum(x)


def import_inside(x):
    import math  # <- import
    return np.sum(x) * math.pi


def delete(x):
    y = x * 2.0
    del y  # <- del
    return np.sum(x)


def in_place_through_a_view(x):
    z = x * 1.0
    y = z[1:]
    z += 1.0  # <- inplace
    return np.sum(x * y)


def in_place_through_a_copy(x):
    z = x * 2.0
    y = z
    y *= x  # <- inplacecopy
    return np.sum(z)


OPTIONS = {"axis": 0}


def keyword_unpacking(x):
    return np.sum(np.sum(x, **OPTIONS))  # <- kwunpack


def f_string(x):
    label = f"{x}"  # <- fstring
    return np.sum(x)


def parameter_named_np(np_, np):  # <- paramnp
    return np_.sum()


UNSUPPORTED = [
    (try_statement, "try", "try:", "'try' statement"),
    (with_statement, "with", "with np.errstate", "'with' statement"),
    (generator, "yield", "yield np.sum(x)", "yield"),
    (class_inside, "class", "class Box:", "class definition"),
    (global_statement, "global", "global TOTAL", "'global' statement"),
    (passed_function, "def", "inner", "can only be called here"),
    (lambda_inside, "lambda", "lambda t: t * 2.0", "only when assigned to a name"),
    (comprehension_in_while_test, "whilecomp", "sum(v for v in x) < 10.0",
     "comprehension in a 'while' test"),
    (dict_comprehension, "dictcomp", "{k: x * k for k in range(3)}", "dict comprehension"),
    (chained_comparison, "chained", "0 < x[0] < 1", "chained comparison"),
    (no_return, "noreturn", "def no_return(x):", "no 'return'"),
    (star_args, "varargs", "rest", "*args"),
    (nested_write, "write", "y[0]", "write into a named array with one index"),
    (attribute_write, "setattr", "x.flags.writeable", "assigning to an attribute"),
    (import_inside, "import", "import math", "import inside the function"),
    (delete, "del", "del y", "'del' statement"),
    (parameter_named_np, "paramnp", "np):", "parameter named 'np'"),
    (keyword_unpacking, "kwunpack", "**OPTIONS", "'**' unpacking"),
    (f_string, "fstring", 'f"{x}"', "f-string"),
    (in_place_through_a_view, "inplace", "z += 1.0", "may share memory with y"),
    (in_place_through_a_copy, "inplacecopy", "y *= x", "may share memory with z"),
]


@pytest.mark.parametrize("f, marker, snippet, words", UNSUPPORTED,
                         ids=[case[1] for case in UNSUPPORTED])
def test_unsupported_construct(f, marker, snippet, words):
    error = raises(UnsupportedSyntaxError, f, X)
    message = assert_located(error, marker, snippet)
    assert words in message.splitlines()[0], message
    assert f", in {f.__name__}: " in message


def test_changing_a_dict_argument_in_place():
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.grad(dict_argument_write)(X, {})
    message = assert_located(info.value, "dictwrite", 'params["w"]')
    assert "changing a dict in place is not supported" in message


def test_source_is_shown_also_for_source():
    with pytest.raises(UnsupportedSyntaxError) as info:
        sourcegrad.source(try_statement)
    assert_located(info.value, "try", "try:")


# -- calls with no derivative rule ---------------------------------------------

def helper(x):
    return x * 2.0


def calls_helper(x):
    return np.sum(helper(x))  # <- helper


def no_rule(x):
    y = np.i0(x) * 2.0  # <- norule
    return np.sum(y)


def no_rule_namespaced(x):
    return np.sum(np.abs(np.fft.ihfft(x)))  # <- norule2


def two_calls_without_rules(x):
    y = np.sum(np.i0(x))  # <- first
    return y * np.sum(helper(x))


def test_call_with_no_rule():
    error = raises(NoRuleError, no_rule, X)
    message = assert_located(error, "norule", "np.i0(x)")
    assert "no derivative rule for np.i0" in message.splitlines()[0]
    assert "from sourcegrad.rules import reverse, d" in message
    assert "@reverse(np.i0)" in message
    assert "d[x] = d[y] *" in message
    assert "stop_gradient" in message


def test_call_with_no_rule_in_a_submodule():
    error = raises(NoRuleError, no_rule_namespaced, X)
    message = assert_located(error, "norule2", "np.fft.ihfft(x)")
    assert "@reverse(np.fft.ihfft)" in message


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)  # <- wrapper

    return wrapper


@doubled
def decorated_square(x):
    return np.sum(x * x)


def test_a_decorator_wrapper_is_what_is_differentiated():
    """Not the function it wraps: the gradient has the wrapper's factor 2."""
    grad = sourcegrad.grad(decorated_square)(X)
    np.testing.assert_allclose(grad, 4.0 * X)


def test_the_first_call_without_a_rule_is_reported():
    error = raises(NoRuleError, two_calls_without_rules, X)
    assert_located(error, "first", "np.i0(x)")


def shifted(x):
    return np.sum(x << 1)  # <- operator


def test_operator_with_no_rule():
    error = raises(NoRuleError, shifted, X)
    message = assert_located(error, "operator", "x << 1")
    assert "no derivative rule for operator.lshift" in message
    assert "@reverse(operator.lshift)" in message


def test_call_to_a_helper_function_is_differentiated():
    np.testing.assert_allclose(sourcegrad.grad(calls_helper)(X), np.full(3, 2.0))


def test_no_rule_is_no_error_where_no_derivative_flows():
    def uses_i0_on_constants(x):
        unused = np.i0(x)
        return np.sum(x * np.i0(0.5)) + np.sum(np.i0(sourcegrad.stop_gradient(x)))

    np.testing.assert_allclose(sourcegrad.grad(uses_i0_on_constants)(X), np.i0(0.5))


def cube(x):
    return x * x * x


def calls_cube(x):
    return np.sum(cube(x))


def test_the_registration_the_message_shows_works():
    from sourcegrad.rules import d, reverse

    @reverse(cube)
    def cube_rule(y, x):
        d[x] = d[y] * 3.0 * x * x

    np.testing.assert_allclose(sourcegrad.grad(calls_cube)(X), 3.0 * X * X)


# -- methods and attributes ----------------------------------------------------

def unknown_method(x):
    return np.sum(x.cumprod())  # <- method


def unknown_attribute(x):
    return np.sum(x.real)  # <- attribute


def test_unknown_method():
    error = raises(UnsupportedSyntaxError, unknown_method, X)
    message = assert_located(error, "method", "x.cumprod")
    assert ".cumprod() is not supported" in message
    assert "np.cumprod(...)" in message


def test_unknown_attribute():
    error = raises(UnsupportedSyntaxError, unknown_attribute, X)
    message = assert_located(error, "attribute", "x.real")
    assert ".real is not supported" in message


# -- misuse of the API ----------------------------------------------------------

def vector_output(x):
    y = np.sin(x)
    return y * 2.0  # <- vector


def tuple_output(x):
    return np.sum(x), x  # <- tuple


def test_grad_of_a_non_scalar_output():
    error = raises(NonScalarOutputError, vector_output, X)
    message = assert_located(error, "vector", "return y * 2.0")
    assert "is not a scalar" in message
    assert "shape (3,)" in message
    assert "sourcegrad.vjp" in message and ".sum()" in message


def test_value_and_grad_of_a_non_scalar_output():
    with pytest.raises(NonScalarOutputError):
        sourcegrad.value_and_grad(vector_output)(X)


def test_grad_of_a_tuple_output():
    error = raises(NonScalarOutputError, tuple_output, X)
    message = assert_located(error, "tuple", "return np.sum(x), x")
    assert "not a scalar" in message and "tuple of 2 values" in message


def two_parameters(x, y):  # <- wrt
    return np.sum(x * y)


@pytest.mark.parametrize("wrt", [2, -3, "z", (0, "w"), 1.0, True])
def test_bad_wrt(wrt):
    error = raises(WrtError, two_parameters, X, X, wrt=wrt)
    message = assert_located(error, "wrt", "def two_parameters(x, y):")
    assert f"wrt={(wrt[1] if isinstance(wrt, tuple) else wrt)!r}" in message
    assert "two_parameters(x, y)" in message
    assert isinstance(error, ValueError)


def test_function_without_source():
    namespace = {"np": np}
    exec("def made_by_exec(x):\n    return np.sum(x * x)\n", namespace)
    with pytest.raises(SourceNotFoundError) as info:
        sourcegrad.grad(namespace["made_by_exec"])(X)
    message = str(info.value)
    assert message.startswith("<string>, line 1, in made_by_exec: cannot read the source")
    assert "define them in a file" in message


def test_source_edited_after_the_definition(tmp_path):
    path = tmp_path / "edited_module.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * x)\n")
    spec = importlib.util.spec_from_file_location("edited_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path.write_text("import numpy as np\n\n\ndef f(x, scale):\n    return np.sum(x * scale)\n")
    with pytest.raises(SourceNotFoundError) as info:
        sourcegrad.grad(module.f)(X)
    message = str(info.value)
    assert message.startswith(f"{path}, line 4, in f: ")
    assert "was the file edited after the function was defined?" in message
    assert "def f(x, scale):" in message


TWO_LAMBDAS = (lambda x: np.sum(x), lambda x: np.sum(x * x))  # <- lambdas


def test_two_lambdas_on_a_line():
    with pytest.raises(SourceNotFoundError) as info:
        sourcegrad.grad(TWO_LAMBDAS[1])(X)
    message = str(info.value)
    assert message.startswith(f"{HERE}, line {line_of('lambdas')}")
    assert "cannot tell which lambda" in message


def test_not_a_function():
    with pytest.raises(SourceNotFoundError, match="not a Python function"):
        sourcegrad.grad(np.sum)(X)


def test_errors_are_sourcegrad_errors():
    for cls in (NonScalarOutputError, NoRuleError, SourceNotFoundError,
                UnsupportedSyntaxError, WrtError):
        assert issubclass(cls, sourcegrad.SourceGradError)
