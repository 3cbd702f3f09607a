"""Stage 2b, lower: structured control flow with one exit.

Invariant established: the function ends with its only ``return``; no
``continue`` remains; a ``break`` is the last statement of an ``if`` branch,
and what followed the jump runs in the other branch (or under a flag that
the jump sets); every ``for`` loop iterates over ``range(...)`` (through
``enumerate``, ``zip`` and ``reversed`` too), whose bounds and whose
sequence are evaluated once, before the loop, as Python does, and whose
index the body does not assign.  Jumps become branch decisions, which the
reverse pass replays like any other value.  Flags nobody reads are left to
dead-code elimination.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> fn = gast.parse('''
... def f(xs, c):
...     for x in xs:
...         if x > c:
...             return x
...         c = c + x
...     return c
... ''').body[0]
>>> print(to_source(lower(fn)))
def f(xs, c):
    returned = False
    for i in range(len(xs)):
        x = xs[i]
        if x > c:
            out = x
            returned = True
            break
        else:
            c = c + x
    if not returned:
        out = c
        returned = True
    return out
"""

from __future__ import annotations

import builtins
import keyword
from typing import NamedTuple

import gast

from .names import Namer, identifiers
from .trees import clone

_LOOPS = (gast.For, gast.While)
_SCOPES = (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda, gast.ClassDef)


def _name(id_, store=False):
    ctx = gast.Store() if store else gast.Load()
    return gast.Name(id=id_, ctx=ctx, annotation=None, type_comment=None)


def _assign(name, value):
    return gast.Assign(targets=[_name(name, True)], value=value, type_comment=None)


def _const(value):
    return gast.Constant(value=value, kind=None)


def _not(name):
    return gast.UnaryOp(op=gast.Not(), operand=_name(name))


def _walk(node):
    """Nodes of ``node``'s own scope (nested functions and lambdas excluded)."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        for child in gast.iter_child_nodes(current):
            if not isinstance(child, _SCOPES):
                todo.append(child)


def _contains(stmt, kinds, through_loops=True) -> bool:
    todo = [stmt]
    while todo:
        current = todo.pop()
        if isinstance(current, kinds):
            return True
        for child in gast.iter_child_nodes(current):
            if isinstance(child, _SCOPES) or (not through_loops and isinstance(child, _LOOPS)):
                continue
            todo.append(child)
    return False


def lower(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of ``fn`` in the lowered form described above."""
    fn = clone(fn)
    namer = Namer(identifiers(fn) | {a.id for a in gast.walk(fn.args) if isinstance(a, gast.Name)})
    fn.body = _Lowering(namer, fn.name).function(fn.body)
    return fn


