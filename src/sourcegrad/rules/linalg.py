"""Products: ``dot``, ``outer``, ``inner`` (``matmul`` is with the operators).

Each is bilinear: its forward rule is the product with one factor replaced
by its tangent, once per factor, right after its reverse rule.
"""

import numpy as np

from ..runtime import dot_left, dot_right, inner_left, inner_right
from .registry import d, forward, reverse


@reverse(np.dot)
def dot(z, a, b):
    d[a] = dot_left(d[z], a, b)
    d[b] = dot_right(d[z], a, b)


@forward(np.dot)
def dot_forward(z, a, b):
    d[z] = np.dot(d[a], b)
    d[z] = np.dot(a, d[b])


@reverse(np.outer)
def outer(z, a, b):
    d[a] = np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] = np.reshape(np.ravel(a) @ d[z], np.shape(b))


@forward(np.outer)
def outer_forward(z, a, b):
    d[z] = np.outer(d[a], b)
    d[z] = np.outer(a, d[b])


@reverse(np.inner)
def inner(z, a, b):
    d[a] = inner_left(d[z], a, b)
    d[b] = inner_right(d[z], a, b)


@forward(np.inner)
def inner_forward(z, a, b):
    d[z] = np.inner(d[a], b)
    d[z] = np.inner(a, d[b])
