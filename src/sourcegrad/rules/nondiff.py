"""Functions whose derivative is zero wherever it exists.

Their results are constants to sourcegrad: no adjoint flows through them.
"""

import math
import operator

import numpy as np

from ..runtime import stop_gradient
from .registry import zero_derivative

zero_derivative(
    # rounding and signs
    np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix, np.sign,
    math.floor, math.ceil, round, int, bool,
    # positions and counts
    np.argmax, np.argmin, np.argsort, np.nonzero,
    np.flatnonzero, np.count_nonzero, np.searchsorted,
    # shapes and constructors from shapes
    # (not np.arange, np.linspace: their values move with float bounds)
    np.shape, np.ndim, np.size, len, np.zeros, np.ones,
    np.empty, np.eye, np.identity, np.zeros_like, np.ones_like, np.empty_like,
    np.result_type, range,
    # comparisons and logic
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
    operator.not_, operator.and_, operator.or_, operator.xor, operator.invert,
    operator.floordiv, np.floor_divide,
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.isnan, np.isinf, np.isfinite, np.isclose, np.allclose, np.all, np.any,
    np.array_equal, isinstance,
    # explicit
    stop_gradient,
)
