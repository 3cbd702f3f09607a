"""Stage 6b, accumulate: a loop's outer products summed as one product.

Invariant established: in ``grad``'s generated function, an adjoint loop no
longer adds a matrix product's adjoint into an accumulator on every turn
(``bW += matmul_left(g, W, h)``, or ``bW += g[:, None] * h`` where the ranks
are known: an outer product and an addition each turn) when nothing else in
the loop touches that accumulator.  The loop keeps the turn's factors
instead, and after the loop one product sums them all (``matmul_left_sum``,
``outer_sum``: the stacked factors, ``G.T @ H``), as a hand-written RNN
gradient does with ``da.T @ hs``.  A factor is copied when it is kept only
if a later update in place may reach its array (``shared_with_updates``);
the factor ``W`` must not change in the loop.  And a loop over the indices
of ``range(n)`` that adds into row ``t`` of an array of zeros
(``bX[t] += g``) writes the row (``bX[t] = g``): each is visited once.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> fn = gast.parse('''
... def grad_f(W, hs, bys):
...     bW = zeros_like(W)
...     bh = zeros_like(hs[0])
...     for t in reversed(range(3)):
...         bh += bys[t]
...         bW += bh[:, None] * hs[t]
...     return bW
... ''').body[0]
>>> print(to_source(defer_accumulations(fn)))
def grad_f(W, hs, bys):
    bW = zeros_like(W)
    bh = zeros_like(hs[0])
    bW_terms = []
    for t in reversed(range(3)):
        bh += bys[t]
        bW_terms.append((np.array(bh), hs[t]))
    bW += outer_sum(bW_terms)
    return bW
"""

from __future__ import annotations

import gast

from .names import Namer, identifiers
from .trees import allocates, clone, in_place


