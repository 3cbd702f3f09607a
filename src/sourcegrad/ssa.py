"""Stage 3b, single assignment: no name is assigned twice.

Invariant established: a name assigned only in straight-line code at the top
of the function, parameters included, is bound once, so every value the
adjoint sweep reads is still there after the primal sweep: a name assigned
again gets a numbered version, and later reads follow it, as does a local
that bears the name of a global the generated code reads (``np``,
``unbroadcast``).  A name assigned inside a branch or a loop (a *mutable*
name) keeps one name; the reverse pass saves the values of those that its
adjoint reads.  No statement assigns a mutable name from an expression that
reads it: ``s = s + x`` becomes ``s_1 = s + x; s = s_1``; and no branch
assigns the name its test reads (the test is copied first), so the adjoint
can replay the branch from the name.  Once names are unique, an item read
from a tuple literal by a constant index (``a = t[0]`` after ``t = (x, y)``)
reads the element itself (``a = x``), so no adjoint flows through a tuple.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> tree = gast.parse("def f(x):\\n    x = x * 2\\n    y = x + 1\\n    x = y\\n    return x")
>>> print(to_source(single_assignment(tree.body[0])))
def f(x):
    x_1 = x * 2
    y = x_1 + 1
    x_2 = y
    return x_2
>>> tree = gast.parse("def f(x, y):\\n    t = (x, y)\\n    a = t[1]\\n    return a")
>>> print(to_source(single_assignment(tree.body[0])))
def f(x, y):
    t = (x, y)
    a = y
    return a
"""

from __future__ import annotations


import gast

from .names import GENERATED, Namer, identifiers
from .trees import clone


def single_assignment(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of ``fn`` in which every straight-line name is assigned once."""
    fn = clone(fn)
    namer = Namer(identifiers(fn))
    params = fn.args.args + fn.args.posonlyargs + fn.args.kwonlyargs
    mutable = mutable_names(fn)
    current = {p.id: p.id for p in params}
    current.update({m: namer.fresh(m) if m in GENERATED else m for m in sorted(mutable)})
    for stmt in fn.body:
        _rename_loads(stmt, current)
        for target in _stores(stmt):
            name = target.id
            if name in mutable:
                target.id = current[name]
                continue
            clash = name in current or name in GENERATED  # e.g. a local named np
            target.id = namer.fresh(name) if clash else name
            current[name] = target.id
    fn.body = _separate_updates(fn.body, {current[m] for m in mutable}, namer)
    _forward_items(fn, {current[m] for m in mutable})
    return fn


def mutable_names(fn: gast.FunctionDef) -> set:
    """Names assigned inside a branch or a loop (loop variables included),
    arrays written into (``y[i] = v``) and lists appended to."""
    out = set()
    for stmt in fn.body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            out |= {n.id for n in gast.walk(stmt)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        out |= {n.value.id for n in gast.walk(stmt) if isinstance(n, gast.Subscript)
                and isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name)}
        out |= {n.func.value.id for n in gast.walk(stmt) if isinstance(n, gast.Call)
                and isinstance(n.func, gast.Attribute) and n.func.attr == "append"
                and isinstance(n.func.value, gast.Name)}
    return out


def _stores(stmt) -> list:
    return [n for n in gast.walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]


def _separate_updates(body: list, mutable: set, namer: Namer) -> list:
    """``s = f(s)`` for a mutable ``s`` as ``s_1 = f(s); s = s_1``."""
    out = []
    for stmt in body:
        for field in ("body", "orelse"):
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                setattr(stmt, field, _separate_updates(getattr(stmt, field), mutable, namer))
        if isinstance(stmt, gast.If) and _tested(stmt) in _stored(stmt.body + stmt.orelse):
            out.append(_copy_test(stmt, namer))
        target = getattr(stmt.targets[0], "id", None) if isinstance(stmt, gast.Assign) else None
        if target in mutable and any(isinstance(n, gast.Name) and n.id == target
                                     for n in gast.walk(stmt.value)):
            fresh = namer.fresh(target)
            stmt.targets[0].id = fresh
            out.append(stmt)
            copy_back = gast.Assign(targets=[gast.Name(id=target, ctx=gast.Store(),
                                                       annotation=None, type_comment=None)],
                                    value=gast.Name(id=fresh, ctx=gast.Load(), annotation=None,
                                                    type_comment=None), type_comment=None)
            out.append(gast.copy_location(copy_back, stmt))
            continue
        out.append(stmt)
    return out


def _tested(stmt):
    test = stmt.test
    if isinstance(test, gast.UnaryOp):
        test = test.operand
    return test.id if isinstance(test, gast.Name) else None


def _stored(body) -> set:
    return {n.id for s in body for n in _stores(s)}


def _copy_test(stmt, namer):
    """``was = c`` before ``if c:``, whose branches assign ``c``; the test reads ``was``."""
    name = _tested(stmt)
    fresh = namer.fresh(name + "_was")
    test = stmt.test.operand if isinstance(stmt.test, gast.UnaryOp) else stmt.test
    test.id = fresh
    saved = gast.Assign(targets=[gast.Name(id=fresh, ctx=gast.Store(), annotation=None,
                                           type_comment=None)],
                        value=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                        type_comment=None), type_comment=None)
    return gast.copy_location(saved, stmt)


def _forward_items(fn: gast.FunctionDef, mutable: set) -> None:
    """Replace ``t[k]`` by the element, where ``t`` is a tuple literal and ``k`` an
    int, in straight-line code."""
    literals = {}
    for stmt in fn.body:
        if not isinstance(stmt, gast.Assign) or getattr(stmt.targets[0], "id", None) in (
                mutable | {None}):
            continue
        value = stmt.value
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            item = _item(literals.get(value.value.id), value.slice)
            if item is not None:
                stmt.value = clone(item)
        if isinstance(stmt.value, (gast.Tuple, gast.List)) and not any(
                isinstance(e, gast.Name) and e.id in mutable for e in stmt.value.elts):
            literals[stmt.targets[0].id] = stmt.value.elts
        elif isinstance(stmt.value, gast.Name) and stmt.value.id in literals:
            literals[stmt.targets[0].id] = literals[stmt.value.id]  # a copy of a tuple


def _item(elts, index):
    """``elts[index]`` for a constant integer ``index`` in range, else ``None``."""
    if elts is None or not isinstance(index, gast.Constant):
        return None
    k = index.value
    if not isinstance(k, int) or isinstance(k, bool) or not -len(elts) <= k < len(elts):
        return None
    return elts[k]


def _rename_loads(stmt, current) -> None:
    for node in gast.walk(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            node.id = current.get(node.id, node.id)
