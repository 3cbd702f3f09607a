"""The tape: values the primal sweep saves for the adjoint sweep.

A name assigned in a branch or a loop keeps one name, so its earlier values
are gone when the adjoint sweep needs them.  The primal sweep pushes such a
value on a list (the tape) just before it is overwritten, and the adjoint
sweep pops it back just after reversing the assignment; loops whose trip
count the adjoint needs (``while`` loops, ``for`` loops that ``break``)
count their iterations.  Only values the adjoint sweep reads are saved.

``bindings`` is an analysis: which assignments bind a name for the first
time (nothing to save) and which may overwrite a name that is not yet bound
(initialise it to ``None`` so that the push is valid).  ``instrument`` is a
transformation: the primal statements with the pushes and counters added.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> body = gast.parse('''
... h = x
... for t in range(3):
...     h = np.tanh(h)
... ''').body
>>> site = body[1].body[0]
>>> code = instrument(body, {id(site): ["h"]}, {}, "tape")
>>> print(to_source(gast.Module(body=code, type_ignores=[])))
h = x
for t in range(3):
    tape.append(h)
    h = np.tanh(h)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gast

_COMPOUND = (gast.If, gast.For, gast.While)


def _name(id_, store=False):
    ctx = gast.Store() if store else gast.Load()
    return gast.Name(id=id_, ctx=ctx, annotation=None, type_comment=None)


def _call(obj: str, method: str, args=()):
    return gast.Call(func=gast.Attribute(value=_name(obj), attr=method, ctx=gast.Load()),
                     args=list(args), keywords=[])


def _assign(name: str, value):
    return gast.Assign(targets=[_name(name, True)], value=value, type_comment=None)


def push(tape: str, value):
    """``tape.append(value)``; ``value`` a name or an expression."""
    return gast.Expr(value=_call(tape, "append", [_name(value) if isinstance(value, str)
                                                   else value]))


def pop(tape: str, target):
    """``target = tape.pop()``; ``target`` a name or an assignable expression."""
    if isinstance(target, str):
        return _assign(target, _call(tape, "pop"))
    return gast.Assign(targets=[target], value=_call(tape, "pop"), type_comment=None)


@dataclass
class Bindings:
    """What the primal sweep knows about each assignment's target."""

    first: set = field(default_factory=set)  # ids of assignments to an unbound name
    maybe_unbound: dict = field(default_factory=dict)  # id -> name perhaps unbound there
    sure: dict = field(default_factory=dict)  # id(branch or loop) -> names surely bound before


def bindings(fn: gast.FunctionDef) -> Bindings:
    """Which assignments of ``fn`` bind their name for the first time, and
    which overwrite a name that may not be bound yet."""
    params = {a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    found = Bindings()
    _bind(fn.body, set(params), set(params), found)
    return found


def _stores(stmt) -> set:
    return {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Store)}


def _bind(body, sure: set, maybe: set, found: Bindings):
    """Walk ``body`` from the names surely and maybe bound; return both after."""
    for stmt in body:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            name = stmt.targets[0].id
            if name not in maybe:
                found.first.add(id(stmt))
            elif name not in sure:
                found.maybe_unbound[id(stmt)] = name
            sure, maybe = sure | {name}, maybe | {name}
        elif isinstance(stmt, gast.If):
            found.sure[id(stmt)] = sure
            sure_a, maybe_a = _bind(stmt.body, sure, maybe, found)
            sure_b, maybe_b = _bind(stmt.orelse, sure, maybe, found)
            sure, maybe = sure_a & sure_b, maybe_a | maybe_b
        elif isinstance(stmt, (gast.For, gast.While)):
            found.sure[id(stmt)] = sure
            inner = maybe | _stores(stmt)
            start = sure | ({stmt.target.id} if isinstance(stmt, gast.For) else set())
            _bind(stmt.body, start, inner, found)
            maybe = inner
    return sure, maybe


def instrument(body: list, sites: dict, counters: dict, tape: str, rewrites=None,
               in_loop=False) -> list:
    """The primal statements ``body`` with ``tape.append(v)`` before each
    assignment in ``sites`` (``{id(assignment): [names to save]}``), an
    iteration counter in each loop of ``counters`` (``{id(loop): name}``),
    pushed after the loop when loops around it would overwrite it, and the
    statements of ``rewrites`` (``{id: statement}``) replaced."""
    rewrites = rewrites or {}
    out = []
    for stmt in body:
        for saved in sites.get(id(stmt), ()):
            out.append(gast.copy_location(push(tape, saved), stmt))
        if isinstance(stmt, gast.If):
            stmt = gast.If(test=stmt.test, body=instrument(stmt.body, sites, counters, tape,
                                                           rewrites, in_loop),
                           orelse=instrument(stmt.orelse, sites, counters, tape, rewrites,
                                             in_loop))
        elif isinstance(stmt, (gast.For, gast.While)):
            out.extend(_loop(stmt, sites, counters, tape, rewrites, in_loop))
            continue
        out.append(rewrites.get(id(stmt), stmt))
    return out


