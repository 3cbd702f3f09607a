"""Copying syntax trees fast; what a tree changes in place, and what makes a
new array.

``clone`` is ``copy.deepcopy`` for gast trees: the compiler copies templates
and expressions thousands of times for a long function, and the generic
``deepcopy`` (through ``__reduce_ex__`` and a memo) costs several times more.
Trees are trees here (no node is shared within one), so no memo is needed.

>>> import gast
>>> node = gast.parse("y = f(x, 2)").body[0]
>>> copy = clone(node)
>>> copy is node, copy.value.args[0] is node.value.args[0], gast.dump(copy) == gast.dump(node)
(False, False, True)
"""

from __future__ import annotations

import gast
import numpy as np


def clone(node):
    """A deep copy of ``node`` (a gast node, a list of them, or a leaf value)."""
    if isinstance(node, gast.AST):
        cls = type(node)
        new = cls.__new__(cls)
        for field in cls._fields:
            setattr(new, field, clone(getattr(node, field, None)))
        for attribute in cls._attributes:
            if hasattr(node, attribute):
                setattr(new, attribute, getattr(node, attribute))
        return new
    if isinstance(node, list):
        return [clone(item) for item in node]
    return node


def in_place(tree) -> set:
    """The names whose array ``tree`` may change in place: ``x += e``,
    ``x[i] = e``, ``add_at(x, ...)``."""
    out = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            out.add(node.target.id)
        elif (isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store)
              and isinstance(node.value, gast.Name)):
            out.add(node.value.id)
        elif (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
              and node.func.id == "add_at" and node.args and isinstance(node.args[0], gast.Name)):
            out.add(node.args[0].id)
    return out


#: NumPy functions besides its ufuncs, and runtime helpers, whose result is a
#: new array (or a number): never memory of what they read.
_NEW_ARRAYS = frozenset({
    "sum", "mean", "prod", "max", "min", "dot", "matmul", "outer", "stack", "concatenate",
    "array", "copy", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
    "full_like"})
_NEW_HELPERS = frozenset({"zeros_like", "outer_sum", "matmul_left_sum", "in_blocks"})


def allocates(value) -> bool:
    """Whether the expression ``value`` makes a new array (or number) that
    shares no memory with what it reads: arithmetic, a comparison, a NumPy
    ufunc or function of ``_NEW_ARRAYS`` (without ``copy=``), an array's
    ``.sum(...)`` or ``.copy()``, a runtime helper that builds one.

    >>> [allocates(gast.parse(e, mode="eval").body) for e in ("x * 2", "np.sin(x)", "x.T",
    ...                                                       "x[1:]", "np.array(x, copy=False)")]
    [True, True, False, False, False]
    """
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare)):
        return True
    if not isinstance(value, gast.Call) or any(k.arg == "copy" for k in value.keywords):
        return False
    func = value.func
    if isinstance(func, gast.Name):
        return func.id in _NEW_HELPERS
    if not isinstance(func, gast.Attribute):
        return False
    if isinstance(func.value, gast.Name) and func.value.id == "np":
        return func.attr in _NEW_ARRAYS or isinstance(getattr(np, func.attr, None), np.ufunc)
    return func.attr in ("sum", "copy")  # an array's method
