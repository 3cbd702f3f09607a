"""The rule test table: one row per thing a derivative rule must get right.

Each row (a ``Spec``) names a small function written the way a user writes
one, the argument shapes to try it on, the domain its arguments are drawn
from, and which arguments are differentiated.  ``test_rules.py`` runs every
row through ``sourcegrad.check_grads`` and through an independent elementwise
finite-difference gradient, and checks the gradient's type, shape and dtype;
in forward mode, through ``sourcegrad.jvp`` against central differences
along the same tangents, and through the consistency of the two modes.

To test a new rule, add a row.  A row or a single case that cannot pass
because of the compiler (not the rule) is wrapped in
``pytest.param(..., marks=pytest.mark.skip(reason="compiler: ..."))``; a row
that only forward mode cannot run yet names the reason in ``forward_skip``.

Argument specs in ``cases``: a shape tuple is a float64 array of that shape
(``()`` a 0-d array), ``F`` a Python float, ``S`` a NumPy float64 scalar,
``f32(...)`` a float32 array, and ``const(value)`` a fixed argument (integer
indices, labels, axes) that is passed as is and not differentiated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

import sourcegrad as sg


# ---------------------------------------------------------------------------
# argument specs and domains


@dataclass(frozen=True)
class Arg:
    """One argument of a case."""

    shape: tuple = ()
    dtype: str = "float64"
    kind: str = "array"  # "array", "float" (Python), "scalar" (NumPy) or "const"
    value: object = None  # the value of a "const" argument

    @property
    def label(self) -> str:
        if self.kind == "const":
            if isinstance(self.value, np.ndarray):
                return f"{self.value.dtype.name}[{','.join(map(str, self.value.shape))}]"
            return repr(self.value).replace(" ", "")
        if self.kind != "array":
            return {"float": "f", "scalar": "np.float64"}[self.kind]
        text = "x".join(map(str, self.shape)) if self.shape else "0d"
        return text if self.dtype == "float64" else f"f{self.dtype[5:]}:{text}"

    def make(self, rng, domain):
        if self.kind == "const":
            return self.value
        values = np.asarray(domain(rng, self.shape), dtype=np.float64)
        if self.kind == "float":
            return float(values)
        if self.kind == "scalar":
            return np.dtype(self.dtype).type(values)
        return values.astype(self.dtype)


#: A Python float argument.
F = Arg(kind="float")
#: A NumPy float64 scalar argument.
S = Arg(kind="scalar")


def f32(*shape) -> Arg:
    """A float32 array argument."""
    return Arg(tuple(shape), "float32")


def const(value) -> Arg:
    """A fixed argument: passed as is, never differentiated."""
    return Arg(kind="const", value=value)


def arg(spec) -> Arg:
    return spec if isinstance(spec, Arg) else Arg(tuple(spec))


def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    """For log, sqrt, powers with a real exponent."""
    return rng.uniform(0.5, 2.0, shape)


def unit(rng, shape):
    """Inside (-1, 1), for arcsin, arccos, arctanh (and tan away from its poles)."""
    return rng.uniform(-0.9, 0.9, shape)


def nonzero(rng, shape):
    """Away from zero, for denominators and 1/x-like derivatives."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


def apart(offset=0.05):
    """Distinct values on the grid ``0.25 k + offset``: no ties within an array,
    no zeros, distinct magnitudes; two arguments with offsets 0.05 and 0.15
    never meet.  For abs, sign, max/min, maximum, clip and masks."""

    def draw(rng, shape):
        n = int(np.prod(shape, dtype=int))
        k = rng.permutation(n) - n // 2
        return np.reshape(k * 0.25 + offset, shape)

    draw.__name__ = f"apart({offset})"
    return draw


def between(lo, hi):
    """Uniform in ``(lo, hi)``: for clip bounds that stay away from ``apart()`` values."""

    def draw(rng, shape):
        return rng.uniform(lo, hi, shape)

    return draw


# ---------------------------------------------------------------------------
# the row type


@dataclass(frozen=True)
class Spec:
    """One row of the table."""

    id: str
    fn: object
    cases: tuple  # of tuples of argument specs (or pytest.param of one)
    domain: object = normal  # one domain for every argument, or a tuple, one per argument
    wrt: tuple | None = None  # differentiated argument indices; None: every float argument
    rtol: float = 1e-5
    atol: float = 1e-6
    #: why forward mode cannot run this row yet ("compiler: ..."), or "" if it can
    forward_skip: str = ""
    #: the cases sit on a kink (a tie): the first derivative jumps there, and
    #: there is no second derivative to check
    kink: bool = False

    def domain_of(self, i):
        return self.domain[i] if isinstance(self.domain, tuple) else self.domain

    def make_args(self, case, seed=0):
        rng = np.random.default_rng(seed)
        return tuple(arg(a).make(rng, self.domain_of(i)) for i, a in enumerate(case))

    def differentiated(self, case):
        if self.wrt is not None:
            return tuple(self.wrt)
        return tuple(i for i, a in enumerate(map(arg, case)) if a.kind != "const")


def label(case) -> str:
    return "&".join(arg(a).label for a in case)


# ---------------------------------------------------------------------------
# shapes and constants

UNARY = (F, (), (5,), (3, 4))
UNARY_ND = ((5,), (3, 4), (2, 3, 4))
CUBE = ((2, 3, 4),)
PAIRS = (
    ((2, 3), (2, 3)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((1, 4), (3, 4)),
    (F, (3, 4)), ((3, 4), F), ((), (3,)), (F, F),
)
PAIRS32 = ((f32(2, 3), f32(2, 3)), (f32(3, 4), f32(4,)))
#: Two arguments that never tie: for maximum, minimum, where.
APART2 = (apart(0.05), apart(0.15))


def one(*shapes):
    """Cases of one argument each."""
    return tuple((s,) for s in shapes)


IDX = np.array([0, 2, 2, 1, 0])
NEG_IDX = np.array([-1, 0, -1, -3])
IDX2D = np.array([[0, 1], [2, 2]])
ROWS = np.array([0, 2, 2])
COLS = np.array([3, 0, 3])
MASK = np.array([True, False, True, True, False])
LABELS = np.array([2, 0, 3])
ONE_ZERO = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
MASK_ZERO = np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]])


# ---------------------------------------------------------------------------
# the functions under test, by family

# elementwise, one argument

