"""Elementwise functions: ufuncs of one or two arguments, ``where``, ``clip``;
and their ``math`` (and builtin) counterparts for Python numbers.

Each forward rule follows its reverse rule.  A forward term has the output's
shape wherever it multiplies the tangent by something of that shape; where
it may have an operand's shape only, ``rebroadcast`` gives it the output's.
"""

import builtins
import math

import numpy as np

from ..runtime import above, below, between, either, rebroadcast, unbroadcast
from .registry import d, forward, reverse


@reverse(np.exp, math.exp)
def exp(y, x):
    d[x] = d[y] * y


@forward(np.exp, math.exp)
def exp_forward(y, x):
    d[y] = d[x] * y


@reverse(np.expm1, math.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1.0)


@forward(np.expm1, math.expm1)
def expm1_forward(y, x):
    d[y] = d[x] * (y + 1.0)


@reverse(np.log, math.log)
def log(y, x):
    d[x] = d[y] / x


@forward(np.log, math.log)
def log_forward(y, x):
    d[y] = d[x] / x


@reverse(np.log1p, math.log1p)
def log1p(y, x):
    d[x] = d[y] / (x + 1.0)


@forward(np.log1p, math.log1p)
def log1p_forward(y, x):
    d[y] = d[x] / (x + 1.0)


@reverse(np.log2, math.log2)
def log2(y, x):
    d[x] = d[y] / (x * math.log(2.0))


@forward(np.log2, math.log2)
def log2_forward(y, x):
    d[y] = d[x] / (x * math.log(2.0))


@reverse(np.log10, math.log10)
def log10(y, x):
    d[x] = d[y] / (x * math.log(10.0))


@forward(np.log10, math.log10)
def log10_forward(y, x):
    d[y] = d[x] / (x * math.log(10.0))


@reverse(np.sqrt, math.sqrt)
def sqrt(y, x):
    d[x] = d[y] * 0.5 / y


@forward(np.sqrt, math.sqrt)
def sqrt_forward(y, x):
    d[y] = d[x] * 0.5 / y


@reverse(np.cbrt, math.cbrt)
def cbrt(y, x):
    d[x] = d[y] / (3.0 * y * y)


@forward(np.cbrt, math.cbrt)
def cbrt_forward(y, x):
    d[y] = d[x] / (3.0 * y * y)


@reverse(np.square)
def square(y, x):
    d[x] = 2.0 * x * d[y]


@forward(np.square)
def square_forward(y, x):
    d[y] = 2.0 * x * d[x]


@reverse(np.reciprocal)
def reciprocal(y, x):
    d[x] = -d[y] * y * y


@forward(np.reciprocal)
def reciprocal_forward(y, x):
    d[y] = -d[x] * y * y


@reverse(np.abs, np.absolute, abs, np.fabs, math.fabs)
def absolute(y, x):
    d[x] = d[y] * np.sign(x)


@forward(np.abs, np.absolute, abs, np.fabs, math.fabs)
def absolute_forward(y, x):
    d[y] = d[x] * np.sign(x)


@reverse(np.sin, math.sin)
def sin(y, x):
    d[x] = d[y] * np.cos(x)


@forward(np.sin, math.sin)
def sin_forward(y, x):
    d[y] = d[x] * np.cos(x)


@reverse(np.cos, math.cos)
def cos(y, x):
    d[x] = -d[y] * np.sin(x)


@forward(np.cos, math.cos)
def cos_forward(y, x):
    d[y] = -d[x] * np.sin(x)


@reverse(np.tan, math.tan)
def tan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@forward(np.tan, math.tan)
def tan_forward(y, x):
    d[y] = d[x] * (1.0 + y * y)


@reverse(np.arcsin, math.asin)
def arcsin(y, x):
    d[x] = d[y] / np.sqrt(1.0 - x * x)


@forward(np.arcsin, math.asin)
def arcsin_forward(y, x):
    d[y] = d[x] / np.sqrt(1.0 - x * x)


@reverse(np.arccos, math.acos)
def arccos(y, x):
    d[x] = -d[y] / np.sqrt(1.0 - x * x)


@forward(np.arccos, math.acos)
def arccos_forward(y, x):
    d[y] = -d[x] / np.sqrt(1.0 - x * x)


@reverse(np.arctan, math.atan)
def arctan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@forward(np.arctan, math.atan)
def arctan_forward(y, x):
    d[y] = d[x] / (1.0 + x * x)


@reverse(np.sinh, math.sinh)
def sinh(y, x):
    d[x] = d[y] * np.cosh(x)


@forward(np.sinh, math.sinh)
def sinh_forward(y, x):
    d[y] = d[x] * np.cosh(x)


@reverse(np.cosh, math.cosh)
def cosh(y, x):
    d[x] = d[y] * np.sinh(x)


@forward(np.cosh, math.cosh)
def cosh_forward(y, x):
    d[y] = d[x] * np.sinh(x)


@reverse(np.tanh, math.tanh)
def tanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@forward(np.tanh, math.tanh)
def tanh_forward(y, x):
    d[y] = d[x] * (1.0 - y * y)


