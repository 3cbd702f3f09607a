"""Stage 6, optimize: remove what the generated function does not need.

Invariant established: every assignment in the body is read later (or is
returned); no ``if`` has an empty body and a nonempty ``else`` (``if c: pass
else: B`` is ``if not c: B``); comment lines that no longer head any code
are gone.  Passes run to a fixed point, each returning whether it changed
anything.  (Tape pushes and pops nobody needs are never emitted: see
``tape.needed_pops``.)

>>> import gast
>>> from sourcegrad.emit import to_source, comment
>>> fn = gast.parse("def f(x):\\n    a = x * 2\\n    b = np.exp(x)\\n    c = a + 1\\n    return a").body[0]
>>> fn.body.insert(2, comment("grad of: c"))
>>> print(to_source(optimize(fn)))
def f(x):
    a = x * 2
    return a
"""

from __future__ import annotations


import gast
import numpy as np

from .emit import comment_text, is_comment, to_source
from .trees import clone, in_place

#: Calls that may have an effect beyond their value: never removed.
EFFECTFUL = {"print"}


def optimize(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of ``fn`` with dead code removed, to a fixed point."""
    fn = clone(fn)
    passes = (propagate_copies, propagate_negations, eliminate_dead_code, flip_empty_branches,
              drop_orphan_comments)
    changed = True
    while changed:
        changed = False
        for run in passes:
            changed |= run(fn)
    return fn


def _loads(node) -> set:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def eliminate_dead_code(fn: gast.FunctionDef) -> bool:
    """Remove assignments whose target nobody reads, and branches and ``for``
    loops left empty; report a change."""
    body, _ = _live(fn.body, set())
    changed = _size(body) != _size(fn.body)
    fn.body[:] = body
    return changed


def _size(body) -> int:
    return sum(1 for s in body for _ in gast.walk(s))


def _pure(value) -> bool:
    """Whether evaluating ``value`` has no effect but its result (no
    ``tape.pop()``, ``list_pop(tape)`` or ``tape.append(...)``)."""
    return not any(isinstance(n, gast.Call) and (
        isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name)
        and n.func.attr in ("pop", "append")
        or isinstance(n.func, gast.Name) and n.func.id == "list_pop") for n in gast.walk(value))


def _live(body, live: set):
    """``body`` without dead code, given the names ``live`` after it; and the
    names live before it."""
    kept = []
    for stmt in reversed(body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            name = stmt.targets[0].id
            if name not in live and _pure(stmt.value):
                continue
            live = (live - {name}) | _loads(stmt.value)
        elif isinstance(stmt, gast.If):
            stmt, live = _live_branch(stmt, live)
            if stmt is None:
                continue
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt, live = _live_loop(stmt, live)
            if stmt is None:
                continue
        else:
            live = live | _loads(stmt)
        kept.append(stmt)
    kept.reverse()
    return kept, live


def _live_branch(stmt, live):
    body, live_body = _live(stmt.body, live)
    orelse, live_else = _live(stmt.orelse, live)
    if not _code(body) and not _code(orelse):
        return None, live
    stmt.body, stmt.orelse = body or [gast.Pass()], orelse
    return stmt, live_body | live_else | _loads(stmt.test)


def _live_loop(stmt, live):
    """A loop's body sees what is live after the loop and, for the next turn,
    what is live at its start: iterate to a fixed point."""
    header = _loads(stmt.iter) if isinstance(stmt, gast.For) else _loads(stmt.test)
    target = {stmt.target.id} if isinstance(stmt, gast.For) else set()
    inside = set(live) | header
    while True:
        _, start = _live(clone(stmt.body), inside)
        grown = inside | start
        if grown == inside:
            break
        inside = grown
    body, start = _live(stmt.body, inside)
    if isinstance(stmt, gast.For) and not _code(body) and stmt.target.id not in live:
        return None, live
    stmt.body = body or [gast.Pass()]
    return stmt, (live | start | header) - (target - live)


def elide_broadcasts(body: list, alike, protected=frozenset()) -> list:
    """``body`` where ``bA = np.broadcast_to(S, np.shape(A))`` became
    ``bA = S`` wherever every use of ``bA`` is a product ``bA * E`` whose
    factor ``E`` provably has ``A``'s shape: the product broadcasts ``S``
    itself (the adjoint of a sum, then that of an elementwise function, as a
    hand-written gradient does it).  ``alike(a, b)`` tells whether two names
    have one shape (``Shapes.alike``); names in ``protected`` are read after
    ``body`` and keep their shape.  The reverse pass runs this before it
    decides what the tape keeps: ``A`` is then often not read at all.

    >>> body = gast.parse("bt = np.broadcast_to(bf, np.shape(t))\\n"
    ...                   "bm = bt * (1.0 - t * t)").body
    >>> print(to_source(gast.Module(body=elide_broadcasts(body, str.__eq__), type_ignores=[])))
    bt = bf
    bm = bt * (1.0 - t * t)
    """
    module = gast.Module(body=body, type_ignores=[])
    stores, loads, parents = {}, {}, {}
    for node in gast.walk(module):
        for child in gast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, gast.Name):
            table = stores if isinstance(node.ctx, gast.Store) else loads
            table.setdefault(node.id, []).append(node)
    for stmt in list(gast.walk(module)):
        shape_of = _broadcast_of(stmt)
        target = stmt.targets[0].id if shape_of else None
        if shape_of is None or target in protected or len(stores.get(target, ())) != 1:
            continue
        if _products_only(target, (stores, loads, parents), shape_of, alike, protected):
            stmt.value = stmt.value.args[0]
    return body


def _products_only(name, tables, shape_of, alike, protected) -> bool:
    """Whether every use of ``name`` is a factor of a product like ``shape_of``,
    or a copy ``b = name`` (assigned once, not protected) whose uses all are."""
    stores, loads, parents = tables
    uses = loads.get(name, [])
    for use in uses:
        copy = parents.get(id(use))
        if isinstance(copy, gast.Assign) and copy.value is use and isinstance(
                copy.targets[0], gast.Name):
            target = copy.targets[0].id
            if (target in protected or len(stores.get(target, ())) != 1
                    or not _products_only(target, tables, shape_of, alike, protected)):
                return False
        elif not _product_like(use, parents, shape_of, alike):
            return False
    return bool(uses)


def _product_like(use, parents, name, alike) -> bool:
    """Whether ``use`` is a factor of a product whose other factor has the
    shape of ``name``."""
    shaped, node = set(), use
    product = parents.get(id(node))
    while isinstance(product, gast.BinOp) and isinstance(product.op, gast.Mult):
        other = product.right if product.left is node else product.left
        shaped.add(_shaped(other, name, alike))  # ``bA * 2 * x``: every factor counts
        node, product = product, parents.get(id(product))
    return "like" in shaped and None not in shaped


def _broadcast_of(stmt):
    """``A`` if ``stmt`` is ``name = np.broadcast_to(S, np.shape(A))``."""
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return None
    call = stmt.value
    if not (_is_np(call, "broadcast_to") and len(call.args) == 2 and not call.keywords):
        return None
    shape = call.args[1]
    if _is_np(shape, "shape") and len(shape.args) == 1 and isinstance(shape.args[0], gast.Name):
        return shape.args[0].id
    return None


def _is_np(node, attr: str) -> bool:
    return (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and node.func.attr == attr and isinstance(node.func.value, gast.Name)
            and node.func.value.id == "np")


def _shaped(node, name: str, alike):
    """``"like"`` if ``node`` provably has the shape of ``name``, ``"scalar"``
    for a number, else ``None``: arithmetic and unary NumPy ufuncs over
    such leaves, one of them at least like ``name``."""
    if isinstance(node, gast.Constant):
        ok = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        return "scalar" if ok else None
    if isinstance(node, gast.Name):
        return "like" if alike(name, node.id) else None
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        return _shaped(node.operand, name, alike)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub, gast.Mult,
                                                             gast.Div, gast.Pow)):
        sides = {_shaped(node.left, name, alike), _shaped(node.right, name, alike)}
        return None if None in sides else "like" if "like" in sides else "scalar"
    if (isinstance(node, gast.Call) and len(node.args) == 1 and not node.keywords
            and isinstance(node.func, gast.Attribute) and isinstance(node.func.value, gast.Name)
            and node.func.value.id == "np"):
        ufunc = getattr(np, node.func.attr, None)
        if isinstance(ufunc, np.ufunc) and ufunc.nin == 1 and ufunc.nout == 1:
            return _shaped(node.args[0], name, alike)
    return None


def propagate_copies(fn: gast.FunctionDef) -> bool:
    """After a copy ``a = b`` of one name to another, the statements that follow
    in the same block read ``b`` for ``a``, up to one that assigns either (its
    value still reads ``b``); the copy is then dead code.  Report a change.

    >>> fn = gast.parse("def f(b):\\n    a = b\\n    c = a * 2\\n    b = a + c\\n"
    ...                 "    return b").body[0]
    >>> propagate_copies(fn), eliminate_dead_code(fn)
    (True, True)
    >>> print(to_source(fn))
    def f(b):
        c = b * 2
        b = b + c
        return b
    """
    return _propagate(fn.body)


def _propagate(body) -> bool:
    kept = [s for s in body if not (isinstance(s, gast.Assign) and isinstance(s.value, gast.Name)
                                    and isinstance(s.targets[0], gast.Name)
                                    and s.targets[0].id == s.value.id)]  # x = x
    changed = len(kept) < len(body)
    body[:] = kept
    stores = [_names(s, gast.Store) for s in body]  # walked once: linear time
    loads = [_names(s, gast.Load) for s in body]
    for i, stmt in enumerate(body):
        for block in (getattr(stmt, "body", None), getattr(stmt, "orelse", None)):
            if isinstance(block, list):
                changed |= _propagate(block)
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                and isinstance(stmt.value, gast.Name)) or stmt.value.id == stmt.targets[0].id:
            continue
        old, new = stmt.targets[0].id, stmt.value.id
        for j in range(i + 1, len(body)):
            later, simple = body[j], isinstance(body[j], (gast.Assign, gast.AugAssign))
            assigned = old in stores[j] or new in stores[j]
            if assigned and not simple or isinstance(later, gast.Return):
                break  # a returned gradient keeps its parameter's name
            if old in loads[j]:
                changed |= _rename(later.value if simple else later, old, new)
                loads[j] = _names(later, gast.Load)
            if assigned:
                break
    return changed


def propagate_negations(fn: gast.FunctionDef) -> bool:
    """``t = -u`` read once, as a factor of the product ``e`` in ``b += e``
    (or ``b -= e``) later in the same block: that statement reads ``u`` and
    subtracts (adds) instead, exactly, and ``t`` is dead.  Report a change.

    >>> fn = gast.parse("def f(b, u, x):\\n    t = -u\\n    b += 2 * x * t\\n"
    ...                 "    return b").body[0]
    >>> propagate_negations(fn), eliminate_dead_code(fn)
    (True, True)
    >>> print(to_source(fn))
    def f(b, u, x):
        b -= 2 * x * u
        return b
    """
    counts = {}
    for node in gast.walk(fn):
        if isinstance(node, gast.Name):
            counts[node.id] = counts.get(node.id, 0) + 1
    changed = False
    for body in [n.body for n in gast.walk(fn) if isinstance(getattr(n, "body", None), list)]:
        for i, stmt in enumerate(body):
            if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                    and isinstance(stmt.value, gast.UnaryOp) and isinstance(stmt.value.op, gast.USub)
                    and isinstance(stmt.value.operand, gast.Name)
                    and counts.get(stmt.targets[0].id) == 2):  # assigned once, read once
                changed |= _negate_use(body[i + 1:], stmt.targets[0].id, stmt.value.operand.id)
    return changed


def _negate_use(rest, name: str, operand: str) -> bool:
    for stmt in rest:
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)):
            factor = _factor(stmt.value, name)
            if factor is not None:
                factor.id = operand
                stmt.op = gast.Sub() if isinstance(stmt.op, gast.Add) else gast.Add()
                return True
        changes = _names(stmt, gast.Store) | in_place(stmt)
        if name in _names(stmt, gast.Load) or operand in changes:
            return False  # read otherwise, or the operand changes first (in place too)
    return False


def _factor(node, name: str):
    """The leaf ``name`` of the product ``node`` (a chain of ``*``), or ``None``."""
    if isinstance(node, gast.Name):
        return node if node.id == name else None
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        return _factor(node.left, name) or _factor(node.right, name)
    return None


def _names(node, ctx) -> set:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, ctx)}


def _rename(node, old: str, new: str) -> bool:
    found = False
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id == old:
            n.id, found = new, True
    return found


def flip_empty_branches(fn: gast.FunctionDef) -> bool:
    """``if c: pass else: B`` as ``if not c: B``, in every block; report a change.

    >>> from sourcegrad.emit import to_source
    >>> fn = gast.parse("def f(c, x):\\n    if c:\\n        pass\\n    else:\\n        x = x + 1\\n"
    ...                 "    return x").body[0]
    >>> flip_empty_branches(fn), to_source(fn).splitlines()[1:3]
    (True, ['    if not c:', '        x = x + 1'])
    """
    changed = False
    for node in gast.walk(fn):
        if isinstance(node, gast.If) and not _code(node.body) and _code(node.orelse):
            test = node.test
            if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
                node.test = test.operand
            else:
                node.test = gast.UnaryOp(op=gast.Not(), operand=test)
            node.body, node.orelse = node.orelse, []
            changed = True
    return changed


def _code(body) -> bool:
    return any(not isinstance(s, gast.Pass) and not is_comment(s) for s in body)


def drop_orphan_comments(fn: gast.FunctionDef) -> bool:
    """Remove comment lines that head no code, in every block; report a change.

    A ``# grad of:`` line heads the statements up to the next comment; a
    section line (``# primal``, ``# adjoint``) heads everything up to the
    next section line.
    """
    body = _drop_orphans(fn.body)
    changed = _size(body) != _size(fn.body)
    fn.body[:] = body
    return changed


def _drop_orphans(body) -> list:
    kept = []
    for i, stmt in enumerate(body):
        if is_comment(stmt) and not _heads(stmt, body[i + 1:]):
            continue
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            stmt.body = _drop_orphans(stmt.body) or [gast.Pass()]
            stmt.orelse = _drop_orphans(stmt.orelse)
        kept.append(stmt)
    return kept


def _heads(stmt, rest) -> bool:
    level = _level(stmt)
    for nxt in rest:
        if isinstance(nxt, gast.Return):
            return False
        if is_comment(nxt):
            if _level(nxt) <= level:
                return False
            continue
        return True
    return False


def _level(stmt) -> int:
    """0 for a section comment, 1 for a ``# grad of:`` line."""
    return 1 if comment_text(stmt).startswith("grad of") else 0
