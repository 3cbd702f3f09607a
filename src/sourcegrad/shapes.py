"""Shape equalities that hold whatever the inputs: an analysis.

``shapes(fn, ops)`` returns a ``Shapes`` record that answers ``same(a, b)``:
whether the names ``a`` and ``b`` provably have the same shape.  It knows
that an elementwise function keeps its argument's shape, that an operation
with a scalar keeps the other operand's shape, and that a full reduction is a
scalar.  The reverse pass uses it to drop ``unbroadcast`` where the shapes
already match, which costs a Python call per operation otherwise.

>>> import gast
>>> from sourcegrad.parse import Namespace
>>> from sourcegrad.primitives import primitives
>>> import numpy as np
>>> fn = gast.parse('''
... def f(x, y):
...     a = np.tanh(x)
...     b = a * 2.0
...     s = np.sum(b)
...     c = x * s
...     d = x + y
...     return d
... ''').body[0]
>>> found = shapes(fn, primitives(fn, Namespace({"np": np}), None))
>>> found.same("b", "x"), found.same("c", "a"), found.same("d", "x")
(True, True, False)
"""

from __future__ import annotations

import operator

import gast
import numpy as np

from . import rules
from .ssa import mutable_names

_SCALAR = "<scalar>"
_ELEMENTWISE_BINARY = {rules.REVERSE.get(f) for f in (
    operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
    np.maximum, np.minimum, np.arctan2, np.hypot)}
_REDUCTIONS = {rules.REVERSE.get(f) for f in (np.sum, np.mean, np.max, np.min, np.prod)}
_SAME = {rules.REVERSE.get(f) for f in (
    rules.identity, operator.neg, operator.pos, np.copy, np.astype, float)}


class Shapes:
    """Classes of names known to share one shape (a union-find)."""

    def __init__(self):
        self.parent = {}

    def find(self, name: str) -> str:
        self.parent.setdefault(name, name)
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb == _SCALAR:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def same(self, a: str, b: str) -> bool:
        return self.find(a) == self.find(b)

    def scalar(self, node) -> bool:
        """Whether ``node`` (a name or constant) is provably 0-d."""
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        return isinstance(node, gast.Name) and self.same(node.id, _SCALAR)


def shapes(fn: gast.FunctionDef, ops: dict) -> Shapes:
    """The shape classes of ``fn``'s straight-line, single-assignment names.
    Names assigned in branches or loops may change shape: they stay alone."""
    found = Shapes()
    mutable = mutable_names(fn)
    for stmt in fn.body:
        op = ops.get(id(stmt)) if isinstance(stmt, gast.Assign) else None
        if op is None or op.template is None or stmt.targets[0].id in mutable:
            continue
        if any(isinstance(n, gast.Name) and n.id in mutable for n in gast.walk(stmt.value)):
            continue
        target = stmt.targets[0].id
        template, bound = op.template, op.bound
        args = [bound.get(p) for p in template.signature.parameters]
        if template in _SAME or _unary_ufunc(stmt):
            _join(found, target, args[0])
        elif template in _ELEMENTWISE_BINARY:
            _binary(found, target, args[0], args[1])
        elif template in _REDUCTIONS and _full(bound):
            found.union(_SCALAR, target)
    return found


def _unary_ufunc(stmt) -> bool:
    value = stmt.value
    return isinstance(value, gast.Call) and len(value.args) == 1 and not value.keywords and \
        _is_unary_ufunc(value.func)


def _is_unary_ufunc(func) -> bool:
    parts = []
    while isinstance(func, gast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not (isinstance(func, gast.Name) and func.id == "np" and len(parts) == 1):
        return False
    obj = getattr(np, parts[0], None)
    return isinstance(obj, np.ufunc) and obj.nin == 1 and obj.nout == 1


def _join(found: Shapes, target: str, arg) -> None:
    if isinstance(arg, gast.Name):
        found.union(target, arg.id)
    elif found.scalar(arg):
        found.union(_SCALAR, target)


def _binary(found: Shapes, target: str, left, right) -> None:
    if found.scalar(left):
        _join(found, target, right)
    elif found.scalar(right):
        _join(found, target, left)
    elif isinstance(left, gast.Name) and isinstance(right, gast.Name) and found.same(left.id, right.id):
        found.union(target, left.id)


def _full(bound) -> bool:
    axis = bound.get("axis")
    keepdims = bound.get("keepdims")
    no_axis = axis is None or (isinstance(axis, gast.Constant) and axis.value is None)
    no_keep = keepdims is None or (isinstance(keepdims, gast.Constant) and not keepdims.value)
    return no_axis and no_keep
