"""A corpus of straight-line user programs, each differentiated in reverse mode.

Every program is a module-level function written the way a NumPy user would
write it.  Each is checked twice: with ``sourcegrad.check_grads`` (a
directional derivative against the vector-Jacobian product), and against an
elementwise central-difference gradient computed here, independently of the
library.  Inputs stay away from kinks (ties, zeros of ``abs``, ...).
"""

from __future__ import annotations

import numpy as np
import numpy as onp
import pytest
from numpy import exp as np_exp
from numpy import tanh

import sourcegrad
from sourcegrad import stop_gradient

from .helpers import check_program, numeric_grad  # noqa: F401

# -- the independent reference ---------------------------------------------


# -- inputs --------------------------------------------------------------

RNG = np.random.default_rng(1)


def arr(*shape, dtype=np.float64, low=0.5, high=1.5):
    """Values away from zero and kinks; distinct so that max has no ties."""
    size = int(np.prod(shape))
    values = np.linspace(low, high, size) + 0.01 * RNG.standard_normal(size)
    return RNG.permutation(values).reshape(shape).astype(dtype)


PROGRAMS = []


def program(*args, wrt=0, kwargs=None, tol=1e-6):
    """Register the decorated function with its inputs."""

    def register(f):
        PROGRAMS.append(pytest.param(f, args, kwargs, wrt, tol, id=f.__name__))
        return f

    return register


# -- assignments -----------------------------------------------------------

@program(arr(3))
def chain(x):
    a = x * 2.0
    b = a + 1.0
    return np.sum(b * b)


@program(arr(3))
def reassign(x):
    y = x * x
    y = y + x
    y = np.sin(y)
    return np.sum(y)


@program(arr(4))
def reassign_parameter(x):
    x = x * 3.0
    x = np.exp(x)
    return np.sum(x)


@program(arr(3), arr(3))
def reassign_parameter_read_later(x, y):
    z = x * y
    x = x + z
    return np.sum(x * z)


@program(arr(3), arr(3))
def reassign_reads_old_value(x, y):
    y = y * x
    x = x * y
    y = np.sin(y) + x
    return np.sum(y * x)


@program(arr(3), wrt=0)
def chained_assignment(x):
    a = b = x * 2.0
    return np.sum(a * b)


@program(arr(3))
def annotated_assignment(x):
    y: np.ndarray = x * x
    return np.sum(y)


@program(arr(3))
def docstring_and_pass(x):
    """A docstring is not code."""
    y = np.cos(x)
    pass
    return np.sum(y)


@program(arr(3))
def copies(x):
    y = x
    z = y
    return np.sum(z * y)


@program(arr(3))
def negation_and_unary_plus(x):
    return np.sum(-x) + np.sum(+x * x) + (-x[0]) * 2.0


@program(arr(3))
def local_named_like_a_runtime_helper(x):
    unbroadcast = x * 2.0
    zeros_like = unbroadcast + x
    return np.sum(unbroadcast * zeros_like)


@program(arr(3))
def constant_call_needs_no_rule(x):
    return np.sum(x * np.float32(2.0)) + float(3)


Array = np.ndarray


@program(arr(3), 2.0, wrt=(0, 1))
def annotated_parameters(x: Array, k: "float | None" = 2.0) -> float:
    y: Array = x * k
    z = np.zeros(3, dtype=x.dtype) + y
    return np.sum(z * z)


# -- tuples ----------------------------------------------------------------

@program(arr(3), arr(3), wrt=(0, 1))
def tuple_unpacking(x, y):
    a, b = x, y
    return np.sum(a * np.exp(b))


@program(arr(3), arr(3), wrt=(0, 1))
def swap(x, y):
    a, b = x * 2.0, y
    a, b = b, a
    return np.sum(a * a * b)


@program(arr(3), arr(3), wrt=(0, 1))
def swap_parameters(x, y):
    x, y = y, x
    return np.sum(x * np.sin(y))