class _Lowering:
    def __init__(self, namer: Namer, name: str):
        self.namer = namer
        self.out = None
        self.returned = None
        self.base = "out" if name.startswith("lambda_") else name

    # returns ---------------------------------------------------------------

    def function(self, body: list) -> list:
        body = self.loops(body)
        last = body[-1] if body else None
        early = any(_contains(s, gast.Return) for s in body[:-1]) or (
            last is not None and not isinstance(last, gast.Return) and _contains(last, gast.Return))
        if early:
            self.out = self.namer.fresh("out")
            self.returned = self.namer.fresh("returned")
            body = [_assign(self.returned, _const(False))] + self.exits(body, False) + [
                gast.Return(value=_name(self.out))]
        return self.loop_jumps(body)

    def exits(self, body: list, in_loop: bool) -> list:
        """``body`` with each ``return v`` turned into ``out = v; returned = True``
        (and ``break`` in a loop); what follows a returning statement runs
        only when it did not return."""
        out = []
        for i, stmt in enumerate(body):
            rest = body[i + 1:]
            if isinstance(stmt, gast.Return):
                out.append(gast.copy_location(_assign(self.out, stmt.value), stmt))
                out.append(gast.copy_location(_assign(self.returned, _const(True)), stmt))
                if in_loop:
                    out.append(gast.copy_location(gast.Break(), stmt))
                return out
            if not _contains(stmt, gast.Return):
                out.append(stmt)
                continue
            if isinstance(stmt, gast.If):
                # what follows a branch that always exits runs in the other
                # branch: lowered together with it, so that a return nested
                # there (an elif's) guards it too
                body_exits, else_exits = _always_exits(stmt.body), _always_exits(stmt.orelse)
                after_body = rest if rest and else_exits and not body_exits else []
                after_else = rest if rest and body_exits else []
                stmt.body = self.exits(stmt.body + after_body, in_loop) or [gast.Pass()]
                stmt.orelse = self.exits(stmt.orelse + after_else, in_loop)
                out.append(stmt)
                if rest and not (body_exits or else_exits):
                    out.append(self.guard(rest, in_loop))
                return out
            stmt.body = self.exits(stmt.body, True)
            out.append(stmt)
            if in_loop:
                out.append(gast.copy_location(gast.If(
                    test=_name(self.returned), body=[gast.Break()],
                    orelse=self.exits(rest, in_loop)), stmt))
            elif rest:
                out.append(self.guard(rest, in_loop))
            return out
        return out

    def guard(self, rest: list, in_loop: bool):
        guard = gast.If(test=_not(self.returned), body=self.exits(rest, in_loop), orelse=[])
        return gast.copy_location(guard, rest[0])

    # loops -------------------------------------------------------------------

    def loop_jumps(self, body: list) -> list:
        """Lower ``break`` and ``continue`` in every loop of ``body``."""
        for stmt in body:
            for field in ("body", "orelse"):
                if isinstance(stmt, (gast.If, gast.For, gast.While)):
                    setattr(stmt, field, self.loop_jumps(getattr(stmt, field)))
            if isinstance(stmt, _LOOPS):
                stmt.body = self.jumps(stmt.body) or [gast.Pass()]
        return body

    def loops(self, body: list) -> list:
        """Every ``for`` loop in ``body`` iterating over ``range``."""
        out = []
        for stmt in body:
            for field in ("body", "orelse"):
                if isinstance(stmt, (gast.If, gast.For, gast.While)):
                    setattr(stmt, field, self.loops(getattr(stmt, field)))
            out.extend(self.range_loop(stmt) if isinstance(stmt, gast.For) else [stmt])
        return out

    def range_loop(self, loop: gast.For) -> list:
        """``for x in xs`` as ``for i in range(len(xs)): x = xs[i]`` (likewise
        through ``enumerate``, ``zip`` and ``reversed``), and the statements
        that go before it.  Python evaluates the iterable once: an expression,
        or a name the body assigns, is bound to a fresh name before the loop.
        The loop's index is not assigned in the body, so that the adjoint
        loop, which sets it, sees the value each turn left in it."""
        head = _Head(loop, _stores_in(loop), [])
        if _reversed_range(loop.iter):  # reversed(range(n)): range(n - 1, -1, -1)
            bounds = loop.iter.args[0].args
            start, stop = bounds if len(bounds) == 2 else (_const(0), bounds[0])
            loop.iter = gast.copy_location(gast.Call(func=_name("range"), args=[
                _minus_one(stop), _minus_one(start), _const(-1)], keywords=[]), loop.iter)
        if _call_to(loop.iter, "range"):
            args = loop.iter.args
            names = ["start", "stop", "step"] if len(args) > 1 else ["stop"]
            loop.iter.args = [self.once(a, n, head) if _loads(a) & head.stored else a
                              for a, n in zip(args, names)]
            if isinstance(loop.target, gast.Name) and loop.target.id in _stores_in(loop.body):
                target, index = loop.target, self.namer.fresh(loop.target.id)
                loop.target = _name(index, True)
                loop.body = [gast.copy_location(_assign(target.id, _name(index)), loop)] + loop.body
            return head.before + [loop]
        counter = _enumerate_counter(loop)
        if counter in _stores_in(loop.body):
            counter = None
        index = counter or self.namer.fresh("i")
        items, lengths = [], []
        self.items(loop.target, loop.iter, index, items, lengths, counter, head)
        for item in items:  # located at the loop's header, 'for x in xs'
            _at_header(item, loop)
        length = lengths[0] if len(lengths) == 1 else gast.Call(
            func=_name("min"), args=lengths, keywords=[])
        loop.target = _name(index, True)
        loop.iter = gast.Call(func=_name("range"), args=[length], keywords=[])
        loop.body = items + loop.body
        return head.before + [loop]

    def once(self, expr, name: str, head):
        """``expr``, or a fresh name bound to it before the loop (appended to
        ``head.before``) where reading it each turn could differ from reading
        it once: an expression that is not a constant, or a name that the
        loop assigns."""
        if isinstance(expr, gast.Constant) or (
                isinstance(expr, gast.Name) and expr.id not in head.stored) or (
                _negative_constant(expr)):
            return expr
        fresh = self.namer.fresh(name)
        head.before.append(_at_header(_assign(fresh, expr), head.loop))
        return _name(fresh)

    def items(self, target, source, index, items, lengths, counter, head) -> None:
        """The assignments that give ``target`` its item of ``source``."""
        pair = isinstance(target, gast.Tuple) and len(target.elts) == 2
        if _call_to(source, "enumerate") and pair and 1 <= len(source.args) <= 2:
            first, second = target.elts
            if not (isinstance(first, gast.Name) and first.id == counter):
                value = self.count(source, index, head)
                items.append(gast.Assign(targets=[first], value=value, type_comment=None))
            self.items(second, source.args[0], index, items, lengths, counter, head)
        elif _call_to(source, "zip") and isinstance(target, gast.Tuple) and len(
                target.elts) == len(source.args) and not source.keywords:
            for sub, part in zip(target.elts, source.args):
                self.items(sub, part, index, items, lengths, counter, head)
        else:
            value = self.item(source, index, lengths, head, target)
            items.append(gast.Assign(targets=[target], value=value, type_comment=None))

    def count(self, source, index, head):
        """The count of ``enumerate(xs, start)`` at ``index``."""
        start = _enumerate_start(source)
        if start is None:
            return _name(index)
        return gast.BinOp(left=_name(index), op=gast.Add(), right=self.once(start, "start", head))

    def item(self, source, index, lengths, head, target):
        """The expression of ``source``'s item number ``index`` (its length
        appended to ``lengths``): a tuple through ``enumerate`` and ``zip``."""
        if _call_to(source, "enumerate") and 1 <= len(source.args) <= 2:
            return gast.Tuple(elts=[self.count(source, index, head),
                                    self.item(source.args[0], index, lengths, head, None)],
                              ctx=gast.Load())
        if _call_to(source, "zip") and not source.keywords:
            return gast.Tuple(elts=[self.item(a, index, lengths, head, None)
                                    for a in source.args], ctx=gast.Load())
        plural = _plural(target)
        if _dict_view(source):  # d.items(), d.keys(), d.values(): by a list of the keys
            mapping = self.once(source.func.value, "mapping", head)
            keys = self.once(gast.Call(func=_name("list"), args=[mapping], keywords=[]),
                             "keys", head)
            lengths.append(_len(keys))
            key = gast.Subscript(value=keys, slice=_name(index), ctx=gast.Load())
            value = gast.Subscript(value=mapping, slice=key, ctx=gast.Load())
            return {"keys": key, "values": value}.get(source.func.attr, gast.Tuple(
                elts=[clone(key), value], ctx=gast.Load()))
        if _call_to(source, "reversed") and len(source.args) == 1 and not source.keywords:
            sequence = self.once(source.args[0], plural, head)
            last = self.once(_minus_one(_len(sequence)), "last", head)
            lengths.append(_len(sequence))
            position = gast.BinOp(left=last, op=gast.Sub(), right=_name(index))
            return gast.Subscript(value=sequence, slice=position, ctx=gast.Load())
        sequence = self.once(source, plural, head)
        lengths.append(_len(sequence))
        return gast.Subscript(value=sequence, slice=_name(index), ctx=gast.Load())

    def jumps(self, body: list) -> list:
        """A loop body with no ``continue``, and each ``break`` last in its
        branch; what follows a jump runs only when it did not jump."""
        out = []
        for i, stmt in enumerate(body):
            rest = body[i + 1:]
            if isinstance(stmt, gast.Continue):
                return out
            if isinstance(stmt, gast.Break):
                return out + [stmt]
            if not (isinstance(stmt, gast.If) and _contains(stmt, _JUMPS, False)):
                out.append(stmt)
                continue
            body_jumps, else_jumps = _always_jumps(stmt.body), _always_jumps(stmt.orelse)
            if rest and not (body_jumps or else_jumps):
                flag = self.namer.fresh("skip")
                _flag_jumps(stmt, flag)
                out.append(gast.copy_location(_assign(flag, _const(False)), stmt))
                rest = [gast.copy_location(gast.If(test=_not(flag), body=rest, orelse=[]), rest[0])]
            # what follows a branch that always jumps runs in the other branch,
            # lowered with it (a jump nested there skips it too)
            after_body = rest if rest and else_jumps and not body_jumps else []
            after_else = rest if rest and body_jumps else []
            stmt.body = self.jumps(stmt.body + after_body) or [gast.Pass()]
            stmt.orelse = self.jumps(stmt.orelse + after_else)
            if rest and not (body_jumps or else_jumps):
                return out + [stmt] + self.jumps(rest)
            return out + [stmt]
        return out


