"""Shapes the code provably computes, and those it may assume: an analysis.

``shapes(fn, ops, signature)`` returns a ``Shapes`` record; ``same(stmt, a,
b)`` says whether, right after the assignment ``stmt`` runs, its target ``a``
and its operand ``b`` provably have the same shape, and ``rank(stmt, x)``
gives the number of axes of the operand ``x`` there, when known.  Every value
has a *shape term*: unknown (what two values share only when one is made from
the other elementwise), or a tuple of *dimensions*, symbols that stand for
lengths.  Without a ``signature`` a parameter's shape is unknown; with one
(``signature.of(args)``: ranks of the first call's arrays, Python numbers as
0-d) a parameter's axes are symbols named ``x.shape[i]``, and the rules of
``shape_rules`` carry them through the code: ``W @ h`` has the shape
``(W.shape[0],)``, ``x[t]`` drops an axis, ``np.sum(x, axis=1)`` another.

Where broadcasting meets two symbols (``a + b`` with shapes ``(n,)`` and
``(m,)``), or a loop carries a value around, the analysis *assumes* them
equal, and ``guard()`` lists those assumptions as tests of the parameters
(``a.shape[0] == b.shape[0]``): the generated code checks them on entry and
runs only where they hold (see ``guard``).  Names are versioned as the code
assigns them, so the facts stay true in loops and branches.

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
>>> ops = primitives(fn, Namespace({"np": np}), None)
>>> found = shapes(fn, ops)
>>> body = fn.body
>>> found.same(body[1], "b", "a"), found.same(body[3], "c", "x"), found.same(body[4], "d", "x")
(True, True, False)
>>> found = shapes(fn, ops, Signature((("ndarray", 1, ()), ("ndarray", 1, ()))))
>>> found.same(body[4], "d", "x"), found.rank(body[4], "y"), found.assumptions(["x", "y"])
(True, 1, ['x.shape[0] == y.shape[0]'])
"""

from __future__ import annotations

import gast

from . import shape_rules
from .signature import Signature