@program(arr(3), arr(3), wrt=(0, 1))
def rotate_with_update(x, y):
    x, y = y, x + y
    return np.sum(x * y * y)


@program(arr(2, 3))
def unpack_rows(X):
    a, b = X
    return np.sum(a * b)


@program(arr(3, 2))
def unpack_rows_then_reuse(X):
    a, b, c = X
    return np.sum(a * b + c * X[0])


@program(arr(3), arr(3), wrt=(0, 1))
def nested_unpacking(x, y):
    a, (b, c) = x, (y, x * y)
    return np.sum(a + b * c)


@program(arr(3), arr(3), wrt=(0, 1))
def unpack_a_tuple_variable(x, y):
    pair = (x, y * 2.0)
    a, b = pair
    return np.sum(a * b)


@program(arr(2, 3), wrt=0)
def list_unpacking(X):
    [a, b] = [X[0], X[1] * 3.0]
    return np.sum(a / b)


@program(arr(3), arr(3), wrt=(0, 1))
def chained_tuple_assignment(x, y):
    x, y = t = y, x * 2.0
    return np.sum(x * t[1] + y)


@program(arr(2, 3))
def unpack_into_itself(X):
    X, b = X
    return np.sum(X * b)


@program(arr(3), arr(3), wrt=(0, 1))
def unpack_calls(x, y):
    s, c = np.sin(x), np.cos(y)
    return np.sum(s * c)


# -- augmented assignment --------------------------------------------------

@program(arr(3), arr(3), wrt=(0, 1))
def augmented_add_sub(x, y):
    z = x * 1.0
    z += y
    z -= x * y
    return np.sum(z * z)


@program(arr(3), arr(3), wrt=(0, 1))
def augmented_mul_div(x, y):
    z = x + 1.0
    z *= y
    z /= x + 2.0
    return np.sum(z)


@program(arr(3), arr(3), wrt=(0, 1))
def augmented_pow(x, y):
    z = x * 1.0
    z **= 2
    z **= y
    return np.sum(z)


@program(arr(3, 3), arr(3), wrt=(0, 1))
def augmented_matmul(A, v):
    w = v * 1.0
    w @= A
    w @= A
    return np.sum(w)


@program(arr(3), wrt=0)
def augmented_after_copy(x):
    x = x + 1.0  # a new array: the caller's x is not modified below
    x *= x
    x -= 0.5
    return np.sum(x)


@program(1.5, 2.0, wrt=(0, 1))
def augmented_python_floats(a, b):
    a += b
    a *= b
    b **= 2
    a /= b
    return a


@program(arr(3))
def scalar_accumulation(x):
    s = x[0]
    s += x[1]
    s *= x[2]
    return s * x[0]


@program(arr(2, 3), arr(3), wrt=(0, 1))
def augmented_view_not_read_again(X, b):
    Y = X * 1.0
    row = Y[1:]
    row += b
    return np.sum(row * row)


# -- constants and Python numbers --------------------------------------------

@program(arr(3))
def constants(x):
    return np.sum(3.0 * x + 2 - x / 4 + 1e-3)


@program(1.3)
def python_float_input(x):
    return x * x + 3 * x - 1.0 / x


@program(0.7, 3, wrt=0)
def python_int_in_expression(x, n):
    return x ** n + n * x + 2 ** 3


@program(2.0, 1.5, wrt=(0, 1))
def python_floats_both(a, b):
    return a ** b + a / b - b


@program(np.float64(1.2), wrt=0)
def numpy_scalar_input(x):
    return np.exp(x) * x


@program(np.array(0.8))
def zero_d_array(x):
    return np.sin(x) * x


@program(np.array(0.8), arr(3), wrt=(0, 1))
def zero_d_times_vector(s, v):
    return np.sum(s * v) + s


@program(arr(3, dtype=np.float32))
def float32_input(x):
    y = np.tanh(x) * 2.0
    return np.sum(y * x)