_JUMPS = (gast.Break, gast.Continue)


def _always_exits(body: list) -> bool:
    return _ends_with(body, (gast.Return, gast.Break, gast.Continue))


def _always_jumps(body: list) -> bool:
    return _ends_with(body, _JUMPS)


def _ends_with(body: list, kinds) -> bool:
    if not body:
        return False
    last = body[-1]
    if isinstance(last, kinds):
        return True
    if isinstance(last, gast.If):
        return _ends_with(last.body, kinds) and _ends_with(last.orelse, kinds)
    return False


def _flag_jumps(stmt, flag: str) -> None:
    """Set ``flag`` before every jump of this loop inside ``stmt``."""
    for node in _walk_loop(stmt):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                i = 0
                while i < len(block):
                    if isinstance(block[i], _JUMPS):
                        block.insert(i, gast.copy_location(_assign(flag, _const(True)), block[i]))
                        i += 1
                    i += 1


def _walk_loop(node):
    """``node`` and its descendants, not entering nested loops or functions."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        for child in gast.iter_child_nodes(current):
            if not isinstance(child, _SCOPES + _LOOPS):
                todo.append(child)


def _call_to(node, name: str) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == name


def _enumerate_counter(loop: gast.For):
    """The counter's name in ``for i, x in enumerate(xs)``, to serve as the index."""
    target, it = loop.target, loop.iter
    if (_call_to(it, "enumerate") and _enumerate_start(it) is None
            and isinstance(target, gast.Tuple) and len(target.elts) == 2
            and isinstance(target.elts[0], gast.Name)):
        return target.elts[0].id
    return None