@reverse(np.arcsinh, math.asinh)
def arcsinh(y, x):
    d[x] = d[y] / np.sqrt(x * x + 1.0)


@forward(np.arcsinh, math.asinh)
def arcsinh_forward(y, x):
    d[y] = d[x] / np.sqrt(x * x + 1.0)


@reverse(np.arctanh, math.atanh)
def arctanh(y, x):
    d[x] = d[y] / (1.0 - x * x)


@forward(np.arctanh, math.atanh)
def arctanh_forward(y, x):
    d[y] = d[x] / (1.0 - x * x)


@reverse(np.arctan2, math.atan2)
def arctan2(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x2 / (x1 * x1 + x2 * x2), x1)
    d[x2] = unbroadcast(-d[z] * x1 / (x1 * x1 + x2 * x2), x2)


@forward(np.arctan2, math.atan2)
def arctan2_forward(z, x1, x2):
    d[z] = d[x1] * x2 / (x1 * x1 + x2 * x2)
    d[z] = -d[x2] * x1 / (x1 * x1 + x2 * x2)


@reverse(np.hypot, math.hypot)
def hypot(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x1 / z, x1)
    d[x2] = unbroadcast(d[z] * x2 / z, x2)


@forward(np.hypot, math.hypot)
def hypot_forward(z, x1, x2):
    d[z] = d[x1] * x1 / z
    d[z] = d[x2] * x2 / z


@reverse(np.maximum, np.fmax, builtins.max)
def maximum(z, x1, x2):
    d[x1] = unbroadcast(d[z] * (x1 > x2) + 0.5 * d[z] * (x1 == x2), x1)
    d[x2] = unbroadcast(d[z] * (x2 > x1) + 0.5 * d[z] * (x1 == x2), x2)


@forward(np.maximum, np.fmax, builtins.max)
def maximum_forward(z, x1, x2):
    d[z] = d[x1] * (x1 > x2) + 0.5 * d[x1] * (x1 == x2)
    d[z] = d[x2] * (x2 > x1) + 0.5 * d[x2] * (x1 == x2)


@reverse(np.minimum, np.fmin, builtins.min)
def minimum(z, x1, x2):
    d[x1] = unbroadcast(d[z] * (x1 < x2) + 0.5 * d[z] * (x1 == x2), x1)
    d[x2] = unbroadcast(d[z] * (x2 < x1) + 0.5 * d[z] * (x1 == x2), x2)


@forward(np.minimum, np.fmin, builtins.min)
def minimum_forward(z, x1, x2):
    d[z] = d[x1] * (x1 < x2) + 0.5 * d[x1] * (x1 == x2)
    d[z] = d[x2] * (x2 < x1) + 0.5 * d[x2] * (x1 == x2)


@reverse(np.where)
def where(y, condition, x, y_):
    d[x] = unbroadcast(np.where(condition, d[y], 0.0), x)
    d[y_] = unbroadcast(np.where(condition, 0.0, d[y]), y_)


@forward(np.where)
def where_forward(y, condition, x, y_):
    d[y] = rebroadcast(np.where(condition, d[x], 0.0), y)
    d[y] = rebroadcast(np.where(condition, 0.0, d[y_]), y)


@reverse(np.clip)
def clip(y, a, a_min=None, a_max=None, *, min=None, max=None):
    if min is None and max is None:
        d[a] = unbroadcast(d[y] * between(a, a_min, a_max), a)
        d[a_min] = unbroadcast(d[y] * below(a, a_min, a_max), a_min)
        d[a_max] = unbroadcast(d[y] * above(a, a_min, a_max), a_max)
    else:  # NumPy 2 also names the bounds min= and max=
        d[a] = unbroadcast(d[y] * between(a, either(a_min, min), either(a_max, max)), a)
        d[a_min] = unbroadcast(d[y] * below(a, a_min, either(a_max, max)), a_min)
        d[min] = unbroadcast(d[y] * below(a, min, either(a_max, max)), min)
        d[a_max] = unbroadcast(d[y] * above(a, either(a_min, min), a_max), a_max)
        d[max] = unbroadcast(d[y] * above(a, either(a_min, min), max), max)


@forward(np.clip)
def clip_forward(y, a, a_min=None, a_max=None, *, min=None, max=None):
    # each mask has the broadcast shape of a and the bounds: the output's
    if min is None and max is None:
        d[y] = d[a] * between(a, a_min, a_max)
        d[y] = d[a_min] * below(a, a_min, a_max)
        d[y] = d[a_max] * above(a, a_min, a_max)
    else:  # NumPy 2 also names the bounds min= and max=
        d[y] = d[a] * between(a, either(a_min, min), either(a_max, max))
        d[y] = d[a_min] * below(a, a_min, either(a_max, max))
        d[y] = d[min] * below(a, min, either(a_max, max))
        d[y] = d[a_max] * above(a, either(a_min, min), a_max)
        d[y] = d[max] * above(a, either(a_min, min), max)