@program(arr(2, 3), arr(3), wrt=(0, 1))
def float64_matrix_and_vector(A, v):
    return np.sum(np.exp(A @ v))


@program(arr(3, dtype=np.float32), arr(3, dtype=np.float32), wrt=(0, 1))
def float32_pair(x, y):
    return np.mean(x * y + x / y)


# -- outputs ---------------------------------------------------------------

@program(arr(3), arr(4), wrt=(0, 1))
def several_terms_in_return(a, b):
    return np.sum(a) + 2 * np.mean(b)


@program(arr(3), arr(3), wrt=(0, 1))
def nested_expression(a, b):
    return np.sum(np.log(1.0 + np.exp(a * b - np.sin(a))) ** 2) / (1.0 + np.sum(b))


@program(arr(3), arr(3), wrt=1)
def output_independent_of_wrt(x, y):
    return np.sum(x * x)


@program(arr(3), arr(2, 2), wrt=1)
def output_independent_of_wrt_matrix(x, M):
    z = M * 2.0
    return np.sum(np.sin(x))


@program(arr(3), wrt=0)
def return_a_parameter_expression(x):
    return np.sum(x)


# -- broadcasting ----------------------------------------------------------

@program(arr(3, 4), 1.7, wrt=(0, 1))
def scalar_divisor(x, s):
    return np.sum(x / s)


@program(arr(3, 4), arr(1, 4), wrt=(0, 1))
def row_operand(X, r):
    return np.sum((X - r) ** 2)


@program(arr(3, 4), arr(4), arr(3, 1), wrt=(0, 1, 2))
def broadcast_three_ways(X, b, c):
    return np.sum(X * b + c / X)


@program(arr(3, 4), np.array(0.5), wrt=(0, 1))
def zero_d_broadcast(X, s):
    return np.sum(np.exp(X * s))


@program(arr(2, 1, 3), arr(4, 1), wrt=(0, 1))
def broadcast_both_sides(a, b):
    return np.sum(np.sin(a + b) * (a - b))


# -- powers ----------------------------------------------------------------

@program(arr(3), arr(3), wrt=(0, 1))
def power_in_both(x, y):
    return np.sum(x ** y)


@program(arr(3), wrt=0)
def power_constants(x):
    return np.sum(x ** 2 + x ** 3 + x ** 0.5 + 2.0 ** x)


@program(arr(3), wrt=0)
def power_negative_exponent(x):
    return np.sum(x ** -2 + np.power(x, 1.5))


# -- methods and attributes -------------------------------------------------

@program(arr(3, 4), arr(3), wrt=(0, 1))
def method_T_and_dot(A, v):
    return np.sum(A.T.dot(v) ** 2)


@program(arr(3, 4))
def method_sum_axis_keepdims(A):
    s = A.sum(axis=0)
    k = A.sum(axis=1, keepdims=True)
    return (s * s).sum() + (A / k).sum()


@program(arr(3, 4))
def method_mean_axis(A):
    return (A.mean(axis=1) ** 2).mean() + A.mean(0, keepdims=True).sum()


@program(arr(2, 6))
def method_reshape(A):
    B = A.reshape(3, 4)
    C = A.reshape((4, 3))
    D = A.reshape(-1)
    return np.sum(B[0] * C[:, 0].sum()) + np.sum(D * D)


@program(arr(3, 4))
def method_max(A):
    return A.max() + A.max(axis=1).sum() + A.max(axis=0, keepdims=True).sum()


@program(arr(2, 3, 4))
def method_transpose(A):
    B = A.transpose(2, 0, 1)
    C = A.transpose((1, 2, 0))
    D = A.transpose()
    return np.sum(B[0] * 2.0) + np.sum(C[-1] ** 2) + np.sum(D[1] * D[1])


@program(arr(3))
def method_astype_copy(x):
    y = x.astype(np.float64)
    z = y.copy()
    return np.sum(z * y)


@program(arr(3, dtype=np.float32))
def astype_float32_to_float64(x):
    y = x.astype(np.float64)
    return np.sum(np.exp(y))


