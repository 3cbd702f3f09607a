"""Copying syntax trees fast, and what a tree changes in place.

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
