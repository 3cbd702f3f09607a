"""Which names provably hold floating point (or complex) values: an analysis.

``inexact_names(fn)`` returns the names of the normal-form function ``fn``
that hold an inexact dtype whatever the inputs: the result of a division, of
``np.exp`` or ``math.sin`` (whose every loop returns floats), of arithmetic
with such a value or a float constant, an item of such an array, a reduction
of one.  A parameter is unknown (it may hold integers or booleans), and so is
a name with any other assignment.  Under NumPy 2's promotion rules
``1.0 * e`` has the dtype of an inexact ``e``, so the reverse pass may write
``e`` for it (``optimize.fold_unit_seed``).

>>> import gast
>>> fn = gast.parse('''
... def f(x, m):
...     s = np.sin(x)
...     t = s * m
...     u = x * m
...     v = u / 2
...     w = u[0]
...     for i in range(3):
...         x = np.exp(x)
...     return w
... ''').body[0]
>>> sorted(inexact_names(fn))  # not x: a parameter, whatever the loop assigns
['s', 't', 'v']
"""

from __future__ import annotations

import gast
import numpy as np

from .names import dotted

#: ``math`` functions that return a float.
_MATH_FLOATS = frozenset({
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin", "cos", "tan",
    "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "hypot", "pow", "fabs", "erf", "erfc", "gamma", "lgamma"})
#: NumPy functions whose result is inexact if their first argument is.
_KEEPS_FIRST = frozenset({
    "sum", "max", "min", "amax", "amin", "prod", "cumsum", "transpose", "reshape", "squeeze",
    "ravel", "expand_dims", "copy", "broadcast_to", "moveaxis", "swapaxes", "negative"})
#: NumPy functions whose result is inexact if any argument is.
_PROMOTES = frozenset({
    "dot", "matmul", "outer", "inner", "where", "add", "subtract", "multiply", "maximum",
    "minimum", "power"})
#: NumPy functions whose result is always inexact.
_ALWAYS = frozenset({"mean", "var", "std", "average"})
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Pow, gast.Mod, gast.FloorDiv, gast.MatMult)


def inexact_names(fn: gast.FunctionDef) -> frozenset:
    """The names of ``fn`` that provably hold floating point or complex values."""
    stores = {}
    for node in gast.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stores.setdefault(node.id, [])
    for node in gast.walk(fn):
        if isinstance(node, gast.Assign):
            for target in node.targets:
                for name in gast.walk(target):
                    if isinstance(name, gast.Name) and isinstance(name.ctx, gast.Store):
                        stores[name.id].append(node.value if target is name else None)
        elif isinstance(node, (gast.For, gast.AugAssign)):
            for name in gast.walk(node.target):
                if isinstance(name, gast.Name):
                    stores[name.id].append(None)
    args = fn.args
    params = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    found = {n for n, values in stores.items() if values and n not in params}
    while True:  # the greatest set whose every assignment is inexact given the set
        out = {n for n in found if not all(_inexact(v, found) for v in stores[n])}
        if not out:
            return frozenset(found)
        found -= out


def _inexact(node, names) -> bool:
    if node is None:
        return False
    if isinstance(node, gast.Constant):
        return type(node.value) in (float, complex)
    if isinstance(node, gast.Name):
        return node.id in names
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        return _inexact(node.operand, names)
    if isinstance(node, gast.BinOp):
        return isinstance(node.op, gast.Div) or isinstance(node.op, _ARITHMETIC) and (
            _inexact(node.left, names) or _inexact(node.right, names))
    if isinstance(node, gast.Subscript):
        return _inexact(node.value, names)
    if isinstance(node, gast.Call):
        return _call(node, names)
    return False


def _call(node, names) -> bool:
    path = dotted(node.func) or []
    if len(path) != 2 or node.keywords and path[1] not in _KEEPS_FIRST | _ALWAYS:
        return False
    module, attr = path
    if module == "math":
        return attr in _MATH_FLOATS
    if module != "np":
        return False
    ufunc = getattr(np, attr, None)
    if isinstance(ufunc, np.ufunc) and all(
            t.split("->")[1] in "efdgFDG" for t in ufunc.types if "O" not in t):
        return True
    if attr in _ALWAYS:
        return True
    if attr in _KEEPS_FIRST:
        return bool(node.args) and _inexact(node.args[0], names)
    return attr in _PROMOTES and any(_inexact(a, names) for a in node.args)
