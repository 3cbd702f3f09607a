"""Elementwise functions: ufuncs of one or two arguments, ``where``, ``clip``;
and their ``math`` (and builtin) counterparts for Python numbers."""

import builtins
import math

import numpy as np

from ..runtime import above, below, between, either, unbroadcast
from .registry import d, reverse


@reverse(np.exp, math.exp)
def exp(y, x):
    d[x] = d[y] * y


@reverse(np.expm1, math.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1.0)


@reverse(np.log, math.log)
def log(y, x):
    d[x] = d[y] / x


@reverse(np.log1p, math.log1p)
def log1p(y, x):
    d[x] = d[y] / (x + 1.0)


@reverse(np.log2, math.log2)
def log2(y, x):
    d[x] = d[y] / (x * math.log(2.0))


@reverse(np.log10, math.log10)
def log10(y, x):
    d[x] = d[y] / (x * math.log(10.0))


@reverse(np.sqrt, math.sqrt)
def sqrt(y, x):
    d[x] = d[y] * 0.5 / y


@reverse(np.cbrt, math.cbrt)
def cbrt(y, x):
    d[x] = d[y] / (3.0 * y * y)


@reverse(np.square)
def square(y, x):
    d[x] = 2.0 * x * d[y]


@reverse(np.reciprocal)
def reciprocal(y, x):
    d[x] = -d[y] * y * y


@reverse(np.abs, np.absolute, abs, np.fabs, math.fabs)
def absolute(y, x):
    d[x] = d[y] * np.sign(x)


@reverse(np.sin, math.sin)
def sin(y, x):
    d[x] = d[y] * np.cos(x)


@reverse(np.cos, math.cos)
def cos(y, x):
    d[x] = -d[y] * np.sin(x)


@reverse(np.tan, math.tan)
def tan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@reverse(np.arcsin, math.asin)
def arcsin(y, x):
    d[x] = d[y] / np.sqrt(1.0 - x * x)


@reverse(np.arccos, math.acos)
def arccos(y, x):
    d[x] = -d[y] / np.sqrt(1.0 - x * x)


@reverse(np.arctan, math.atan)
def arctan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@reverse(np.sinh, math.sinh)
def sinh(y, x):
    d[x] = d[y] * np.cosh(x)


@reverse(np.cosh, math.cosh)
def cosh(y, x):
    d[x] = d[y] * np.sinh(x)


@reverse(np.tanh, math.tanh)
def tanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@reverse(np.arcsinh, math.asinh)
def arcsinh(y, x):
    d[x] = d[y] / np.sqrt(x * x + 1.0)


@reverse(np.arctanh, math.atanh)
def arctanh(y, x):
    d[x] = d[y] / (1.0 - x * x)


@reverse(np.arctan2, math.atan2)
def arctan2(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x2 / (x1 * x1 + x2 * x2), x1)
    d[x2] = unbroadcast(-d[z] * x1 / (x1 * x1 + x2 * x2), x2)


@reverse(np.hypot, math.hypot)
def hypot(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x1 / z, x1)
    d[x2] = unbroadcast(d[z] * x2 / z, x2)


@reverse(np.maximum, np.fmax, builtins.max)
def maximum(z, x1, x2):
    d[x1] = unbroadcast(d[z] * (x1 > x2) + 0.5 * d[z] * (x1 == x2), x1)
    d[x2] = unbroadcast(d[z] * (x2 > x1) + 0.5 * d[z] * (x1 == x2), x2)


@reverse(np.minimum, np.fmin, builtins.min)
def minimum(z, x1, x2):
    d[x1] = unbroadcast(d[z] * (x1 < x2) + 0.5 * d[z] * (x1 == x2), x1)
    d[x2] = unbroadcast(d[z] * (x2 < x1) + 0.5 * d[z] * (x1 == x2), x2)


@reverse(np.where)
def where(y, condition, x, y_):
    d[x] = unbroadcast(np.where(condition, d[y], 0.0), x)
    d[y_] = unbroadcast(np.where(condition, 0.0, d[y]), y_)


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
