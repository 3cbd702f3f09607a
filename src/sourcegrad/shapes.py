"""Shape equalities that hold whatever the inputs: an analysis.

``shapes(fn, ops)`` returns a ``Shapes`` record; ``same(stmt, a, b)`` says
whether, right after the assignment ``stmt`` runs, its target ``a`` and its
operand ``b`` provably have the same shape.  It knows that an elementwise function keeps
its argument's shape, that an operation with a scalar keeps the other
operand's shape, and that a full reduction is a scalar.  Names are
versioned as the code assigns them, so the facts stay true in loops and
branches: a value carried around a loop, or joined after a branch, starts a
version with no facts.  The reverse pass uses it to drop ``unbroadcast``
where shapes already match, which costs a Python call per operation, and
then the tape need not keep the value whose shape it would read.

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
>>> body = fn.body
>>> found.same(body[1], "b", "a"), found.same(body[3], "c", "x"), found.same(body[4], "d", "x")
(True, True, False)
"""

from __future__ import annotations

import operator

import gast
import numpy as np

from . import rules
from .names import dotted

_ELEMENTWISE_BINARY = {rules.REVERSE.get(f) for f in (
    operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
    np.maximum, np.minimum, np.arctan2, np.hypot)}
_REDUCTIONS = {rules.REVERSE.get(f) for f in (np.sum, np.mean, np.max, np.min, np.prod)}
_SAME = {rules.REVERSE.get(f) for f in (
    rules.identity, operator.neg, operator.pos, np.copy, np.astype, float)}
_SCALAR = 0  # the version of every provable scalar