def exp_(x): return np.exp(x)
def expm1_(x): return np.expm1(x)
def log_(x): return np.log(x)
def log1p_(x): return np.log1p(x)
def log2_(x): return np.log2(x)
def log10_(x): return np.log10(x)
def sqrt_(x): return np.sqrt(x)
def cbrt_(x): return np.cbrt(x)
def square_(x): return np.square(x)
def reciprocal_(x): return np.reciprocal(x)
def abs_(x): return np.abs(x)
def absolute_(x): return np.absolute(x)
def builtin_abs(x): return abs(x)
def fabs_(x): return np.fabs(x)
def sign_(x): return np.sign(x) * x
def sin_(x): return np.sin(x)
def cos_(x): return np.cos(x)
def tan_(x): return np.tan(x)
def tanh_(x): return np.tanh(x)
def sinh_(x): return np.sinh(x)
def cosh_(x): return np.cosh(x)
def arcsin_(x): return np.arcsin(x)
def arccos_(x): return np.arccos(x)
def arctan_(x): return np.arctan(x)
def arcsinh_(x): return np.arcsinh(x)
def arctanh_(x): return np.arctanh(x)
def hypot_self(x): return np.hypot(x, 2.0 * x)


def sum_tanh(x):
    return np.sum(np.tanh(x))


def softplus(x):
    return np.sum(np.log1p(np.exp(x)))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# the math module, and builtins, on Python numbers

def math_exp(x): return math.exp(x)
def math_expm1(x): return math.expm1(x)
def math_log(x): return math.log(x)
def math_log1p(x): return math.log1p(x)
def math_log2(x): return math.log2(x)
def math_log10(x): return math.log10(x)
def math_sqrt(x): return math.sqrt(x)
def math_cbrt(x): return math.cbrt(x)
def math_sin(x): return math.sin(x)
def math_cos(x): return math.cos(x)
def math_tan(x): return math.tan(x)
def math_asin(x): return math.asin(x)
def math_acos(x): return math.acos(x)
def math_atan(x): return math.atan(x)
def math_sinh(x): return math.sinh(x)
def math_cosh(x): return math.cosh(x)
def math_tanh(x): return math.tanh(x)
def math_asinh(x): return math.asinh(x)
def math_atanh(x): return math.atanh(x)
def math_fabs(x): return math.fabs(x)
def math_atan2(y, x): return math.atan2(y, x)
def math_hypot(x, y): return math.hypot(x, y)
def math_pow(x, y): return math.pow(x, y)
def builtin_pow(x, y): return pow(x, y) + pow(x, 2)
def builtin_max(x, y): return max(x, y) * 2.0
def builtin_min(x, y): return min(x, 0.5 * y)
def builtin_sum(x, y): return sum([x, y, x])
def builtin_sum_array(x): return sum(x)


# elementwise, two arguments; where; clip

def arctan2_(y, x): return np.arctan2(y, x)
def hypot_(x, y): return np.hypot(x, y)
def maximum_(x, y): return np.maximum(x, y)
def minimum_(x, y): return np.minimum(x, y)
def fmax_(x, y): return np.fmax(x, y)
def fmin_(x, y): return np.fmin(x, y)
def relu(x): return np.maximum(x, 0.0)
def relu_tie(x): return np.maximum(x, 0.0) + np.minimum(x, 0.0) * 0.5
def where_(x, y): return np.where(x > y, x, y)
def where_scalar(x, c): return np.where(x > 0, c, x)
def where_self(x): return np.where(x > 0, x, x * x)
def where_zero(x): return np.where(x > 0.4, x, 0.0)
def leaky_relu(x): return np.where(x > 0, x, 0.1 * x)
def clip_(x): return np.clip(x, -0.5, 0.5)
def clip_upper(x): return np.clip(x, None, 0.5)
def clip_lower(x): return np.clip(x, -0.5, None)
def clip_method(x): return x.clip(-0.5, 0.5)
def clip_bounds(x, lo, hi): return np.clip(x, lo, hi)
def clip_keywords(x, lo, hi): return np.clip(x, min=lo, max=hi)
def clip_min_keyword(x): return x.clip(min=0.1)
def clip_max_keyword(x): return np.clip(x, max=0.4)
def clip_mixed(x, lo, hi): return x.clip(lo, max=hi)
def clip_one_bound(x): return x.clip(0.1)


# Python operators and their NumPy functions

def add_(x, y): return x + y
def sub_(x, y): return x - y
def mod_(x, y): return x % y
def np_mod(x, y): return np.mod(x, y)
def np_remainder(x, y): return np.remainder(x, y)
def mul_(x, y): return x * y
def div_(x, y): return x / y
def np_add(x, y): return np.add(x, y)
def np_subtract(x, y): return np.subtract(x, y)
def np_multiply(x, y): return np.multiply(x, y)
def np_divide(x, y): return np.divide(x, y)
def rsub(x): return 2.0 - x
def rdiv(x): return 1.0 / x
def neg_(x): return -x
def pos_(x): return +x
def np_negative(x): return np.negative(x)
def mul_self(x): return x * x


def augmented(x, y):
    z = x + y
    z *= y
    z -= 2.0 * x
    z /= 3.0
    return z


def pow2(x): return x ** 2
def pow3(x): return x ** 3
def pow_half(x): return x ** 0.5
def pow_minus1(x): return x ** -1
def pow_float2(x): return x ** 2.0
def pow_(x, y): return x ** y
def pow_var(x, n): return x ** n
def rpow(x): return 2.0 ** x
def np_power(x, y): return np.power(x, y)
def np_power3(x): return np.power(x, 3)


# products

def matmul_(x, y): return x @ y
def np_matmul(x, y): return np.matmul(x, y)
def matmul_self(x): return x @ x


def quadratic(A, x):
    return x @ A @ x


def dot_(x, y): return np.dot(x, y)
def dot_method(x, y): return x.dot(y)
def dot_self(x): return np.dot(x, x)
def outer_(x, y): return np.outer(x, y)
def outer_self(x): return np.outer(x, x)
def inner_(x, y): return np.inner(x, y)


# reductions

def sum_(x): return np.sum(x)
def sum_axis0(x): return np.sum(x, axis=0)
def sum_axis_neg(x): return np.sum(x, axis=-1)
def sum_axis_pos(x): return np.sum(x, 1)
def sum_axes(x): return np.sum(x, axis=(0, 2))
def sum_keepdims(x): return np.sum(x, keepdims=True)
def sum_axis_keepdims(x): return np.sum(x, axis=1, keepdims=True)
def sum_method(x): return x.sum()
def sum_method_axis(x): return x.sum(axis=0)
def sum_method_pos(x): return x.sum(1)
def sum_axis_var(x, axis): return np.sum(x, axis=axis)
def sum_keepdims_var(x, keep): return np.sum(x, axis=None, keepdims=keep)
def sum_of_list(x, y): return np.sum([x, y], axis=0)
def sum_initial(x): return np.sum(x, initial=2.0)