def defer_accumulations(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of ``fn`` with each loop's ``X += matmul_left(g, W, y)`` and
    ``X += g[:, None] * y`` deferred."""
    fn = clone(fn)
    namer = Namer(identifiers(fn))
    fn.body = _block(fn.body, namer, shared_with_updates(fn))
    return fn


def _block(body: list, namer: Namer, shared: set) -> list:
    out = []
    for stmt in body:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _block(getattr(stmt, field), namer, shared))
        if isinstance(stmt, gast.For):
            _write_rows(stmt, _zeroed(out))
            out.extend(_loop(stmt, namer, shared))
        else:
            out.append(stmt)
    return out


def _zeroed(before: list) -> set:
    """Names that the last statements of ``before`` set to zeros
    (``X = zeros_like(...)``) and that nothing after reads."""
    out, seen = set(), set()
    for stmt in reversed(before):
        if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                and isinstance(stmt.value, gast.Call) and isinstance(stmt.value.func, gast.Name)
                and stmt.value.func.id == "zeros_like" and stmt.targets[0].id not in seen):
            out.add(stmt.targets[0].id)
        seen |= {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)}
    return out


def _write_rows(loop: gast.For, zeroed: set) -> None:
    """In a loop over distinct indices ``t >= 0``, ``X[t] += g`` into an array
    of zeros that the loop touches nowhere else is ``X[t] = g``: each row is
    written once (no addition, no temporary)."""
    if not (_distinct(loop.iter) and isinstance(loop.target, gast.Name)):
        return
    for k, stmt in enumerate(loop.body):
        if not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add)
                and isinstance(stmt.target, gast.Subscript)
                and isinstance(stmt.target.value, gast.Name)
                and isinstance(stmt.target.slice, gast.Name)
                and stmt.target.slice.id == loop.target.id):
            continue
        name = stmt.target.value.id
        uses = [n for n in gast.walk(loop) if isinstance(n, gast.Name) and n.id == name]
        if name in zeroed and len(uses) == 1:
            loop.body[k] = gast.Assign(targets=[stmt.target], value=stmt.value,
                                       type_comment=None)


def _distinct(iterator) -> bool:
    """Whether ``iterator`` is ``range(n)`` or ``reversed(range(n))`` (indices
    from 0, each once; a start or step that is a non-negative constant too)."""
    if (isinstance(iterator, gast.Call) and isinstance(iterator.func, gast.Name)
            and iterator.func.id == "reversed" and len(iterator.args) == 1):
        iterator = iterator.args[0]
    if not (isinstance(iterator, gast.Call) and isinstance(iterator.func, gast.Name)
            and iterator.func.id == "range" and 1 <= len(iterator.args) <= 3
            and not iterator.keywords):
        return False
    rest = iterator.args[:1] if len(iterator.args) > 1 else []
    rest += iterator.args[2:]
    return all(isinstance(a, gast.Constant) and type(a.value) is int and a.value >= 0
               for a in rest) and not (len(iterator.args) == 3 and iterator.args[2].value == 0)


def _loop(loop: gast.For, namer: Namer, shared: set) -> list:
    before, after = [], []
    stores = _names(loop, gast.Store) | in_place(loop)
    for i, stmt in enumerate(loop.body):
        found = _accumulation(stmt)
        if found is None:
            continue
        total, (g, factor, y) = stmt.target.id, found
        touched = [n for n in gast.walk(loop) if isinstance(n, gast.Name) and n.id == total]
        if len(touched) != 1 or (factor is not None and factor.id in stores):
            continue  # the loop reads the accumulator, or the factor changes
        terms = namer.fresh(total + "_terms")
        before.append(_assign(terms, gast.List(elts=[], ctx=gast.Load())))
        pair = gast.Tuple(elts=[_kept(g, shared), _kept(y, shared)], ctx=gast.Load())
        loop.body[i] = gast.Expr(value=_call(gast.Attribute(
            value=_load(terms), attr="append", ctx=gast.Load()), pair))
        summed = (_call(_load("outer_sum"), _load(terms)) if factor is None
                  else _call(_load("matmul_left_sum"), _load(terms), _load(factor.id)))
        after.append(gast.AugAssign(target=gast.Name(id=total, ctx=gast.Store(), annotation=None,
                                                     type_comment=None),
                                    op=gast.Add(), value=summed))
    return before + [loop] + after


def _accumulation(stmt):
    """``(g, W, y)`` for ``X += matmul_left(g, W, y)``, ``(g, None, y)`` for
    ``X += g[:, None] * y`` (names or items of names), else None."""
    if not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add)
            and isinstance(stmt.target, gast.Name)):
        return None
    value = stmt.value
    if (isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and value.func.id == "matmul_left" and len(value.args) == 3 and not value.keywords):
        g, factor, y = value.args
        ok = isinstance(factor, gast.Name) and all(_simple(a) for a in (g, y))
        return (g, factor, y) if ok else None
    if (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult)
            and _column(value.left) is not None and _simple(value.right)):
        return _column(value.left), None, value.right
    return None


def _column(node):
    """``g`` if ``node`` is ``g[:, None]`` (``g`` a name or an item of one)."""
    if not (isinstance(node, gast.Subscript) and isinstance(node.slice, gast.Tuple)
            and len(node.slice.elts) == 2):
        return None
    whole, new = node.slice.elts
    if (isinstance(whole, gast.Slice) and whole.lower is None and whole.upper is None
            and whole.step is None and isinstance(new, gast.Constant) and new.value is None
            and _simple(node.value)):
        return node.value
    return None


def _simple(node) -> bool:
    """A name, or an item of a name by a name or a constant."""
    if isinstance(node, gast.Name):
        return True
    return (isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name)
            and isinstance(node.slice, (gast.Name, gast.Constant)))


def shared_with_updates(fn) -> set:
    """The names of ``fn`` whose array may share memory with one that ``fn``
    updates in place (``x += e``, ``x[i] = e``, ``add_at(x, ...)``): names
    joined by a copy, an item, a view, a call that may return its argument
    or a list they pass through, to an updated one.  A factor kept for after
    the loop is copied only if its name is one of them."""
    links = {}
    for node in gast.walk(fn):
        if isinstance(node, gast.Assign):
            targets = {n.id for t in node.targets for n in gast.walk(t) if isinstance(n, gast.Name)}
            for a in targets:
                for b in _aliased(node.value):
                    links.setdefault(a, set()).add(b)
                    links.setdefault(b, set()).add(a)
        elif _is_append(node):
            items, value = node.func.value.id, node.args[0]
            for b in _aliased(value):
                links.setdefault(items, set()).add(b)
                links.setdefault(b, set()).add(items)
    shared, queue = set(), list(in_place(fn))
    while queue:
        name = queue.pop()
        if name not in shared:
            shared.add(name)
            queue.extend(links.get(name, ()))
    return shared


def _aliased(value) -> set:
    """Names whose memory ``value`` may share: none for a new array
    (``trees.allocates``) or a constant, else every name it reads."""
    if isinstance(value, gast.Constant) or allocates(value):
        return set()
    return _names(value, gast.Load) - {"np", "math"}


def _is_append(node) -> bool:
    return (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and node.func.attr == "append" and isinstance(node.func.value, gast.Name)
            and len(node.args) == 1)


def _kept(node, shared):
    """``node``, copied if a later update in place may reach its array."""
    base = node.value if isinstance(node, gast.Subscript) else node
    return _copy(node) if base.id in shared else clone(node)


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
