"""Stage 4b, hoist: a loop's products with the rows of an array, all at once.

Invariant established: in a ``for t in range(...)`` loop, a product of an
array that the loop does not change with the item ``X[t]`` of another
(``U @ X[t]``, ``X[t] @ V``; the shapes analysis knows their ranks) is one
matrix product before the loop, of which the loop reads row ``t``: the way a
hand-written RNN computes every step's input term.  Its adjoint then collects
the rows' adjoints and makes one product after the loop, instead of an outer
product each turn.  Every row is computed, also those the loop may skip; a
row the loop reads is that turn's product.

>>> import gast, numpy as np
>>> from sourcegrad.emit import to_source
>>> from sourcegrad.parse import Namespace
>>> from sourcegrad.primitives import primitives
>>> from sourcegrad.shapes import shapes
>>> from sourcegrad.signature import Signature
>>> fn = gast.parse('''
... def f(U, xs, h):
...     for t in range(3):
...         x = xs[t]
...         u = U @ x
...         h = h + u
...     return h
... ''').body[0]
>>> ops = primitives(fn, Namespace({"np": np}), None)
>>> found = shapes(fn, ops, Signature((("ndarray", 2, ()), ("ndarray", 2, ()), None)))
>>> print(to_source(hoist(fn, found)))
def f(U, xs, h):
    transpose = np.transpose(U)
    u_rows = xs @ transpose
    for t in range(3):
        x = xs[t]
        u = u_rows[t]
        h = h + u
    return h
"""

from __future__ import annotations

import gast

from .names import Namer, identifiers
from .trees import clone, in_place


def hoist(fn: gast.FunctionDef, shapes) -> gast.FunctionDef:
    """A copy of ``fn`` with its loops' products of rows hoisted (see the
    module docstring); ``fn`` itself where there are none."""
    plans = {}
    _find(fn.body, shapes, plans)
    if not plans:
        return fn
    new = clone(fn)
    twins = {id(a): b for a, b in zip(gast.walk(fn), gast.walk(new))}
    namer = Namer(identifiers(fn))
    new.body = _rewrite(new.body, {id(twins[k]): v for k, v in plans.items()}, twins, namer)
    return new


def _find(body, shapes, plans) -> None:
    """``plans[id(loop)]``: the loop's hoistable products (see ``_plan``)."""
    for stmt in body:
        if isinstance(stmt, gast.For) and isinstance(stmt.target, gast.Name):
            found = _products(stmt, shapes)
            if found:
                plans[id(stmt)] = found
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            _find(stmt.body, shapes, plans)
            _find(stmt.orelse, shapes, plans)


def _products(loop: gast.For, shapes) -> list:
    changed = {n.id for n in gast.walk(loop) if isinstance(n, gast.Name)
               and isinstance(n.ctx, gast.Store)} | in_place(loop)
    items = {}  # name -> the array whose item t it is
    out = []
    for stmt in loop.body:
        for name in {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)
                     and isinstance(n.ctx, gast.Store)}:
            items.pop(name, None)
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            continue
        value = stmt.value
        if (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                and isinstance(value.slice, gast.Name) and value.slice.id == loop.target.id
                and value.value.id not in changed):
            items[stmt.targets[0].id] = value.value.id
        elif isinstance(value, gast.BinOp) and isinstance(value.op, gast.MatMult) and all(
                isinstance(side, gast.Name) for side in (value.left, value.right)):
            plan = _plan(stmt, value.left.id, value.right.id, items, changed, shapes)
            if plan is not None:
                out.append(plan)
    return out


def _plan(stmt, left, right, items, changed, shapes):
    """``(stmt, matrix, rows array, matrix first?, rank of X[t])`` for
    ``U @ X[t]`` (a matrix ``U``) or ``X[t] @ V``, where the ranks allow;
    else ``None``."""
    if right in items and left not in changed and left not in items:
        matrix, rows, first = left, items[right], True
    elif left in items and right not in changed and right not in items:
        matrix, rows, first = right, items[left], False
    else:
        return None
    item = right if first else left
    if shapes.rank(stmt, matrix) != 2 or (shapes.rank(stmt, item) or 0) < 1:
        return None
    return stmt, matrix, rows, first, shapes.rank(stmt, item)


def _rewrite(body, plans, twins, namer) -> list:
    out = []
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            stmt.body = _rewrite(stmt.body, plans, twins, namer)
            stmt.orelse = _rewrite(stmt.orelse, plans, twins, namer)
        for product, *rest in plans.get(id(stmt), ()):
            out.extend(_before(stmt, (twins[id(product)], *rest), namer))
        out.append(stmt)
    return out


def _before(loop, plan, namer) -> list:
    """The products before ``loop``; the statement in the loop reads a row."""
    stmt, matrix, rows, first, item_rank = plan
    target = stmt.targets[0].id
    every = namer.fresh(target + "_rows")
    out = []
    if first and item_rank == 1:  # U @ X[t] == (X @ U.T)[t]
        transposed = namer.fresh("transpose")
        out.append(_assign(transposed, _call("transpose", _load(matrix)), stmt))
        product = gast.BinOp(left=_load(rows), op=gast.MatMult(), right=_load(transposed))
    elif first:  # U @ X[t] == (U @ X)[t], U broadcast over X's first axis
        product = gast.BinOp(left=_load(matrix), op=gast.MatMult(), right=_load(rows))
    else:  # X[t] @ V == (X @ V)[t]
        product = gast.BinOp(left=_load(rows), op=gast.MatMult(), right=_load(matrix))
    out.append(_assign(every, product, stmt))
    stmt.value = gast.Subscript(value=_load(every), slice=_load(loop.target.id), ctx=gast.Load())
    return out


def _assign(name, value, where):
    target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
    return gast.copy_location(gast.Assign(targets=[target], value=value, type_comment=None), where)


def _call(function, *args):
    func = gast.Attribute(value=_load("np"), attr=function, ctx=gast.Load())
    return gast.Call(func=func, args=list(args), keywords=[])


def _load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
