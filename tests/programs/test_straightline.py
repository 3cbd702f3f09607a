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

# -- the independent reference ---------------------------------------------


def numeric_grad(f, args, kwargs, index, eps=1e-6):
    """Central differences of the scalar ``f`` in the argument ``index`` (an
    int for a positional argument, a name for a keyword), in float64."""
    args = list(args)
    kwargs = dict(kwargs)

    def get():
        return kwargs[index] if isinstance(index, str) else args[index]

    def call(value):
        if isinstance(index, str):
            return float(f(*args, **{**kwargs, index: value}))
        return float(f(*args[:index], value, *args[index + 1:], **kwargs))

    x = get()
    if not isinstance(x, np.ndarray):
        return (call(float(x) + eps) - call(float(x) - eps)) / (2 * eps)
    # float32 inputs are perturbed in float64: eps is below float32's resolution
    base = np.array(x, dtype=np.float64)
    out = np.zeros(base.shape)
    for i in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[i] += eps
        down[i] -= eps
        out[i] = (call(up) - call(down)) / (2 * eps)
    return out


def assert_like(g, x):
    """``g`` has the type, shape and dtype of what it differentiates."""
    if isinstance(x, np.ndarray):
        assert isinstance(g, np.ndarray), type(g)
        assert g.shape == x.shape, (g.shape, x.shape)
        assert g.dtype == x.dtype, (g.dtype, x.dtype)
    elif isinstance(x, (float, int)) and not isinstance(x, bool):
        assert type(g) is float, type(g)


def position(f, wrt, kwargs):
    """The positional index or keyword name of ``wrt`` in ``f``'s parameters."""
    code = f.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    if wrt in kwargs:
        return wrt
    if isinstance(wrt, str):
        i = names.index(wrt)
    else:
        i = wrt % code.co_argcount
    return i if i < code.co_argcount else names[i]


def check_program(f, args, kwargs=None, wrt=0, tol=1e-6):
    kwargs = kwargs or {}
    if not kwargs:
        sourcegrad.check_grads(f, args)
    grads = sourcegrad.grad(f, wrt=wrt)(*args, **kwargs)
    wrts = wrt if isinstance(wrt, tuple) else (wrt,)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    assert len(grads) == len(wrts)
    for w, g in zip(wrts, grads):
        where = position(f, w, kwargs)
        x = kwargs[where] if isinstance(where, str) else args[where]
        assert_like(g, x)
        expected = numeric_grad(f, args, kwargs, where)
        loose = isinstance(x, np.ndarray) and x.dtype == np.float32
        np.testing.assert_allclose(
            np.asarray(g, dtype=np.float64), expected,
            rtol=2e-2 if loose else tol, atol=2e-2 if loose else tol,
        )


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


@pytest.mark.parametrize("f, args, kwargs, wrt, tol", PROGRAMS)
def test_program(f, args, kwargs, wrt, tol):
    check_program(f, args, kwargs, wrt, tol)


def test_corpus_size():
    assert len(PROGRAMS) >= 60


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