def _enumerate_start(call):
    """The ``start`` of ``enumerate(xs, start)`` (positional or keyword), or ``None``."""
    if len(call.args) > 1:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "start"), None)


def _stores_in(node) -> set:
    """Names that ``node`` (a statement or a list of them) assigns, nested
    scopes excluded."""
    nodes = node if isinstance(node, list) else [node]
    return {n.id for stmt in nodes for n in _walk(stmt)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _loads(node) -> set:
    return {n.id for n in _walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _negative_constant(node) -> bool:
    return (isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)
            and isinstance(node.operand, gast.Constant))


class _Head(NamedTuple):
    """A ``for`` loop being lowered: the names it assigns, and the statements
    that go before it."""

    loop: gast.For
    stored: set
    before: list


def _at_header(stmt, loop):
    """``stmt`` located at ``loop``'s header, ``for x in xs``."""
    gast.copy_location(stmt, loop)
    stmt.end_lineno, stmt.end_col_offset = loop.iter.end_lineno, loop.iter.end_col_offset
    return stmt


def _plural(target) -> str:
    """A name for the sequence whose items ``target`` takes: ``xs`` for ``x``."""
    if isinstance(target, gast.Name):
        plural = target.id + "s"
        if not keyword.iskeyword(plural) and not hasattr(builtins, plural):
            return plural
    return "items"


def _reversed_range(node) -> bool:
    """``reversed(range(stop))`` or ``reversed(range(start, stop))``."""
    return (_call_to(node, "reversed") and len(node.args) == 1 and not node.keywords
            and _call_to(node.args[0], "range") and 1 <= len(node.args[0].args) <= 2
            and not node.args[0].keywords)


def _minus_one(node):
    if isinstance(node, gast.Constant) and isinstance(node.value, int):
        return _const(node.value - 1)
    return gast.BinOp(left=node, op=gast.Sub(), right=_const(1))


def _dict_view(node) -> bool:
    """Whether ``node`` is ``d.items()``, ``d.keys()`` or ``d.values()``."""
    return (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and node.func.attr in ("items", "keys", "values") and not node.args
            and not node.keywords)


def _len(node):
    return gast.Call(func=_name("len"), args=[node], keywords=[])
