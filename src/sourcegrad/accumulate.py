"""Stage 6b, accumulate: a loop's outer products summed as one product.

Invariant established: in ``grad``'s generated function, an adjoint loop no
longer adds a matrix product's adjoint into an accumulator on every turn
(``bW += matmul_left(g, W, h)``: an outer product and an addition each turn)
when nothing else in the loop touches that accumulator.  The loop keeps the
turn's factors instead (copies, so that no later update in place reaches
them), and after the loop one product sums them all
(``matmul_left_sum``: the stacked factors, ``G.T @ H``), as a hand-written
RNN gradient does with ``da.T @ hs``.  The factor ``W`` must not change in the
loop.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> fn = gast.parse('''
... def grad_f(W, hs, bys):
...     bW = zeros_like(W)
...     for t in reversed(range(3)):
...         bW += matmul_left(bys[t], W, hs[t])
...     return bW
... ''').body[0]
>>> print(to_source(defer_accumulations(fn)))
def grad_f(W, hs, bys):
    bW = zeros_like(W)
    bW_terms = []
    for t in reversed(range(3)):
        bW_terms.append((np.array(bys[t]), np.array(hs[t])))
    bW += matmul_left_sum(bW_terms, W)
    return bW
"""

from __future__ import annotations

import gast

from .names import Namer, identifiers
from .trees import clone, in_place


def defer_accumulations(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of ``fn`` with each loop's ``X += matmul_left(g, W, y)`` deferred."""
    fn = clone(fn)
    namer = Namer(identifiers(fn))
    fn.body = _block(fn.body, namer)
    return fn


def _block(body: list, namer: Namer) -> list:
    out = []
    for stmt in body:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _block(getattr(stmt, field), namer))
        if isinstance(stmt, gast.For):
            out.extend(_loop(stmt, namer))
        else:
            out.append(stmt)
    return out


def _loop(loop: gast.For, namer: Namer) -> list:
    before, after = [], []
    stores = _names(loop, gast.Store) | in_place(loop)
    for i, stmt in enumerate(loop.body):
        call = _accumulation(stmt)
        if call is None:
            continue
        total, (g, factor, y) = stmt.target.id, call.args
        touched = [n for n in gast.walk(loop) if isinstance(n, gast.Name) and n.id == total]
        if len(touched) != 1 or factor.id in stores:
            continue  # the loop reads the accumulator, or the factor changes
        terms = namer.fresh(total + "_terms")
        before.append(_assign(terms, gast.List(elts=[], ctx=gast.Load())))
        pair = gast.Tuple(elts=[_copy(g), _copy(y)], ctx=gast.Load())
        loop.body[i] = gast.Expr(value=_call(gast.Attribute(
            value=_load(terms), attr="append", ctx=gast.Load()), pair))
        after.append(gast.AugAssign(target=gast.Name(id=total, ctx=gast.Store(), annotation=None,
                                                     type_comment=None),
                                    op=gast.Add(), value=_call(_load("matmul_left_sum"),
                                                               _load(terms), _load(factor.id))))
    return before + [loop] + after


def _accumulation(stmt):
    """The call in ``X += matmul_left(g, W, y)`` (names or items of names), else None."""
    if not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add)
            and isinstance(stmt.target, gast.Name)):
        return None
    call = stmt.value
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Name)
            and call.func.id == "matmul_left" and len(call.args) == 3 and not call.keywords):
        return None
    g, factor, y = call.args
    if not isinstance(factor, gast.Name) or not all(_simple(a) for a in (g, y)):
        return None
    return call


def _simple(node) -> bool:
    """A name, or an item of a name by a name or a constant."""
    if isinstance(node, gast.Name):
        return True
    return (isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name)
            and isinstance(node.slice, (gast.Name, gast.Constant)))


def _names(tree, ctx) -> set:
    return {n.id for n in gast.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, ctx)}


def _copy(node):
    return _call(gast.Attribute(value=_load("np"), attr="array", ctx=gast.Load()), clone(node))


def _call(func, *args):
    return gast.Call(func=func, args=list(args), keywords=[])


def _load(name: str):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _assign(name: str, value):
    target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
    return gast.Assign(targets=[target], value=value, type_comment=None)