def mean_(x): return np.mean(x)
def mean_axis0(x): return np.mean(x, axis=0)
def mean_axes(x): return np.mean(x, axis=(0, 2))
def mean_keepdims(x): return np.mean(x, axis=-1, keepdims=True)
def mean_all_keepdims(x): return np.mean(x, keepdims=True)
def mean_method(x): return x.mean()
def mean_method_axis(x): return x.mean(axis=1)
def mean_axis_var(x, axis): return np.mean(x, axis=axis, keepdims=True)

def max_(x): return np.max(x)
def max_axis0(x): return np.max(x, axis=0)
def max_axis_keepdims(x): return np.max(x, axis=1, keepdims=True)
def max_keepdims_all(x): return np.max(x, keepdims=True)
def max_axes(x): return np.max(x, axis=(0, 2))
def max_method(x): return x.max()
def max_method_axis(x): return x.max(axis=-1)
def max_axis_var(x, axis): return np.max(x, axis=axis)
def max_initial(x): return np.max(x, initial=0.0)
def min_initial(x): return np.min(x, axis=0, initial=0.0)
def max_of_list(x, y): return np.max([x, y], axis=0)
def max_of_equal(x): return np.max([x, x], axis=0)
def min_of_equal(x): return np.min(np.stack([x, x, x]), axis=0, keepdims=True)
def amax_(x): return np.amax(x, axis=0)
def min_(x): return np.min(x)
def min_axis(x): return np.min(x, axis=1)
def min_keepdims(x): return np.min(x, axis=0, keepdims=True)
def min_method(x): return x.min(0)
def amin_(x): return np.amin(x)

def prod_(x): return np.prod(x)
def prod_axis(x): return np.prod(x, axis=0)
def prod_keepdims(x): return np.prod(x, axis=-1, keepdims=True)
def prod_method(x): return x.prod()
def prod_axis_var(x, axis): return np.prod(x, axis)


def prod_with_zero(x):
    return np.prod(x * ONE_ZERO) + np.sum(np.prod(x * MASK_ZERO, axis=0))


def var_(x): return np.var(x)
def var_axis(x): return np.var(x, axis=0)
def var_ddof(x): return np.var(x, axis=-1, ddof=1, keepdims=True)
def var_method(x): return x.var()
def std_(x): return np.std(x)
def std_axis(x): return np.std(x, axis=(0, 2), ddof=1)
def std_method(x): return x.std(axis=1, keepdims=True)
def cumsum_(x): return np.cumsum(x)
def cumsum_axis(x): return np.cumsum(x, axis=0)
def cumsum_method(x): return x.cumsum(axis=-1)


# dtype=: the result (and its derivative) in another float type

def sum_dtype(x): return np.sum(x, axis=0, dtype=np.float64)
def sum_all_dtype(x): return np.sum(x, dtype=np.float64)
def mean_dtype(x): return np.mean(x, dtype=np.float64)
def prod_dtype(x): return np.prod(x, axis=1, dtype=np.float64)
def var_dtype(x): return np.var(x, axis=0, dtype=np.float64)
def std_dtype(x): return np.std(x, dtype=np.float64)
def cumsum_dtype(x): return np.cumsum(x, axis=1, dtype=np.float64)


def logsumexp(x):
    m = sg.stop_gradient(np.max(x))
    return m + np.log(np.sum(np.exp(x - m)))


