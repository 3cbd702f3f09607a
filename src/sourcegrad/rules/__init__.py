"""Derivative rules, one module per family.

Importing this package registers every rule.  ``lookup(primitive)`` gives a
primitive's reverse template, ``ZERO`` for a function whose derivative is
zero, or ``None`` for a function with no rule.
"""

from . import elementwise, helpers, linalg, nondiff, operators, reductions, shape  # noqa: F401
from . import batched  # noqa: F401,E402 - after the forward rules it builds on
from .operators import identity, pack
from .registry import (FORWARD, REVERSE, ZERO, Template, d, forward, is_d, lookup, reverse,
                       zero_derivative)

__all__ = [
    "FORWARD", "REVERSE", "ZERO", "forward", "Template", "d", "identity", "is_d", "lookup", "pack",
    "reverse", "zero_derivative",
]