def _loop(loop, sites, counters, tape, rewrites, in_loop) -> list:
    body = instrument(loop.body, sites, counters, tape, rewrites, True)
    counter = counters.get(id(loop))
    before, after = [], []
    if counter is not None:
        before.append(_assign(counter, gast.Constant(value=0, kind=None)))
        body = [_assign(counter, gast.BinOp(left=_name(counter), op=gast.Add(),
                                            right=gast.Constant(value=1, kind=None)))] + body
        if in_loop:
            after.append(push(tape, counter))
    if isinstance(loop, gast.For):
        new = gast.For(target=loop.target, iter=loop.iter, body=body, orelse=[],
                       type_comment=None)
    else:
        new = gast.While(test=loop.test, body=body, orelse=[])
    return before + [gast.copy_location(new, loop)] + after


def needs_counter(loop) -> bool:
    """Whether the adjoint of ``loop`` needs its trip count: a ``while`` loop,
    or a ``for`` loop that may ``break``."""
    if isinstance(loop, gast.While):
        return True
    todo = list(loop.body)
    while todo:
        stmt = todo.pop()
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If):
            todo.extend(stmt.body + stmt.orelse)
    return False


def needed_pops(sweep: list, pops: set, live_out: set) -> set:
    """The pops of ``sweep`` (ids in ``pops``) whose restored value some later
    adjoint code reads: a liveness analysis run backwards over the sweep,
    loops to a fixed point.  The others, and their pushes, can go."""
    needed = set()
    _needed(sweep, set(live_out), pops, needed)
    return needed


def _written(stmt):
    """The name a pop restores: ``v`` in ``v = tape.pop()`` and ``v[i] = ...``."""
    target = stmt.targets[0]
    return target.id if isinstance(target, gast.Name) else target.value.id


def _needed(body, live: set, pops: set, needed: set) -> set:
    for stmt in reversed(body):
        if id(stmt) in pops:
            name = _written(stmt)
            if name in live:
                needed.add(id(stmt))
                if isinstance(stmt.targets[0], gast.Name):
                    live = live - {name}
                live = live | _loads(stmt.targets[0])
        elif isinstance(stmt, gast.If):
            live = (_needed(stmt.body, set(live), pops, needed)
                    | _needed(stmt.orelse, set(live), pops, needed) | _loads(stmt.test))
        elif isinstance(stmt, (gast.For, gast.While)):
            inside = set(live)
            while True:
                start = _needed(stmt.body, set(inside), pops, set())
                if start <= inside:
                    break
                inside |= start
            _needed(stmt.body, inside, pops, needed)
            live = inside | _loads(stmt.iter if isinstance(stmt, gast.For) else stmt.test)
        elif (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            live = (live - {stmt.targets[0].id}) | _loads(stmt.value)
        else:
            live = live | _loads(stmt)
    return live


def _loads(node) -> set:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def _cheap(value, counters: set) -> bool:
    """Whether computing ``value`` again costs about as little as saving it: an
    index into an array, or arithmetic on loop counters and constants."""
    if isinstance(value, (gast.Name, gast.Constant, gast.Subscript)):
        return True
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare)):
        return _loads(value) <= counters
    return False


def recomputable(loop: gast.For, fn: gast.FunctionDef) -> list:
    """The assignments at the top of ``loop``'s body that the adjoint loop can
    simply repeat instead of saving: cheap, reading only the loop variable,
    names the loop never assigns, and earlier such assignments; their
    targets assigned nowhere else and read only in the loop after them."""
    inside = _stores(loop) | _changed_in_place(loop)
    elsewhere = _all_stores(fn.body, loop)
    reads_outside = _loads_outside(fn.body, loop)
    allowed = {loop.target.id}
    counters = {loop.target.id}  # integers: the loop variable, and arithmetic on it
    found = []
    seen_reads = set()
    for stmt in loop.body:
        if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                and _cheap(stmt.value, counters)):
            name = stmt.targets[0].id
            reads = _loads(stmt.value)
            if (reads <= allowed | (reads - inside) and name not in elsewhere
                    and name not in reads_outside and name not in seen_reads
                    and _assigned_once(loop, name)):
                found.append(stmt)
                allowed.add(name)
                if not isinstance(stmt.value, gast.Subscript):
                    counters.add(name)
        seen_reads |= _loads(stmt)
    return found


def _changed_in_place(node) -> set:
    """Names of arrays written into and lists appended to in ``node``."""
    out = set()
    for n in gast.walk(node):
        if isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store) and isinstance(
                n.value, gast.Name):
            out.add(n.value.id)
        if (isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute)
                and n.func.attr == "append" and isinstance(n.func.value, gast.Name)):
            out.add(n.func.value.id)
    return out


def _assigned_once(loop, name) -> bool:
    return sum(1 for n in gast.walk(loop) if isinstance(n, gast.Name)
               and isinstance(n.ctx, gast.Store) and n.id == name) == 1


def _all_stores(body, skip) -> set:
    """Names assigned in ``body`` outside the statement ``skip``."""
    out = set()
    for stmt in body:
        if stmt is skip:
            continue
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            if isinstance(stmt, gast.For):
                out.add(stmt.target.id)
            out |= _all_stores(stmt.body + stmt.orelse, skip)
        else:
            out |= _stores(stmt)
    return out


def _loads_outside(body, skip) -> set:
    """Names read in ``body`` outside the statement ``skip``."""
    out = set()
    for stmt in body:
        if stmt is skip:
            continue
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            header = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            out |= _loads(header) | _loads_outside(stmt.body + stmt.orelse, skip)
        else:
            out |= _loads(stmt)
    return out
