"""Derivative rules, one module per family.

Importing this package registers every rule.  ``lookup(primitive)`` gives a
primitive's reverse template, ``ZERO`` for a function whose derivative is
zero, or ``None`` for a function with no rule.
"""

from . import elementwise, linalg, nondiff, operators, reductions, shape  # noqa: F401
from .operators import identity, pack
from .registry import REVERSE, ZERO, Template, d, is_d, lookup, reverse, zero_derivative

__all__ = [
    "REVERSE", "ZERO", "Template", "d", "identity", "is_d", "lookup", "pack",
    "reverse", "zero_derivative",
]