class Shapes:
    """Versions of names, each with a shape term (a union-find of versions
    whose root may know a tuple of dimensions), and dimensions (a union-find
    whose root may know a length or the parameter axis it came from)."""

    def __init__(self):
        self.parent, self.known = {}, {}  # versions
        self.dim_parent, self.const, self.origin = {}, {}, {}  # dimensions
        self.consts = {}  # length -> its dimension
        self.above_one = set()  # roots of lengths the signature saw over 1: they broadcast not
        self.version, self.count = {}, 0
        self.reads = {}  # id(assignment) -> {name: version} (its target's new one too)
        self.assigned = {}  # name -> ids of the assignments to it
        self.history = {}  # name -> every version it held
        self.values = {}  # version -> dimension (an int) or tuple of them (np.shape(x))
        self.integers = set()  # versions that hold Python or NumPy integers

    # versions ---------------------------------------------------------------

    def find(self, v: int) -> int:
        while self.parent[v] != v:
            self.parent[v] = self.parent[self.parent[v]]
            v = self.parent[v]
        return v

    def fresh(self, dims=None) -> int:
        self.count += 1
        self.parent[self.count] = self.count
        if dims is not None:
            self.known[self.count] = tuple(dims)
        return self.count

    def of(self, name: str) -> int:
        """The current version of ``name`` (a fresh one, knowing nothing, if new)."""
        if name not in self.version:
            self.version[name] = self.fresh()
        return self.version[name]

    def like(self, version: int, other: int) -> None:
        """The fresh ``version`` has the shape of ``other``."""
        self.parent[version] = self.find(other)

    def dims(self, version):
        """The shape of ``version`` as dimension roots, or ``None``."""
        found = self.known.get(self.find(version))
        return None if found is None else tuple(self.dim(d) for d in found)

    def equal(self, a: int, b: int) -> bool:
        if self.find(a) == self.find(b):
            return True
        da, db = self.dims(a), self.dims(b)
        return da is not None and da == db

    def assume(self, a: int, b: int) -> bool:
        """Make the shapes of ``a`` and ``b`` one, assuming what it takes
        (the guard checks it); ``False`` if that cannot be checked."""
        if self.equal(a, b):
            return True
        da, db = self.dims(a), self.dims(b)
        if da is None or db is None or len(da) != len(db) or not all(
                self.can_unify(x, y) for x, y in zip(da, db)):
            return False
        for x, y in zip(da, db):
            self.unify(x, y)
        self.parent[self.find(b)] = self.find(a)
        return True

    # dimensions -------------------------------------------------------------

    def new_dim(self, origin=None) -> int:
        self.count += 1
        self.dim_parent[self.count] = self.count
        if origin is not None:
            self.origin[self.count] = origin
        return self.count

    def length(self, n: int) -> int:
        """The dimension of the constant length ``n``."""
        if n not in self.consts:
            self.consts[n] = self.new_dim()
            self.const[self.consts[n]] = n
        return self.consts[n]

    def dim(self, d: int) -> int:
        while self.dim_parent[d] != d:
            self.dim_parent[d] = self.dim_parent[self.dim_parent[d]]
            d = self.dim_parent[d]
        return d

    def is_one(self, d: int) -> bool:
        return self.const.get(self.dim(d)) == 1

    def can_unify(self, a: int, b: int) -> bool:
        a, b = self.dim(a), self.dim(b)
        if a == b:
            return True
        checkable = [self.const.get(r) is not None or r in self.origin for r in (a, b)]
        ca, cb = self.const.get(a), self.const.get(b)
        if (ca == 1 and b in self.above_one) or (cb == 1 and a in self.above_one):
            return False  # the first call had more than one there: no use assuming it
        return all(checkable) and (ca is None or cb is None or ca == cb)

    def unify(self, a: int, b: int) -> bool:
        if not self.can_unify(a, b):
            return False
        a, b = self.dim(a), self.dim(b)
        if a != b:
            if b in self.const:
                a, b = b, a
            self.dim_parent[b] = a
            if b in self.above_one:
                self.above_one.add(a)
        return True

    # queries ----------------------------------------------------------------

    def scalar(self, node) -> bool:
        """Whether ``node`` (a name or constant) is provably 0-d now."""
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        return isinstance(node, gast.Name) and self.dims(self.of(node.id)) == ()

    def same(self, stmt, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` have the same shape right after ``stmt``."""
        reads = self.reads.get(id(stmt), {})
        return a in reads and b in reads and self.equal(reads[a], reads[b])

    def sum_axes(self, stmt, a: str, b: str):
        """How ``a`` (as ``stmt`` leaves it) broadcasts from ``b``'s shape:
        ``(leading axes, axes where b has length 1)``, to sum ``a``'s adjoint
        over; ``None`` where that is not known."""
        reads = self.reads.get(id(stmt), {})
        if a not in reads or b not in reads:
            return None
        da, db = self.dims(reads[a]), self.dims(reads[b])
        if da is None or db is None or len(da) < len(db):
            return None
        lead = len(da) - len(db)
        ones = []
        for i, (x, y) in enumerate(zip(da[lead:], db)):
            if x != y and not self.is_one(y):
                return None
            if x != y:
                ones.append(i)
        return lead, tuple(ones)

    def rank(self, stmt, name: str):
        """The number of axes of ``name`` as ``stmt`` reads it, or ``None``."""
        version = self.reads.get(id(stmt), {}).get(name)
        found = None if version is None else self.dims(version)
        return None if found is None else len(found)

    def alike(self, a: str, b: str) -> bool:
        """Whether ``a`` has the shape of ``b``: every assignment of ``a`` made
        it so (``b`` as that assignment read it), or their versions now agree."""
        if a == b:
            return True
        made = self.assigned.get(a)
        if made and all(b in self.reads.get(k, {}) and self.equal(
                self.reads[k][a], self.reads[k][b]) for k in made):
            return True
        if a not in self.version or b not in self.version:
            return False
        return self.equal(self.version[a], self.version[b])

    def array(self, name: str) -> bool:
        """Whether every value of ``name`` is an array with at least one axis."""
        versions = self.history.get(name)
        return bool(versions) and all(bool(self.dims(v)) for v in versions)

    def integer(self, name: str) -> bool:
        """Whether every value of ``name`` is an integer."""
        versions = self.history.get(name)
        return bool(versions) and all(v in self.integers for v in versions)

    def assumptions(self, params) -> list:
        """The assumptions as tests of the parameters, one per class of
        dimensions that holds a parameter's axis and another axis or a
        length: ``["x.shape[0] == y.shape[0]"]``."""
        classes = {}
        for d, (param, axis) in sorted(self.origin.items()):
            if param in params and self.dim_parent.get(d) is not None:
                classes.setdefault(self.dim(d), []).append(f"{param}.shape[{axis}]")
        tests = []
        for root, axes in sorted(classes.items()):
            axes = sorted(set(axes), key=lambda a: (params.index(a.split(".")[0]), a))
            if root in self.const:
                axes.append(str(self.const[root]))
            if len(axes) > 1:
                tests.append(" == ".join(axes))
        return tests

    def snapshot(self):
        return tuple(dict(t) if isinstance(t, dict) else set(t) for t in (
            self.parent, self.known, self.dim_parent, self.const, self.origin, self.consts,
            self.version, self.values, self.integers, self.above_one)) + (self.count,)

    def restore(self, saved) -> None:
        (self.parent, self.known, self.dim_parent, self.const, self.origin, self.consts,
         self.version, self.values, self.integers, self.above_one, self.count) = saved


def shapes(fn: gast.FunctionDef, ops: dict, signature: Signature | None = None) -> Shapes:
    """The shape facts of ``fn``'s assignments; with ``signature``, what the
    parameters' ranks give (see the module docstring)."""
    found = Shapes()
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    for k, name in enumerate(params):
        entry = signature.params[k] if signature and k < len(signature.params) else None
        found.version[name] = _parameter(found, name, entry)
        found.history[name] = {found.version[name]}
    _block(fn.body, ops, found)
    return found


def _parameter(found: Shapes, name: str, entry) -> int:
    if entry is None:
        return found.fresh()
    if entry[0] != "ndarray":  # a number
        version = found.fresh(())
        if entry[0] == "int":
            found.integers.add(version)
        return version
    _, ndim, ones = entry
    dims = [found.new_dim((name, i)) for i in range(ndim)]
    for i in range(ndim):  # a length of 1 is kept (and checked): it broadcasts
        if i in ones:
            found.unify(dims[i], found.length(1))
        else:
            found.above_one.add(dims[i])
    return found.fresh(dims)


def _block(body, ops, found: Shapes) -> None:
    for stmt in body:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            _assignment(stmt, ops.get(id(stmt)), found)
        elif isinstance(stmt, gast.If):
            _branches(stmt, ops, found)
        elif isinstance(stmt, (gast.For, gast.While)):
            _loop(stmt, ops, found)
        # a write into an array keeps its shape; appends and the rest assign no name


def _stored(stmt) -> set:
    return {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Store)}


def _branches(stmt, ops, found: Shapes) -> None:
    """Each branch starts from the versions before the ``if``; after it, a
    name either branch assigned has one shape if both can be made one."""
    before = dict(found.version)
    _block(stmt.body, ops, found)
    after_body = dict(found.version)
    found.version = dict(before)
    _block(stmt.orelse, ops, found)
    for name in sorted(_stored(stmt)):
        left, right = after_body.get(name), found.version.get(name)
        version = found.fresh()
        if left is not None and right is not None and found.assume(left, right):
            found.like(version, left)
        found.version[name] = version


def _loop(stmt, ops, found: Shapes) -> None:
    """A later turn sees other values: a name the loop assigns keeps its shape
    around the loop where the body's last value can be made of its first's
    shape (assumed, and checked by the analysis of the body under that
    assumption); the others start each turn knowing nothing."""
    changed = _stored(stmt)
    if isinstance(stmt, gast.For) and isinstance(stmt.target, gast.Name):
        changed.discard(stmt.target.id)
    carried = {n for n in changed if n in found.version and found.dims(found.version[n]) is not None}
    saved = found.snapshot()
    while True:
        start = dict(found.version)
        for name in changed - carried:
            found.version[name] = found.fresh()
        for name in carried:  # its shape, not its value (an integer may not stay one)
            _rename(found, name, start[name])
        _target(stmt, found)
        _block(stmt.body, ops, found)
        _block(stmt.orelse, ops, found)
        kept = {n for n in carried if found.assume(start[n], found.version[n])}
        if kept == carried:
            break
        found.restore(saved)
        carried = kept
    for name in changed - carried:  # after the loop: nothing known of the others
        found.version[name] = found.fresh()
    for name in carried:
        _rename(found, name, start[name])


def _rename(found: Shapes, name: str, like: int) -> None:
    """A new version of ``name`` with the shape of the version ``like``."""
    version = found.fresh()
    found.like(version, like)
    found.version[name] = version
    found.history.setdefault(name, set()).add(version)


def _target(stmt, found: Shapes) -> None:
    """A ``for`` loop's name: an integer from ``range``."""
    if isinstance(stmt, gast.For) and isinstance(stmt.target, gast.Name):
        version = found.fresh(())
        found.integers.add(version)
        found.version[stmt.target.id] = version
        found.history.setdefault(stmt.target.id, set()).add(version)


def _assignment(stmt, op, found: Shapes) -> None:
    target = stmt.targets[0].id
    reads = {n.id: found.of(n.id) for n in gast.walk(stmt.value) if isinstance(n, gast.Name)}
    version = shape_rules.result(stmt.value, op, found)
    found.version[target] = version
    reads[target] = version
    found.reads[id(stmt)] = reads
    found.assigned.setdefault(target, set()).add(id(stmt))
    found.history.setdefault(target, set()).add(version)
