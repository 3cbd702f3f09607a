"""Python operators and the moves of the normal form: copies, tuples, indexing.

``z = x + y`` and ``np.add(x, y)`` share a rule; every binary rule undoes
broadcasting with ``unbroadcast``, which costs nothing when shapes match.
"""

import builtins
import math
import operator

import numpy as np

from ..runtime import matmul_left, matmul_right, power_log, unbroadcast, unindex
from .registry import d, reverse


def identity(y):
    """The primitive of a copy ``y = x`` in the normal form."""
    return y


def pack(*xs):
    """The primitive of a tuple or list literal ``t = (a, b)``."""
    return xs


@reverse(identity)
def copy(y, x):
    d[x] = d[y]


@reverse(pack)
def pack_(y, xs):
    d[xs] = d[y]


@reverse(operator.pos)
def pos(y, x):
    d[x] = d[y]


@reverse(operator.neg, np.negative)
def neg(y, x):
    d[x] = -d[y]


@reverse(operator.add, np.add)
def add(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(d[z], y)


@reverse(operator.sub, np.subtract)
def sub(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z], y)


@reverse(operator.mul, np.multiply)
def mul(z, x, y):
    d[x] = unbroadcast(d[z] * y, x)
    d[y] = unbroadcast(x * d[z], y)


@reverse(operator.truediv, np.divide, np.true_divide)
def truediv(z, x, y):
    d[x] = unbroadcast(d[z] / y, x)
    d[y] = unbroadcast(-d[z] * z / y, y)


@reverse(operator.pow, np.power, builtins.pow, math.pow)
def pow(z, x, y):
    if y == 2:
        d[x] = unbroadcast(2 * x * d[z], x)
    else:
        d[x] = unbroadcast(d[z] * y * x ** (y - 1), x)
    d[y] = unbroadcast(d[z] * power_log(z, x), y)


@reverse(operator.matmul, np.matmul)
def matmul(z, x, y):
    d[x] = matmul_left(d[z], x, y)
    d[y] = matmul_right(d[z], x, y)


@reverse(operator.getitem)
def getitem(y, x, index):
    d[x] = unindex(d[y], x, index)

