"""Products: ``dot``, ``outer``, ``inner`` (``matmul`` is with the operators)."""

import numpy as np

from ..runtime import dot_left, dot_right, inner_left, inner_right
from .registry import d, reverse


@reverse(np.dot)
def dot(z, a, b):
    d[a] = dot_left(d[z], a, b)
    d[b] = dot_right(d[z], a, b)


@reverse(np.outer)
def outer(z, a, b):
    d[a] = np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] = np.reshape(np.ravel(a) @ d[z], np.shape(b))


@reverse(np.inner)
def inner(z, a, b):
    d[a] = inner_left(d[z], a, b)
    d[b] = inner_right(d[z], a, b)