def softmax_cross_entropy(z, labels):
    shifted = z - np.max(z, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = z.shape[0]
    return -np.mean(logp[np.arange(n), labels])


# norms

def norm_(x): return np.linalg.norm(x)
def norm_axis0(x): return np.linalg.norm(x, axis=0)
def norm_axis_keepdims(x): return np.linalg.norm(x, axis=1, keepdims=True)
def norm_keepdims(x): return np.linalg.norm(x, keepdims=True)
def norm_ord1(x): return np.linalg.norm(x, ord=1)
def norm_ord1_axis(x): return np.linalg.norm(x, ord=1, axis=1)
def norm_inf(x): return np.linalg.norm(x, ord=np.inf)
def norm_minus_inf(x): return np.linalg.norm(x, -np.inf)
def norm_ord2(x): return np.linalg.norm(x, 2)
def norm_p3(x): return np.linalg.norm(x, ord=3)
def norm_p_half(x): return np.linalg.norm(x, 0.5)
def norm_ord0(x): return np.linalg.norm(x, 0) * x
def norm_fro(x): return np.linalg.norm(x, "fro")
def norm_fro_axes(x): return np.linalg.norm(x, ord="fro", axis=(1, 2))
def norm_var(x, ord, axis): return np.linalg.norm(x, ord, axis)
def norm_matrix(x, ord): return np.linalg.norm(x, ord)
def norm_matrix_axes(x, ord): return np.linalg.norm(x, ord, axis=(2, 0), keepdims=True)
def norm_one_axis(x): return np.linalg.norm(x, 3, axis=(1,))


# shapes

def reshape_(x): return np.reshape(x, (3, 4))
def reshape_flat(x): return np.reshape(x, (-1,))
def reshape_method(x): return x.reshape(2, 3)
def reshape_method_tuple(x): return x.reshape((3, 2))
def reshape_minus1(x): return x.reshape(-1)
def reshape_var(x, shape): return np.reshape(x, shape)
def reshape_fortran(x): return x.reshape(2, 3, order="F")
def np_reshape_fortran(x): return np.reshape(x, (4, 3), order="F")
def ravel_(x): return np.ravel(x)
def ravel_method(x): return x.ravel()
def ravel_fortran(x): return np.ravel(x, order="F")
def flatten_(x): return x.flatten()
def flatten_fortran(x): return x.flatten("F")
def transpose_(x): return np.transpose(x)
def transpose_axes(x): return np.transpose(x, (1, 0, 2))
def transpose_axes_kw(x): return np.transpose(x, axes=(2, 0, 1))
def transpose_negative(x): return np.transpose(x, (1, -1, 0))
def transpose_var(x, axes): return np.transpose(x, axes)
def T_(x): return x.T
def transpose_method(x): return x.transpose()
def transpose_method_args(x): return x.transpose(1, 2, 0)
def transpose_method_tuple(x): return x.transpose((2, 0, 1))
def swapaxes_(x): return np.swapaxes(x, 0, 2)
def swapaxes_method(x): return x.swapaxes(-1, 0)
def swapaxes_var(x, i, j): return np.swapaxes(x, i, j)
def moveaxis_(x): return np.moveaxis(x, 0, -1)
def moveaxis_many(x): return np.moveaxis(x, (0, 1), (2, 0))
def expand_dims_(x): return np.expand_dims(x, 0)
def expand_dims_neg(x): return np.expand_dims(x, axis=-1)
def expand_dims_many(x): return np.expand_dims(x, axis=(0, 2))
def expand_dims_var(x, axis): return np.expand_dims(x, axis)
def squeeze_(x): return np.squeeze(x)
def squeeze_axis(x): return np.squeeze(x, axis=0)
def squeeze_method(x): return x.squeeze()
def broadcast_to_(x): return np.broadcast_to(x, (3, 4))
def broadcast_to_3d(x): return np.broadcast_to(x, (2, 3, 4))


# joins, and tuples of arrays

def concatenate_(x, y): return np.concatenate([x, y])
def concatenate_axis1(x, y): return np.concatenate((x, y), axis=1)
def concatenate_none(x, y): return np.concatenate([x, y], axis=None)
def concatenate_three(x, y): return np.concatenate([x, y, x], axis=0)
def concatenate_var(x, y, axis): return np.concatenate([x, y], axis)
def stack_(x, y): return np.stack([x, y])
def stack_axis1(x, y): return np.stack((x, y), axis=1)
def stack_last(x, y): return np.stack([x, y, x], axis=-1)
def stack_var(x, y, axis): return np.stack([x, y], axis)
def hstack_(x, y): return np.hstack([x, y])
def vstack_(x, y): return np.vstack((x, y))


def unpack_tuple(x, y):
    t = (x, y)
    a, b = t
    return np.sum(a) * np.sum(b ** 2)


def tuple_item(x, y):
    t = (x, y)
    return t[1] * 2.0


def concat_and_stack(x, y):
    t = (x, y)
    return np.sum(np.concatenate(t) ** 2) + np.sum(np.stack(t) * 3.0)


def concat_twice(x, y):
    t = [x, y]
    return np.concatenate(t, axis=None) + np.concatenate(t, axis=None) ** 2


# copies, conversions and constructors

def identity_(x): return x
def copy_(x): return np.copy(x)
def copy_method(x): return x.copy()
def array_(x): return np.array(x)
def asarray_(x): return np.asarray(x)
def array_dtype(x): return np.array(x, dtype=np.float64)
def asarray_dtype(x): return np.asarray(x, dtype=float)
def array_int(x): return np.array(x, dtype=int) * x
def array_ndmin(x): return np.array(x, ndmin=2)
def array_of_list(x, y): return np.array([x, y])


def assigned(x):
    y = x
    z = y
    return z * y


def astype_(x): return x.astype(np.float64)
def np_astype(x): return np.astype(x, np.float64)
def astype_up(x): return x.astype(np.float64) * 2.0
def astype_int(x): return x.astype(np.int64) * x
def full_(c): return np.full((2, 3), c)
def full_int_shape(c): return np.full(3, c)
def full_int(c): return np.full((2, 3), c, dtype=int) * c
def full_like_(x, c): return np.full_like(x, c)
def full_like_int(c): return np.full_like(LABELS, c) * c
def full_dtype(c): return np.full((2, 3), c, dtype=np.float64)
def zeros_ones_like(x): return x * np.ones_like(x) + np.zeros_like(x)
def to_float(x): return float(x) * 3.0
def np_float64(x): return np.float64(x) * 3.0
def np_float32(x): return np.float32(x) * 3.0


def float_of_sum(x):
    return np.tanh(float(np.sum(x)))


def _cubic(x):
    return np.sum(x ** 3 + np.sin(x))


def nested_grad_(x): return sg.grad(_cubic)(x) * 2.0


def stop_gradient_(x, y):
    return x * y + sg.stop_gradient(x * 0.0)


# indexing reads

def index_int(x): return x[1]
def index_neg(x): return x[-1]
def index_two(x): return x[2, -1]
def index_empty(x): return x[()]
def index_ellipsis_only(x): return x[...]
def index_var(x, i): return x[i]
def index_argmax(x): return x[np.argmax(x)]
def slice_(x): return x[1:4]
def slice_step(x): return x[::2]
def slice_reverse(x): return x[::-1]
def slice_2d(x): return x[1:, ::2]
def slice_negative(x): return x[-2:, ::-2]
def index_ellipsis(x): return x[..., 0]
def index_none(x): return x[None, :]
def index_none_last(x): return x[:, None]
def index_newaxis(x): return x[np.newaxis, :, np.newaxis]
def index_array(x): return x[IDX]
def index_negative_array(x): return x[NEG_IDX]
def index_array_2d(x): return x[IDX2D]
def index_list(x): return x[[0, 2, 0]]
def index_columns(x): return x[:, ROWS]
def index_pairs(x): return x[ROWS, COLS]
def index_mask(x): return x[MASK]
def index_mask_computed(x): return x[x > 0]


def pick(logp, labels):
    return logp[np.arange(3), labels]


# ---------------------------------------------------------------------------
# the table

SPECS = [
    # elementwise, one argument
    Spec("exp", exp_, one(*UNARY, f32(3, 4))),
    Spec("expm1", expm1_, one(*UNARY)),
    Spec("log", log_, one(*UNARY, f32(5)), positive),
    Spec("log1p", log1p_, one(*UNARY), positive),
    Spec("log2", log2_, one(*UNARY), positive),
    Spec("log10", log10_, one(*UNARY), positive),
    Spec("sqrt", sqrt_, one(*UNARY), positive),
    Spec("cbrt", cbrt_, one(*UNARY), nonzero),
    Spec("square", square_, one(*UNARY)),
    Spec("reciprocal", reciprocal_, one(*UNARY), nonzero),
    Spec("abs", abs_, one(*UNARY), apart()),
    Spec("absolute", absolute_, one(*UNARY), apart()),
    Spec("builtin_abs", builtin_abs, one(*UNARY), apart()),
    Spec("fabs", fabs_, one(*UNARY), apart()),
    Spec("sign", sign_, one(*UNARY), apart()),
    Spec("sin", sin_, one(*UNARY)),
    Spec("cos", cos_, one(*UNARY)),
    Spec("tan", tan_, one(*UNARY), unit),
    Spec("tanh", tanh_, one(*UNARY, f32(3, 4))),
    Spec("tanh_np_scalar", tanh_, one(S)),
    Spec("sinh", sinh_, one(*UNARY)),
    Spec("cosh", cosh_, one(*UNARY)),
    Spec("arcsin", arcsin_, one(*UNARY), unit),
    Spec("arccos", arccos_, one(*UNARY), unit),
    Spec("arctan", arctan_, one(*UNARY)),
    Spec("arcsinh", arcsinh_, one(*UNARY)),
    Spec("arctanh", arctanh_, one(*UNARY), unit),
    Spec("hypot_self", hypot_self, one(*UNARY), nonzero),
    Spec("sum_tanh", sum_tanh, one(*UNARY)),
    Spec("softplus", softplus, one(*UNARY)),
    Spec("sigmoid", sigmoid, one(*UNARY)),
    # the math module, and builtins, on Python numbers
    Spec("math.exp", math_exp, one(F, S)),
    Spec("math.expm1", math_expm1, one(F)),
    Spec("math.log", math_log, one(F, S), positive),
    Spec("math.log1p", math_log1p, one(F), positive),
    Spec("math.log2", math_log2, one(F), positive),
    Spec("math.log10", math_log10, one(F), positive),
    Spec("math.sqrt", math_sqrt, one(F), positive),
    Spec("math.cbrt", math_cbrt, one(F), nonzero),
    Spec("math.sin", math_sin, one(F)),
    Spec("math.cos", math_cos, one(F)),
    Spec("math.tan", math_tan, one(F), unit),
    Spec("math.asin", math_asin, one(F), unit),
    Spec("math.acos", math_acos, one(F), unit),
    Spec("math.atan", math_atan, one(F)),
    Spec("math.sinh", math_sinh, one(F)),
    Spec("math.cosh", math_cosh, one(F)),
    Spec("math.tanh", math_tanh, one(F, S)),
    Spec("math.asinh", math_asinh, one(F)),
    Spec("math.atanh", math_atanh, one(F), unit),
    Spec("math.fabs", math_fabs, one(F), nonzero),
    Spec("math.atan2", math_atan2, ((F, F),), nonzero),
    Spec("math.hypot", math_hypot, ((F, F),), nonzero),
    Spec("math.pow", math_pow, ((F, F),), (positive, normal)),
    Spec("builtin_pow", builtin_pow, ((F, F), ((3,), F), ((3,), (3,))), (positive, normal)),
    Spec("builtin_max", builtin_max, ((F, F), (S, F)), APART2),
    Spec("builtin_min", builtin_min, ((F, F),), APART2),
    Spec("builtin_sum", builtin_sum, ((F, F), ((3,), (3,)), ((2, 3), (3,)))),
    Spec("builtin_sum_array", builtin_sum_array, one((4,), (3, 4))),
    # elementwise, two arguments; where; clip
    Spec("arctan2", arctan2_, PAIRS, nonzero),
    Spec("hypot", hypot_, PAIRS, nonzero),
    Spec("maximum", maximum_, PAIRS + PAIRS32, APART2),
    Spec("minimum", minimum_, PAIRS + PAIRS32, APART2),
    Spec("fmax", fmax_, PAIRS, APART2),
    Spec("fmin", fmin_, PAIRS, APART2),
    Spec("relu", relu, one(*UNARY), apart()),
    # at a tie maximum and minimum share: central differences agree
    Spec("relu_tie", relu_tie, one((5,), (3, 4)), apart(0.0), kink=True),
    Spec("where", where_, PAIRS, APART2),
    Spec("where_scalar", where_scalar, (((3, 4), F), ((3, 4), ()), ((3, 4), (4,)), ((4,), (3, 4))),
         (apart(), normal)),
    Spec("where_self", where_self, one(*UNARY), apart()),
    Spec("where_zero", where_zero, one(*UNARY), apart()),
    Spec("leaky_relu", leaky_relu, one(*UNARY), apart()),
    Spec("clip", clip_, one(*UNARY), apart()),
    Spec("clip_upper", clip_upper, one(*UNARY), apart()),
    Spec("clip_lower", clip_lower, one(*UNARY), apart()),
    Spec("clip_method", clip_method, one(*UNARY[1:]), apart()),
    Spec("clip_bounds", clip_bounds,
         (((3, 4), (4,), (4,)), ((3, 4), F, F), ((3, 4), (3, 4), (3, 1)), ((5,), (), F)),
         (apart(), between(-0.65, -0.5), between(0.35, 0.5))),
    Spec("clip_var", clip_bounds, (((3, 4), const(None), const(0.5)),
                                   ((3, 4), const(-0.5), const(None)),
                                   ((5,), const(-0.5), const(0.5))), apart()),
    # a_min > a_max: np.clip gives a_max everywhere
    Spec("clip_crossed", clip_bounds, (((3, 4), (4,), (4,)), ((5,), F, F)),
         (apart(), between(0.35, 0.5), between(-0.65, -0.5))),
    # NumPy 2 names the bounds min= and max= too
    Spec("clip_keywords", clip_keywords, (((3, 4), (4,), F), ((5,), const(None), F)),
         (apart(), between(-0.65, -0.5), between(0.35, 0.5))),
    Spec("clip_min_keyword", clip_min_keyword, one(*UNARY[1:]), apart()),
    Spec("clip_max_keyword", clip_max_keyword, one(*UNARY), apart()),
    Spec("clip_mixed", clip_mixed, (((3, 4), (4,), F), ((5,), F, const(None))),
         (apart(), between(-0.65, -0.5), between(0.35, 0.5))),
    Spec("clip_one_bound", clip_one_bound, one((5,), (3, 4)), apart()),
    # Python operators and their NumPy functions
    Spec("add", add_, PAIRS + PAIRS32),
    Spec("sub", sub_, PAIRS),
    # x % y away from its jumps: x / y in (1.1, 1.9), so the floor is 1
    Spec("mod", mod_, PAIRS, (between(2.2, 2.9), between(1.5, 2.0))),
    Spec("np.mod", np_mod, PAIRS[:2], (between(2.2, 2.9), between(1.5, 2.0))),
    Spec("np.remainder", np_remainder, PAIRS[:2], (between(2.2, 2.9), between(1.5, 2.0))),
    Spec("mul", mul_, PAIRS + PAIRS32),
    Spec("mul_mixed_dtypes", mul_, ((f32(3, 4), (4,)), ((3, 4), f32(4,)), (F, f32(3)))),
    Spec("mul_np_scalar", mul_, ((S, (3,)), (S, S))),
    Spec("mul_self", mul_self, one(*UNARY)),
    Spec("div", div_, PAIRS + PAIRS32, (normal, nonzero)),
    Spec("np.add", np_add, PAIRS),
    Spec("np.subtract", np_subtract, PAIRS),
    Spec("np.multiply", np_multiply, PAIRS),
    Spec("np.divide", np_divide, PAIRS, (normal, nonzero)),
    Spec("rsub", rsub, one(*UNARY)),
    Spec("rdiv", rdiv, one(*UNARY), nonzero),
    Spec("neg", neg_, one(*UNARY)),
    Spec("pos", pos_, one(*UNARY)),
    Spec("np.negative", np_negative, one(*UNARY)),
    Spec("augmented", augmented, PAIRS),
    Spec("pow2", pow2, one(*UNARY, f32(3, 4))),
    Spec("pow3", pow3, one(*UNARY)),
    Spec("pow_half", pow_half, one(*UNARY), positive),
    Spec("pow_minus1", pow_minus1, one(*UNARY), nonzero),
    Spec("pow_float2", pow_float2, one(*UNARY)),
    Spec("pow", pow_, PAIRS, (positive, normal)),
    Spec("pow_exponent_only", pow_, PAIRS[:3], (positive, normal), wrt=(1,)),
    # (vjp differentiates a Python int exponent too: the log of a negative base)
    pytest.param(Spec("pow_var", pow_var, (((3, 4), const(2)), ((3, 4), const(3)), (F, const(2)))),
                 marks=pytest.mark.filterwarnings("ignore:invalid value encountered in log")),
    Spec("rpow", rpow, one(*UNARY)),
    Spec("np.power", np_power, PAIRS, (positive, normal)),
    Spec("np.power3", np_power3, one(*UNARY)),
    # products: matmul with every combination of ranks
    Spec("matmul", matmul_, (
        ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((1, 3), (3, 1)),
        ((2, 2, 3), (3, 4)), ((3, 4), (2, 4, 2)), ((2, 2, 3), (2, 3, 4)), ((3,), (2, 3, 4)),
        ((2, 3, 4), (4,)), ((2, 1, 2, 3), (3, 3, 2)), (f32(2, 3), f32(3, 4)),
    )),
    Spec("matmul_mixed_dtypes", matmul_, ((f32(2, 3), (3, 4)),)),
    Spec("np.matmul", np_matmul, (((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 2, 3), (3,)))),
    Spec("matmul_self", matmul_self, one((3, 3), (2, 3, 3))),
    Spec("quadratic", quadratic, (((3, 3), (3,)),)),
    Spec("dot", dot_, (
        ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
        (F, (3,)), ((), (2, 3)), ((3,), F), (F, F),
    )),
    Spec("dot_nd", dot_, (((2, 3), (2, 3, 4)), ((3,), (2, 3, 2)), ((2, 2, 3), (3, 4)),
                          ((2, 2, 3), (2, 3, 2)))),
    Spec("dot_method", dot_method, (((2, 3), (3, 4)), ((3,), (3,)))),
    Spec("dot_self", dot_self, one(F, (3,), (3, 3))),
    Spec("outer", outer_, (((3,), (4,)), ((2, 2), (3,)), (F, (3,)))),
    Spec("outer_self", outer_self, one((3,),)),
    Spec("inner", inner_, (
        ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (4, 3)), (F, (3,)),
        ((3,), (2, 3)),
    )),
    # reductions
    Spec("sum", sum_, one(*UNARY, (2, 3, 4), f32(3, 4))),
    Spec("sum_np_scalar", sum_, one(S)),
    Spec("sum_axis0", sum_axis0, one(*UNARY_ND)),
    Spec("sum_axis-1", sum_axis_neg, one(*UNARY_ND)),
    Spec("sum_axis1_positional", sum_axis_pos, one((3, 4), (2, 3, 4))),
    Spec("sum_axes", sum_axes, one(*CUBE)),
    Spec("sum_keepdims", sum_keepdims, one(*UNARY)),
    Spec("sum_axis_keepdims", sum_axis_keepdims, one((3, 4), (2, 3, 4), f32(3, 4))),
    Spec("sum_method", sum_method, one(*UNARY[1:])),
    Spec("sum_method_axis", sum_method_axis, one(*UNARY_ND)),
    Spec("sum_method_positional", sum_method_pos, one((3, 4))),
    Spec("sum_axis_var", sum_axis_var, (((3, 4), const(0)), ((3, 4), const(None)),
                                        ((2, 3, 4), const((0, 2))), (F, const(None)))),
    Spec("sum_keepdims_var", sum_keepdims_var, (((3, 4), const(True)), ((3, 4), const(False)))),
    Spec("sum_of_list", sum_of_list, (((3,), (3,)), (F, F))),
    Spec("sum_initial", sum_initial, one(*UNARY)),
    Spec("mean", mean_, one(*UNARY, (2, 3, 4))),
    Spec("mean_axis0", mean_axis0, one(*UNARY_ND)),
    Spec("mean_axes", mean_axes, one(*CUBE)),
    Spec("mean_keepdims", mean_keepdims, one(*UNARY_ND)),
    Spec("mean_all_keepdims", mean_all_keepdims, one(*UNARY)),
    Spec("mean_method", mean_method, one(*UNARY[1:])),
    Spec("mean_method_axis", mean_method_axis, one((3, 4), (2, 3, 4))),
    Spec("mean_axis_var", mean_axis_var, (((3, 4), const(1)), ((3, 4), const(None)),
                                          ((2, 3, 4), const((-1, 0))))),
    Spec("max", max_, one(*UNARY, (2, 3, 4)), apart()),
    Spec("max_axis0", max_axis0, one(*UNARY_ND, f32(3, 4)), apart()),
    Spec("max_axis_keepdims", max_axis_keepdims, one((3, 4), (2, 3, 4)), apart()),
    Spec("max_keepdims_all", max_keepdims_all, one((3, 4), (5,)), apart()),
    Spec("max_axes", max_axes, one(*CUBE), apart()),
    Spec("max_method", max_method, one(*UNARY[1:]), apart()),
    Spec("max_method_axis", max_method_axis, one(*UNARY_ND), apart()),
    Spec("max_axis_var", max_axis_var, (((3, 4), const(0)), ((3, 4), const(None)),
                                        ((2, 3, 4), const((0, -1)))), apart()),
    Spec("max_of_list", max_of_list, (((3,), (3,)), (F, F)), APART2),
    # ties that stay ties: the shares add up to the whole derivative
    Spec("max_of_equal", max_of_equal, one((3,), F)),
    Spec("min_of_equal", min_of_equal, one((3,), (2, 3))),
    # initial=: the maximum may be the initial value, and then no element has a share
    Spec("max_initial", max_initial, one((5,), (3, 4)), apart()),
    Spec("max_initial_wins", max_initial, one((5,), (3, 4)), between(-2.0, -0.5)),
    Spec("min_initial", min_initial, one((5,), (3, 4)), apart()),
    Spec("amax", amax_, one(*UNARY_ND), apart()),
    Spec("min", min_, one(*UNARY), apart()),
    Spec("min_axis", min_axis, one((3, 4), (2, 3, 4)), apart()),
    Spec("min_keepdims", min_keepdims, one(*UNARY_ND), apart()),
    Spec("min_method", min_method, one(*UNARY_ND), apart()),
    Spec("amin", amin_, one(*UNARY), apart()),
    Spec("prod", prod_, one(*UNARY), nonzero),
    Spec("prod_axis", prod_axis, one(*UNARY_ND), nonzero),
    Spec("prod_keepdims", prod_keepdims, one(*UNARY_ND), nonzero),
    Spec("prod_method", prod_method, one(*UNARY[1:]), nonzero),
    Spec("prod_axis_var", prod_axis_var, (((3, 4), const(1)), ((3, 4), const(None))), nonzero),
    Spec("prod_with_zero", prod_with_zero, one((3, 4)), nonzero),
    Spec("var", var_, one(*UNARY, (2, 3, 4))),
    Spec("var_axis", var_axis, one(*UNARY_ND)),
    Spec("var_ddof", var_ddof, one((5,), (3, 4))),
    Spec("var_method", var_method, one((3, 4),)),
    Spec("std", std_, one((5,), (3, 4))),
    Spec("std_axis", std_axis, one(*CUBE)),
    Spec("std_method", std_method, one((3, 4),)),
    Spec("cumsum", cumsum_, one(F, (), (5,), (3, 4))),
    Spec("cumsum_axis", cumsum_axis, one(*UNARY_ND)),
    Spec("cumsum_method", cumsum_method, one((3, 4), (2, 3, 4))),
    # dtype=: a float32 input, a float64 result
    Spec("sum_dtype", sum_dtype, one(f32(3, 4))),
    Spec("sum_all_dtype", sum_all_dtype, one(f32(3, 4))),
    Spec("mean_dtype", mean_dtype, one(f32(3, 4))),
    Spec("prod_dtype", prod_dtype, one(f32(3, 4)), nonzero),
    Spec("var_dtype", var_dtype, one(f32(3, 4))),
    Spec("std_dtype", std_dtype, one(f32(3, 4))),
    Spec("cumsum_dtype", cumsum_dtype, one(f32(3, 4))),
    Spec("logsumexp", logsumexp, one((5,), (3, 4))),
    Spec("softmax_cross_entropy", softmax_cross_entropy, (((3, 4), const(LABELS)),)),
    # norms
    Spec("norm", norm_, one(*UNARY, (2, 3, 4)), nonzero),
    Spec("norm_axis0", norm_axis0, one(*UNARY_ND), nonzero),
    Spec("norm_axis_keepdims", norm_axis_keepdims, one((3, 4), (2, 3, 4)), nonzero),
    Spec("norm_keepdims", norm_keepdims, one((5,), (3, 4)), nonzero),
    Spec("norm_ord1", norm_ord1, one((5,)), apart()),
    Spec("norm_ord1_axis", norm_ord1_axis, one((3, 4)), apart()),
    Spec("norm_inf", norm_inf, one((5,)), apart()),
    Spec("norm_minus_inf", norm_minus_inf, one((5,),), apart()),
    Spec("norm_ord2", norm_ord2, one((5,)), nonzero),
    Spec("norm_p3", norm_p3, one((5,),), nonzero),
    Spec("norm_p_half", norm_p_half, one((5,),), nonzero),
    Spec("norm_ord0", norm_ord0, one((5,),), nonzero),
    Spec("norm_fro", norm_fro, one((3, 4)), nonzero),
    Spec("norm_fro_axes", norm_fro_axes, one((2, 3, 4)), nonzero),
    Spec("norm_var", norm_var, (((3, 4), const(None), const(1)), ((5,), const(1), const(None)),
                                ((5,), const(np.inf), const(0)),
                                ((3, 4), const("fro"), const(None)),
                                ((3, 4), const(2), const(-1))), apart()),
    # matrix norms: of a 2-d input, or over two axes
    Spec("norm_matrix", norm_matrix, tuple(((3, 4), const(o)) for o in
                                           (1, -1, np.inf, -np.inf, 2, -2, "nuc", "fro", None)),
         nonzero),
    Spec("norm_matrix_axes", norm_matrix_axes, tuple(((3, 2, 4), const(o)) for o in
                                                     (1, -np.inf, 2, "nuc", "fro")), nonzero),
    Spec("norm_one_axis", norm_one_axis, one((3, 4),), nonzero),
    # shapes
    Spec("reshape", reshape_, one((12,), (2, 6))),
    Spec("reshape_flat", reshape_flat, one((3, 4), ())),
    Spec("reshape_method", reshape_method, one((6,), (3, 2))),
    Spec("reshape_method_tuple", reshape_method_tuple, one((6,), (2, 3))),
    Spec("reshape_minus1", reshape_minus1, one((2, 3), (2, 3, 4))),
    Spec("reshape_var", reshape_var, (((3, 4), const((2, 6))), ((3, 4), const(-1)))),
    Spec("reshape_fortran", reshape_fortran, one((6,), (3, 2))),
    Spec("np.reshape_fortran", np_reshape_fortran, one((3, 4), (2, 6))),
    Spec("ravel", ravel_, one((3, 4), ())),
    Spec("ravel_method", ravel_method, one((2, 3, 4),)),
    Spec("ravel_fortran", ravel_fortran, one((3, 4),)),
    Spec("flatten", flatten_, one((3, 4),)),
    Spec("flatten_fortran", flatten_fortran, one((3, 4),)),
    Spec("transpose", transpose_, one((5,), (3, 4), (2, 3, 4))),
    Spec("transpose_axes", transpose_axes, one(*CUBE)),
    Spec("transpose_axes_kw", transpose_axes_kw, one(*CUBE)),
    Spec("transpose_negative", transpose_negative, one(*CUBE)),
    Spec("transpose_var", transpose_var, (((2, 3, 4), const((2, 0, 1))), ((3, 4), const(None)),
                                          ((2, 3, 4), const((0, -1, 1))))),
    Spec(".T", T_, one((3, 4), (2, 3, 4))),
    Spec("transpose_method", transpose_method, one((3, 4),)),
    Spec("transpose_method_args", transpose_method_args, one(*CUBE)),
    Spec("transpose_method_tuple", transpose_method_tuple, one(*CUBE)),
    Spec("swapaxes", swapaxes_, one(*CUBE)),
    Spec("swapaxes_method", swapaxes_method, one((3, 4), (2, 3, 4))),
    Spec("swapaxes_var", swapaxes_var, (((2, 3, 4), const(0), const(-1)),)),
    Spec("moveaxis", moveaxis_, one(*CUBE)),
    Spec("moveaxis_many", moveaxis_many, one(*CUBE)),
    Spec("expand_dims", expand_dims_, one((), (3,), (3, 4))),
    Spec("expand_dims_neg", expand_dims_neg, one((3,), (3, 4))),
    Spec("expand_dims_many", expand_dims_many, one((3,), (3, 4))),
    Spec("expand_dims_var", expand_dims_var, (((3, 4), const(1)), ((3,), const((0, -1))))),
    Spec("squeeze", squeeze_, one((1, 3, 1), (1,))),
    Spec("squeeze_axis", squeeze_axis, one((1, 3), (1, 2, 1))),
    Spec("squeeze_method", squeeze_method, one((3, 1),)),
    Spec("broadcast_to", broadcast_to_, one(F, (), (4,), (3, 1), (1, 4), (3, 4))),
    Spec("broadcast_to_3d", broadcast_to_3d, one((4,), (1, 4), (3, 1), (2, 1, 1))),
    # joins, and tuples of arrays
    Spec("concatenate", concatenate_, (((2, 3), (1, 3)), ((3,), (2,)))),
    Spec("concatenate_axis1", concatenate_axis1, (((2, 3), (2, 2)), ((2, 1, 2), (2, 3, 2)))),
    Spec("concatenate_none", concatenate_none, (((2, 3), (4,)), ((3,), (2, 2)))),
    Spec("concatenate_three", concatenate_three, (((2, 3), (1, 3)),)),
    Spec("concatenate_var", concatenate_var, (((2, 3), (2, 2), const(1)),
                                              ((2, 3), (4,), const(None)),
                                              ((2, 3), (1, 3), const(-2)))),
    Spec("stack", stack_, (((3,), (3,)), ((2, 3), (2, 3)), (F, F), ((), ()))),
    Spec("stack_axis1", stack_axis1, (((3,), (3,)), ((2, 3), (2, 3)))),
    Spec("stack_last", stack_last, (((2, 3), (2, 3)),)),
    Spec("stack_var", stack_var, (((2, 3), (2, 3), const(2)), ((3,), (3,), const(-1)))),
    Spec("hstack", hstack_, (((3,), (2,)), ((2, 3), (2, 1)), ((), (3,)), (F, F))),
    Spec("vstack", vstack_, (((3,), (3,)), ((2, 3), (1, 3)), ((3,), (2, 3)), (F, F))),
    Spec("unpack_tuple", unpack_tuple, (((3,), (3,)), ((3,), (2,)), (F, (2, 2)))),
    Spec("tuple_item", tuple_item, (((3,), (3,)), ((3,), (2,)))),
    # one tuple, two adjoint contributions: they add piece by piece
    Spec("concat_and_stack", concat_and_stack, (((3,), (3,)), ((2, 3), (2, 3)))),
    Spec("concat_twice", concat_twice, (((3,), (2,)), ((2, 2), (3,)))),
    # copies, conversions and constructors
    Spec("identity", identity_, one(*UNARY)),
    Spec("assigned", assigned, one(*UNARY)),
    Spec("copy", copy_, one(*UNARY)),
    Spec("copy_method", copy_method, one(*UNARY[1:])),
    Spec("array", array_, one(*UNARY)),
    Spec("asarray", asarray_, one(*UNARY, f32(3))),
    Spec("array_dtype", array_dtype, one(F, (3,), f32(3))),
    Spec("asarray_dtype", asarray_dtype, one(F, (3, 4))),
    Spec("array_int", array_int, one((5,),), apart()),
    Spec("array_ndmin", array_ndmin, one(F, (), (3,))),
    Spec("array_of_list", array_of_list, ((F, F), ((3,), (3,)), ((), ()))),
    Spec("astype", astype_, one((), (3, 4), f32(3, 4))),
    Spec("np.astype", np_astype, one((), (3, 4), f32(2, 3))),
    Spec("astype_up", astype_up, one(f32(), f32(3, 4))),
    Spec("astype_int", astype_int, one((5,), (3, 4)), apart()),
    Spec("full", full_, one(F, (), (3,), (2, 3))),
    Spec("full_int_shape", full_int_shape, one(F, ())),
    Spec("full_int", full_int, one(F, ()), between(1.2, 1.8)),
    Spec("full_like", full_like_, (((3, 4), F), ((3, 4), ()), ((3, 4), (4,)), ((2,), (2,)))),
    Spec("full_like_int", full_like_int, one(F, (), (3,)), between(1.2, 1.8)),
    Spec("full_dtype", full_dtype, one(f32(), f32(3))),
    Spec("zeros_ones_like", zeros_ones_like, one(*UNARY)),
    Spec("float", to_float, one(F, (), S)),
    Spec("np.float64", np_float64, one(F, (), S, (3,))),
    Spec("np.float32", np_float32, one(f32(), f32(3))),
    Spec("float_of_sum", float_of_sum, one(F, (3,), (2, 2))),
    Spec("stop_gradient", stop_gradient_, PAIRS[:3]),
    # grad(f)(x) inside: its derivative is a Hessian-vector product; a second
    # derivative would be a third one of f, which sourcegrad does not take
    Spec("nested_grad", nested_grad_, one((4,), (2, 3)), kink=True),
    # indexing reads
    Spec("index_int", index_int, one((5,), (3, 4))),
    Spec("index_negative", index_neg, one((5,), (3, 4), f32(3, 4))),
    Spec("index_two_ints", index_two, one((3, 4), (4, 5, 2))),
    Spec("index_empty", index_empty, one((),)),
    Spec("index_ellipsis_only", index_ellipsis_only, one((), (3,))),
    Spec("index_var", index_var, (((5,), const(1)), ((5,), const(-2)), ((3, 4), const((0, -1))),
                                  ((3, 4), const(np.s_[1:, ::2])), ((5,), const(IDX)),
                                  ((5,), const(MASK)))),
    Spec("index_argmax", index_argmax, one((5,),), apart()),
    Spec("slice", slice_, one((5,), (5, 2))),
    Spec("slice_step", slice_step, one((5,), (5, 2))),
    Spec("slice_reverse", slice_reverse, one((5,), (3, 4))),
    Spec("slice_2d", slice_2d, one((3, 4), (3, 4, 2))),
    Spec("slice_negative", slice_negative, one((3, 4), (4, 5))),
    Spec("index_ellipsis", index_ellipsis, one((3,), (3, 4), (2, 3, 4))),
    Spec("index_none", index_none, one((3,), (3, 4))),
    Spec("index_none_last", index_none_last, one((3,), (3, 4))),
    Spec("index_newaxis", index_newaxis, one((3,),)),
    Spec("index_array_repeats", index_array, one((3,), (4, 2))),
    Spec("index_negative_array", index_negative_array, one((3,), (3, 2))),
    Spec("index_array_2d", index_array_2d, one((3,), (3, 4))),
    Spec("index_list", index_list, one((3,), (3, 4))),
    Spec("index_columns", index_columns, one((2, 3), (2, 3, 2))),
    Spec("index_pairs", index_pairs, one((3, 4), (3, 4, 2))),
    Spec("index_mask", index_mask, one((5,), (5, 2))),
    Spec("index_mask_computed", index_mask_computed, one((5,), (3, 4)), apart()),
    Spec("index_labels", pick, (((3, 4), const(LABELS)), (f32(3, 4), const(LABELS)))),
]