@program(arr(3, 4))
def shape_and_len(A):
    n = A.shape[0]
    m = len(A)
    return np.sum(A * n) / (m * A.shape[1])


@program(arr(3, 4))
def size_and_ndim(A):
    return np.sum(A ** 2) / A.size + A.ndim


@program(arr(3, 4))
def method_chain(A):
    return A.T.sum(axis=0).mean()


@program(arr(2, 3))
def methods_positional_and_negative_axes(x):
    a = x.T @ x
    b = np.sum(x, axis=-1).sum() + x.max(axis=-1, keepdims=True).sum()
    c = x.reshape(-1, 1) * x.sum(0)
    return np.sum(a) + b + np.sum(c) + x.mean(axis=(0, 1))


@program(arr(2, 3), arr(3, 4), wrt=(0, 1))
def method_dot_matrices(A, B):
    return np.sum(A.dot(B) ** 2) + np.sum(A.transpose(1, 0).T * 0.5)


@program(arr(3, 2))
def pairwise_differences(A):
    D = A[:, None, :] - A[None, :, :]
    return np.sum(D ** 2) + np.sum(A[..., None] * 2.0)


# -- indexing reads --------------------------------------------------------

@program(arr(5))
def index_integers(x):
    return x[0] * x[2] + x[-1]


@program(arr(4, 5))
def index_slices(A):
    return np.sum(A[1:3, ::2] ** 2) + np.sum(A[::-1, -2])


@program(arr(8))
def index_negative_and_step(x):
    return np.sum(x[-3:]) * np.sum(x[1:-1:3]) + x[-2]


@program(arr(2, 3, 4))
def index_ellipsis_and_none(A):
    return np.sum(A[..., 1] ** 2) + np.sum(A[None, 0, ..., None] * A[0, :, :, None])


@program(arr(5))
def index_integer_array(x):
    idx = np.array([0, 2, 2, 4])
    return np.sum(x[idx] ** 2)


@program(arr(6))
def index_boolean_mask(x):
    mask = x > 1.0
    return np.sum(x[mask] ** 2)


@program(arr(4, 3), np.array([0, 2, 1, 2]))
def index_pairs(logp, labels):
    n = logp.shape[0]
    return -np.sum(logp[np.arange(n), labels])


@program(arr(4, 3))
def index_rows_by_list(A):
    return np.sum(A[[0, 2, 0]] * 2.0)


@program(arr(7))
def index_a_slice_of_a_slice(x):
    y = x[::2]
    return np.sum(y[1:] * y[:-1])


@program(arr(3, 3))
def index_pairs_and_mask_literals(X):
    return np.sum(X[[0, 1], [1, 2]]) + np.sum(X[np.array([True, False, True])])


# -- models ----------------------------------------------------------------

@program(arr(4, 3, low=-1.0, high=1.0), np.array([0, 2, 1, 2]))
def softmax_cross_entropy(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = logits.shape[0]
    return -np.mean(logp[np.arange(n), labels])


@program(arr(5, 3, low=-0.5, high=0.5), arr(5, low=-0.1, high=0.1),
         arr(2, 5, low=-0.5, high=0.5), arr(2), arr(4, 3), np.array([0, 1, 1, 0]),
         wrt=(0, 1, 2, 3))
def mlp_loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1.T + b1)
    logits = h @ W2.T + b2
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


@program(arr(3), arr(4, 3), arr(4), wrt=0)
def least_squares(w, X, y):
    r = X @ w - y
    return 0.5 * r @ r + 0.1 * np.sum(w ** 2)


