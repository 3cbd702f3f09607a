"""Python operators and the moves of the normal form: copies, tuples, indexing.

``z = x + y`` and ``np.add(x, y)`` share a rule; every binary reverse rule
undoes broadcasting with ``unbroadcast``, and a forward rule whose term has
an operand's shape broadcasts it with ``rebroadcast``; both cost nothing when
shapes match.  Each forward rule sits after its reverse rule.
"""

import builtins
import math
import operator

import numpy as np

from ..runtime import matmul_left, matmul_right, power_log, rebroadcast, unbroadcast, unindex
from .registry import d, forward, ndim, reverse


def identity(y):
    """The primitive of a copy ``y = x`` in the normal form."""
    return y


def pack(*xs):
    """The primitive of a tuple or list literal ``t = (a, b)``."""
    return xs


@reverse(identity)
def copy(y, x):
    d[x] = d[y]


@forward(identity)
def copy_forward(y, x):
    d[y] = d[x]


@reverse(pack)
def pack_(y, xs):
    d[xs] = d[y]


@forward(pack)
def pack_forward(y, xs):
    d[y] = d[xs]


@reverse(operator.pos)
def pos(y, x):
    d[x] = d[y]


@forward(operator.pos)
def pos_forward(y, x):
    d[y] = d[x]


@reverse(operator.neg, np.negative)
def neg(y, x):
    d[x] = -d[y]


@forward(operator.neg, np.negative)
def neg_forward(y, x):
    d[y] = -d[x]


@reverse(operator.add, np.add)
def add(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(d[z], y)


@forward(operator.add, np.add)
def add_forward(z, x, y):
    d[z] = rebroadcast(d[x], z)
    d[z] = rebroadcast(d[y], z)


@reverse(operator.sub, np.subtract)
def sub(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z], y)


@forward(operator.sub, np.subtract)
def sub_forward(z, x, y):
    d[z] = rebroadcast(d[x], z)
    d[z] = rebroadcast(-d[y], z)


@reverse(operator.mul, np.multiply)
def mul(z, x, y):
    d[x] = unbroadcast(d[z] * y, x)
    d[y] = unbroadcast(x * d[z], y)


@forward(operator.mul, np.multiply)
def mul_forward(z, x, y):
    d[z] = d[x] * y
    d[z] = x * d[y]


@reverse(operator.truediv, np.divide, np.true_divide)
def truediv(z, x, y):
    d[x] = unbroadcast(d[z] / y, x)
    d[y] = unbroadcast(-d[z] * z / y, y)


@forward(operator.truediv, np.divide, np.true_divide)
def truediv_forward(z, x, y):
    d[z] = rebroadcast(d[x] / y, z)
    d[z] = rebroadcast(-d[y] * z / y, z)


@reverse(operator.mod, np.mod, np.remainder)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.floor_divide(x, y), y)


@forward(operator.mod, np.mod, np.remainder)
def mod_forward(z, x, y):
    d[z] = rebroadcast(d[x], z)
    d[z] = rebroadcast(-d[y] * np.floor_divide(x, y), z)


@reverse(operator.pow, np.power, builtins.pow, math.pow)
def pow(z, x, y):
    if y == 2:
        d[x] = unbroadcast(2 * x * d[z], x)
    else:
        d[x] = unbroadcast(d[z] * y * x ** (y - 1), x)
    d[y] = unbroadcast(d[z] * power_log(z, x), y)


@forward(operator.pow, np.power, builtins.pow, math.pow)
def pow_forward(z, x, y):
    if y == 2:
        d[z] = 2 * x * d[x]
    else:
        d[z] = rebroadcast(d[x] * y * x ** (y - 1), z)
    d[z] = rebroadcast(d[y] * power_log(z, x), z)


@reverse(operator.matmul, np.matmul)
def matmul(z, x, y):
    if ndim(x) == 2 and ndim(y) == 1:  # known ranks: the product's own adjoints
        d[x] = d[z][:, None] * y
        d[y] = d[z] @ x
    elif ndim(x) == 2 and ndim(y) == 2:
        d[x] = d[z] @ y.T
        d[y] = x.T @ d[z]
    elif ndim(x) == 1 and ndim(y) == 2:
        d[x] = y @ d[z]
        d[y] = x[:, None] * d[z]
    elif ndim(x) == 1 and ndim(y) == 1:
        d[x] = d[z] * y
        d[y] = d[z] * x
    else:
        d[x] = matmul_left(d[z], x, y)
        d[y] = matmul_right(d[z], x, y)


@forward(operator.matmul, np.matmul)
def matmul_forward(z, x, y):
    d[z] = d[x] @ y
    d[z] = x @ d[y]


@reverse(operator.getitem)
def getitem(y, x, index):
    d[x] = unindex(d[y], x, index)


@forward(operator.getitem)
def getitem_forward(y, x, index):
    d[y] = d[x][index]
