"""What ``grad``'s code is specialized for: ``Signature.of(args)``.

Kept apart from the compiler, so that the API reads a call's signature
without importing it.

>>> import numpy as np
>>> Signature.of((np.ones((2, 1)), 3.0, [1.0])).params
(('ndarray', 2, (1,)), ('float',), None)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Signature:
    """What the code is specialized for: one entry per positional parameter,
    ``("ndarray", ndim, axes of length 1)``, ``(type name,)`` for a Python
    or NumPy number (0-d), or ``None`` (nothing assumed)."""

    params: tuple

    @staticmethod
    def of(args) -> "Signature":
        return Signature(tuple(_describe(a) for a in args))


_NUMBERS = {float: "float", int: "int", np.float64: "float64", np.float32: "float32"}


def _describe(x):
    kind = type(x)
    if kind is np.ndarray:
        return ("ndarray", x.ndim, tuple(i for i, n in enumerate(x.shape) if n == 1))
    if kind in _NUMBERS:
        return (_NUMBERS[kind],)
    return None