@program(arr(4, low=-1.0, high=1.0), arr(6, 4), np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0]))
def logistic_regression(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


# -- names: aliases, constants, closures -----------------------------------

SCALE = 2.5
OFFSET = np.array([0.1, 0.2, 0.3])


@program(arr(3))
def numpy_alias(x):
    return onp.sum(onp.tanh(x) * onp.exp(x))


@program(arr(3))
def imported_functions(x):
    return np.sum(tanh(x) + np_exp(x))


@program(arr(3))
def module_constants(x):
    return np.sum(SCALE * (x - OFFSET) ** 2) + np.pi


def make_closure(c, v):
    def closure(x):
        return np.sum(c * x + v * x * x)

    return closure


closure_over_constants = make_closure(3.0, np.array([1.0, 2.0, 3.0]))
PROGRAMS.append(pytest.param(closure_over_constants, (arr(3),), None, 0, 1e-6,
                             id="closure_over_constants"))

square_sum = lambda x: np.sum(x * x)  # noqa: E731
PROGRAMS.append(pytest.param(square_sum, (arr(3),), None, 0, 1e-6, id="lambda"))

scaled_dot = lambda x, y: np.sum(x * y) * SCALE  # noqa: E731
PROGRAMS.append(pytest.param(scaled_dot, (arr(3), arr(3)), None, (0, 1), 1e-6,
                             id="lambda_two_arguments"))


# -- wrt and calling conventions -------------------------------------------

@program(arr(3), arr(3), arr(3), wrt="c")
def wrt_by_name(a, b, c):
    return np.sum(a * b * np.sin(c))


@program(arr(3), arr(3), arr(3), wrt=-1)
def wrt_negative(a, b, c):
    return np.sum(a * b * np.sin(c))


@program(arr(3), arr(3), arr(3), wrt=(2, 0))
def wrt_tuple_reordered(a, b, c):
    return np.sum(a * b * np.sin(c))


@program(arr(3), arr(3), wrt=("y", "x"))
def wrt_tuple_of_names(x, y):
    return np.sum(x ** 2 * y)


@program(arr(3), kwargs={"scale": 2.0}, wrt=0)
def keyword_at_call(x, scale=1.0):
    return np.sum(scale * x * x)


@program(arr(3), wrt=0)
def default_used(x, scale=1.5):
    return np.sum(scale * x * x)


@program(arr(3), kwargs={"scale": 2.0}, wrt="scale")
def wrt_keyword_argument(x, scale=1.0):
    return np.sum(scale * x * x)


@program(arr(3), kwargs={"y": arr(3), "k": 3.0}, wrt="y")
def keyword_only(x, *, y, k=2.0):
    return np.sum(x * y ** 2) * k


@program(arr(3), wrt=0)
def keyword_only_default(x, *, k=2.0):
    return np.sum(x ** 2) * k




# -- stop_gradient: finite differences see through it, so check by hand ----------

def stop_gradient_blocks(x, y):
    return np.sum(x * stop_gradient(y * x))


def stop_gradient_namespaced(x):
    return np.sum(x * sourcegrad.stop_gradient(x * x))


def test_stop_gradient():
    x, y = arr(3), arr(3)
    gx, gy = sourcegrad.grad(stop_gradient_blocks, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y * x)
    np.testing.assert_array_equal(gy, np.zeros(3))
    np.testing.assert_allclose(sourcegrad.grad(stop_gradient_namespaced)(x), x * x)
    assert sourcegrad.stop_gradient(x) is x


# -- the API around the programs -------------------------------------------------

def tuple_output(x, y):
    return np.sum(x * y), np.sin(x) * y


def test_vjp_of_a_tuple_output():
    x, y = arr(3), arr(3)
    value, pullback = sourcegrad.vjp(tuple_output, x, y)
    np.testing.assert_allclose(value[0], np.sum(x * y))
    np.testing.assert_allclose(value[1], np.sin(x) * y)
    u = arr(3)
    gx, gy = pullback((2.0, u))
    np.testing.assert_allclose(gx, 2.0 * y + np.cos(x) * y * u)
    np.testing.assert_allclose(gy, 2.0 * x + np.sin(x) * u)


def test_vjp_gives_one_gradient_per_argument():
    logits, labels = arr(4, 3), np.array([0, 2, 1, 2])
    value, pullback = sourcegrad.vjp(softmax_cross_entropy, logits, labels)
    assert value == pytest.approx(softmax_cross_entropy(logits, labels))
    grads = pullback(1.0)
    assert len(grads) == 2
    np.testing.assert_allclose(grads[0], numeric_grad(softmax_cross_entropy,
                                                      (logits, labels), {}, 0), atol=1e-6)
    assert grads[1].shape == labels.shape and not np.any(grads[1])


def test_vjp_of_a_vector_function():
    x = arr(3)
    value, pullback = sourcegrad.vjp(np_exp_times_sum, x)
    np.testing.assert_allclose(value, np.exp(x) * np.sum(x))
    u = arr(3)
    (g,) = pullback(u)
    jac = np.diag(np.exp(x) * np.sum(x)) + np.outer(np.exp(x), np.ones(3))
    np.testing.assert_allclose(g, u @ jac)


def np_exp_times_sum(x):
    return np.exp(x) * np.sum(x)


def vector_function(x, A):
    return np.tanh(A @ x) * x[0]


def test_jacobian_reverse_against_finite_differences():
    x, A = arr(3), arr(2, 3)
    J = sourcegrad.jacobian(vector_function, mode="reverse")(x, A)
    assert J.shape == (2, 3)
    eps = 1e-6
    columns = [(vector_function(x + eps * e, A) - vector_function(x - eps * e, A)) / (2 * eps)
               for e in np.eye(3)]
    np.testing.assert_allclose(J, np.stack(columns, axis=1), rtol=1e-6, atol=1e-8)
    JA = sourcegrad.jacobian(vector_function, wrt=1, mode="reverse")(x, A)
    assert JA.shape == (2, 2, 3)


def test_value_and_grad():
    W, x = arr(3, 4), arr(4)
    value, g = sourcegrad.value_and_grad(float64_matrix_and_vector)(W, x)
    assert value == pytest.approx(float64_matrix_and_vector(W, x))
    np.testing.assert_allclose(g, sourcegrad.grad(float64_matrix_and_vector)(W, x))
    value, (gW, gx) = sourcegrad.value_and_grad(float64_matrix_and_vector, wrt=(0, 1))(W, x)
    assert gW.shape == W.shape and gx.shape == x.shape


@sourcegrad.differentiate
def decorated(W, x):
    h = np.tanh(W @ x)
    return np.sum(h * h)


@sourcegrad.differentiate(wrt=("x", "W"))
def decorated_wrt(W, x):
    return np.sum(np.exp(W @ x))


def test_differentiate():
    W, x = arr(3, 4), arr(4)
    assert decorated(W, x) == pytest.approx(np.sum(np.tanh(W @ x) ** 2))
    g = decorated.grad(W, x)
    np.testing.assert_allclose(g, numeric_grad(decorated, (W, x), {}, 0), atol=1e-6)
    value, g2 = decorated.value_and_grad(W, x)
    assert value == pytest.approx(decorated(W, x))
    np.testing.assert_allclose(g2, g)
    value, pullback = decorated.vjp(W, x)
    gW, gx = pullback(1.0)
    np.testing.assert_allclose(gW, g)
    np.testing.assert_allclose(gx, numeric_grad(decorated, (W, x), {}, 1), atol=1e-6)
    text = decorated.source()
    assert "def grad_decorated(W, x, bdecorated=1.0):" in text
    sourcegrad.check_grads(decorated, (W, x))


def test_differentiate_with_wrt():
    W, x = arr(3, 4), arr(4)
    gx, gW = decorated_wrt.grad(W, x)
    np.testing.assert_allclose(gx, numeric_grad(decorated_wrt, (W, x), {}, 1), rtol=1e-6)
    np.testing.assert_allclose(gW, numeric_grad(decorated_wrt, (W, x), {}, 0), rtol=1e-6)
    assert "with respect to x, W" in decorated_wrt.source()


def python_number(x):
    return x * x * 3.0


@pytest.mark.parametrize("x, kind", [
    (1.5, float), (2, float), (np.float32(1.5), np.float32), (np.float64(1.5), np.float64),
    (np.array(1.5), np.ndarray), (np.array(1.5, dtype=np.float32), np.ndarray),
])
def test_gradient_type_follows_the_input(x, kind):
    g = sourcegrad.grad(python_number)(x)
    assert type(g) is kind
    assert np.shape(g) == np.shape(x)
    if isinstance(x, (np.ndarray, np.generic)):
        assert g.dtype == x.dtype
    assert float(g) == pytest.approx(6.0 * float(x), rel=1e-6)


def test_float32_in_float32_out():
    x = arr(2, 3, dtype=np.float32)
    g = sourcegrad.grad(float32_input)(x)
    assert g.dtype == np.float32 and g.shape == x.shape
    gx, gy = sourcegrad.grad(float32_pair, wrt=(0, 1))(x, x + 1)
    assert gx.dtype == gy.dtype == np.float32


def test_zero_gradient_has_the_shape_of_its_argument():
    x, M = arr(3), arr(2, 2)
    g = sourcegrad.grad(output_independent_of_wrt_matrix, wrt=1)(x, M)
    assert g.shape == (2, 2) and g.dtype == np.float64 and not np.any(g)
    g = sourcegrad.grad(python_int_in_expression, wrt=1)(0.7, 3)
    assert type(g) is float


def sum_of_two(x, y):
    return np.sum((x + y) * OFFSET)


def test_gradients_are_fresh_arrays():
    x, y = arr(3), arr(3)
    gx, gy = sourcegrad.grad(sum_of_two, wrt=(0, 1))(x, y)
    assert gx is not gy and gx.flags.writeable and gy.flags.writeable
    gx += 1.0
    np.testing.assert_allclose(gy, OFFSET)
    u = arr(3)
    _, pullback = sourcegrad.vjp(identity, u)
    (g,) = pullback(u)
    assert g is not u


def identity(x):
    return x


def test_keyword_arguments_at_the_call():
    x = arr(3)
    g1 = sourcegrad.grad(keyword_at_call)(x, scale=2.0)
    g2 = sourcegrad.grad(keyword_at_call)(x=x, scale=2.0)
    g3 = sourcegrad.grad(keyword_at_call)(x, 2.0)
    np.testing.assert_allclose(g1, 4.0 * x)
    np.testing.assert_allclose(g2, g1)
    np.testing.assert_allclose(g3, g1)
    np.testing.assert_allclose(sourcegrad.grad(keyword_at_call)(x), 2.0 * x)
    gy = sourcegrad.grad(keyword_only, wrt="y")(x, y=x, k=1.0)
    np.testing.assert_allclose(gy, 2.0 * x * x)


# -- names are read when the gradient is taken, not when it was compiled ------

RATE = 2.0
activation = np.tanh


def reads_a_global(x):
    return np.sum(RATE * x * x)


def calls_a_global_function(x):
    return np.sum(activation(x))


def test_a_rebound_global_value_is_seen():
    global RATE
    x = arr(3)
    np.testing.assert_allclose(sourcegrad.grad(reads_a_global)(x), 4.0 * x)
    RATE = 3.0
    try:
        np.testing.assert_allclose(sourcegrad.grad(reads_a_global)(x), 6.0 * x)
    finally:
        RATE = 2.0


def test_a_rebound_global_function_is_seen():
    global activation
    x = arr(3)
    np.testing.assert_allclose(sourcegrad.grad(calls_a_global_function)(x), 1 - np.tanh(x) ** 2)
    activation = np.sin
    try:
        np.testing.assert_allclose(sourcegrad.grad(calls_a_global_function)(x), np.cos(x))
    finally:
        activation = np.tanh


def test_a_rebound_closure_constant_is_seen():
    scale = 1.0

    def scaled(x):
        return np.sum(scale * x)

    x = arr(3)
    np.testing.assert_allclose(sourcegrad.grad(scaled)(x), np.ones(3))
    scale = 7.0
    np.testing.assert_allclose(sourcegrad.grad(scaled)(x), 7.0 * np.ones(3))


def test_inline_lambda():
    x = arr(3)
    g = sourcegrad.grad(lambda v: np.sum(v ** 3))(x)
    np.testing.assert_allclose(g, 3 * x ** 2)


# -- the comments of the generated code quote the user's statements ---------------

def two_statements_on_a_line(x):
    a = x * 2.0; b = a + 1.0  # noqa: E702
    return np.sum(b * a)


def statement_on_two_lines(x, y):
    z = (x * y +
         np.sin(x))
    return np.sum(z ** 2)


def test_comments_quote_each_statement():
    text = sourcegrad.source(two_statements_on_a_line)
    assert "    # grad of: b = a + 1.0\n" in text
    assert "    # grad of: a = x * 2.0\n" in text
    sourcegrad.check_grads(two_statements_on_a_line, (arr(3),))


def test_comments_join_continuation_lines():
    text = sourcegrad.source(statement_on_two_lines)
    assert "    # grad of: z = (x * y + np.sin(x))\n" in text
    sourcegrad.check_grads(statement_on_two_lines, (arr(3), arr(3)))


def positional_only(x, /, y, *, k=2.0):
    return np.sum(x * y * k)


def test_positional_only_and_keyword_only_parameters():
    x, y = arr(3), arr(3)
    np.testing.assert_allclose(sourcegrad.grad(positional_only)(x, y, k=3.0), 3.0 * y)
    gy, gk = sourcegrad.grad(positional_only, wrt=("y", "k"))(x, y, k=3.0)
    np.testing.assert_allclose(gy, 3.0 * x)
    assert type(gk) is float and gk == pytest.approx(np.sum(x * y))


def make_with_defaults():
    k = 3.0

    def with_defaults(x, c=k, *, d=k + 1.0):
        return np.sum(c * d * x * x)

    return with_defaults


with_enclosing_defaults = make_with_defaults()
PROGRAMS.append(pytest.param(with_enclosing_defaults, (arr(3),), None, 0, 1e-6,
                             id="defaults_from_an_enclosing_scope"))


@program(arr(3), wrt=0)
def default_reads_a_global(x, c=SCALE, *, d=np.float64(3.0)):
    return np.sum(c * d * x * x)


def test_jacobian_with_a_tuple_wrt():
    x, A = arr(3), arr(2, 3)
    Jx, JA = sourcegrad.jacobian(vector_function, wrt=(0, 1), mode="reverse")(x, A)
    assert Jx.shape == (2, 3) and JA.shape == (2, 2, 3)
    np.testing.assert_allclose(Jx, sourcegrad.jacobian(vector_function)(x, A))
    eps = 1e-6
    E = np.zeros_like(A)
    E[1, 2] = eps
    column = (vector_function(x, A + E) - vector_function(x, A - E)) / (2 * eps)
    np.testing.assert_allclose(JA[:, 1, 2], column, rtol=1e-6, atol=1e-9)


def test_jacobian_of_a_python_float():
    J = sourcegrad.jacobian(np_exp_times_sum)(0.5)
    assert J.shape == () and float(J) == pytest.approx(np.exp(0.5) * 1.5)


def test_grad_with_respect_to_a_default_that_is_not_passed():
    x = arr(3)
    g = sourcegrad.grad(default_used, wrt=1)(x)
    assert type(g) is float and g == pytest.approx(np.sum(x * x))


# -- the corpus, run (last: every program above is registered) -----------------

@pytest.mark.parametrize("f, args, kwargs, wrt, tol", PROGRAMS)
def test_program(f, args, kwargs, wrt, tol):
    check_program(f, args, kwargs, wrt, tol)


def test_corpus_size():
    assert len(PROGRAMS) >= 60