class Shapes:
    """Classes of versions known to share one shape (a union-find), the
    current version of each name, and the facts each assignment leaves."""

    def __init__(self):
        self.parent = {_SCALAR: _SCALAR}
        self.version = {}
        self.count = 0
        self.facts = {}  # id(assignment) -> {(a, b) pairs with the same shape}
        self.assigned = {}  # name -> ids of the assignments to it
        self.shapes = set()  # classes of shape tuples (np.shape(x)): their items are numbers

    def find(self, v: int) -> int:
        while self.parent[v] != v:
            self.parent[v] = self.parent[self.parent[v]]
            v = self.parent[v]
        return v

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb == _SCALAR:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def of(self, name: str) -> int:
        """The current version of ``name`` (a fresh one, knowing nothing, if new)."""
        if name not in self.version:
            self.renew(name)
        return self.version[name]

    def renew(self, name: str) -> int:
        self.count += 1
        self.parent[self.count] = self.count
        self.version[name] = self.count
        return self.count

    def scalar(self, node) -> bool:
        """Whether ``node`` (a name or constant) is provably 0-d now."""
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        return isinstance(node, gast.Name) and self.find(self.of(node.id)) == _SCALAR

    def same(self, stmt, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` have the same shape right after ``stmt``."""
        return (a, b) in self.facts.get(id(stmt), ())

    def alike(self, a: str, b: str) -> bool:
        """Whether ``a`` has the shape of ``b``: every assignment of ``a`` made
        it so (``b`` as that assignment read it: how an adjoint rule of that
        assignment reads it), or both are assigned once, outside loops, and
        provably alike."""
        if a == b:
            return True
        made = self.assigned.get(a)
        if made and all((a, b) in self.facts.get(k, ()) for k in made):
            return True
        if a not in self.version or b not in self.version:
            return False
        return self.find(self.version[a]) == self.find(self.version[b])


def shapes(fn: gast.FunctionDef, ops: dict) -> Shapes:
    """The shape facts of ``fn``'s assignments."""
    found = Shapes()
    _block(fn.body, ops, found)
    return found


def _block(body, ops, found: Shapes) -> None:
    for stmt in body:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            _assignment(stmt, ops.get(id(stmt)), found)
        elif isinstance(stmt, gast.If):
            _branches(stmt, ops, found)
        elif isinstance(stmt, (gast.For, gast.While)):
            _loop(stmt, ops, found)
        elif isinstance(stmt, gast.Assign):  # a write into an array keeps its shape
            continue


def _stored(stmt) -> set:
    return {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Store)}


def _branches(stmt, ops, found: Shapes) -> None:
    """Each branch starts from the versions before the ``if``; after the join,
    a name either branch assigned is known only to be a scalar, if it is one
    in both."""
    before = dict(found.version)
    _block(stmt.body, ops, found)
    after_body = dict(found.version)
    found.version = dict(before)
    _block(stmt.orelse, ops, found)
    for name in _stored(stmt):
        scalar = all(name in versions and found.find(versions[name]) == _SCALAR
                     for versions in (after_body, found.version))
        version = found.renew(name)
        if scalar:
            found.union(_SCALAR, version)


def _loop(stmt, ops, found: Shapes) -> None:
    """A later turn sees other values: names the loop assigns start it knowing
    nothing, except scalars that every turn keeps scalar (a running total),
    which is checked by analysing the body once under that assumption."""
    changed = _stored(stmt)
    scalars = {n for n in changed if n in found.version
               and found.find(found.version[n]) == _SCALAR}
    saved = (dict(found.parent), dict(found.version), found.count)
    for keep in (scalars, set()):
        for name in changed - keep:
            found.renew(name)
        _block(stmt.body, ops, found)
        _block(stmt.orelse, ops, found)
        if all(found.find(found.version[n]) == _SCALAR for n in keep):
            break
        found.parent, found.version, found.count = dict(saved[0]), dict(saved[1]), saved[2]
    for name in changed - keep:  # after the loop: nothing known but those scalars
        found.renew(name)


def _assignment(stmt, op, found: Shapes) -> None:
    target = stmt.targets[0].id
    args = []
    if op is not None and op.template is not None:
        args = [op.bound.get(p) for p in op.template.signature.parameters]
    operands = {a.id: found.of(a.id) for a in args if isinstance(a, gast.Name)}
    scalars = [found.scalar(a) for a in args[:2]]
    version = found.renew(target)
    if op is not None and op.template is not None:
        template = op.template
        if template in _SAME or _unary_ufunc(stmt):
            _join(found, version, args[0], operands)
        elif template in _ELEMENTWISE_BINARY:
            _binary(found, version, args[0], args[1], scalars, operands)
        elif template in _REDUCTIONS and _full(op.bound):
            found.union(_SCALAR, version)
        elif getattr(op.primitive, "__module__", None) == "math":  # numbers in, a number out
            for name in operands.values():
                found.union(_SCALAR, name)
            found.union(_SCALAR, version)
        elif (op.primitive is operator.getitem and isinstance(args[0], gast.Name)
              and found.find(operands[args[0].id]) in found.shapes
              and isinstance(op.bound.get("index"), gast.Constant)):
            found.union(_SCALAR, version)  # np.shape(x)[0]: a number
    elif found.scalar(stmt.value) or _counts(stmt.value):  # a number
        found.union(_SCALAR, version)
    elif _call_of(stmt.value) == ["np", "shape"]:
        found.shapes.add(found.find(version))
    found.facts[id(stmt)] = {(target, name) for name, v in operands.items()
                             if found.find(v) == found.find(version)}
    found.assigned.setdefault(target, set()).add(id(stmt))


def _call_of(value):
    """``['np', 'shape']`` for a call of ``np.shape``; ``None`` if no call."""
    return dotted(value.func) if isinstance(value, gast.Call) else None


def _counts(value) -> bool:
    """A call that returns an integer: ``len(x)``, ``np.ndim(x)``, ``np.size(x)``."""
    return _call_of(value) in (["len"], ["np", "ndim"], ["np", "size"])


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


def _join(found: Shapes, version: int, arg, operands) -> None:
    if isinstance(arg, gast.Name):
        found.union(version, operands[arg.id])
    elif isinstance(arg, gast.Constant) and found.scalar(arg):
        found.union(_SCALAR, version)


def _binary(found: Shapes, version: int, left, right, scalars, operands) -> None:
    if scalars[0]:
        _join(found, version, right, operands)
    elif scalars[1]:
        _join(found, version, left, operands)
    elif (isinstance(left, gast.Name) and isinstance(right, gast.Name)
          and found.find(operands[left.id]) == found.find(operands[right.id])):
        found.union(version, operands[left.id])


def _full(bound) -> bool:
    axis = bound.get("axis")
    keepdims = bound.get("keepdims")
    no_axis = axis is None or (isinstance(axis, gast.Constant) and axis.value is None)
    no_keep = keepdims is None or (isinstance(keepdims, gast.Constant) and not keepdims.value)
    return no_axis and no_keep
