"""Stage 2b, comprehensions: list comprehensions and generator expressions
become loops.

Invariant established: no comprehension remains.  ``sum(e for x in xs)``
becomes a loop adding into a total; any other comprehension becomes a loop
appending to a list, computed just before the statement that uses it.  The
comprehension's own names are renamed, since a comprehension has a scope of
its own in Python and must not change the function's names.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> from sourcegrad.names import Namer
>>> body = gast.parse("y = sum(x[i] * w for i in range(n) if i > 0)").body
>>> print(to_source(gast.Module(body=expand(body, Namer({"x", "w", "n", "y"})),
...                             type_ignores=[])))
total = 0
for i in range(n):
    if i > 0:
        total = total + x[i] * w
y = total
"""

from __future__ import annotations

import dataclasses

import gast

from .errors import UnsupportedSyntaxError
from .names import Namer, identifiers
from .trees import clone

_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp)
_SCOPES = (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda, gast.ClassDef)


def comprehensions(parsed):
    """``parsed`` with its comprehensions expanded into loops."""
    node = parsed.node
    if not any(isinstance(n, _COMPREHENSIONS) for n in gast.walk(node)):
        return parsed
    node = clone(node)
    namer = Namer(_outside(node))
    try:
        node.body = expand(node.body, namer)
    except _Refused as refused:
        raise parsed.where.error(UnsupportedSyntaxError, refused.node, refused.message) from None
    return dataclasses.replace(parsed, node=node)


def _outside(node) -> set:
    """Identifiers of ``node`` outside its comprehensions' own names, which
    may then keep theirs."""
    own = {n.id for c in gast.walk(node) if isinstance(c, _COMPREHENSIONS)
           for gen in c.generators for n in gast.walk(gen.target) if isinstance(n, gast.Name)}
    inside = set()
    for c in gast.walk(node):
        if isinstance(c, _COMPREHENSIONS):
            inside |= {id(n) for n in gast.walk(c)}
    outside = {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and id(n) not in inside}
    return (identifiers(node) - own) | outside


class _Refused(Exception):
    def __init__(self, node, message):
        super().__init__(message)
        self.node, self.message = node, message


def expand(body: list, namer: Namer) -> list:
    """``body`` with every comprehension computed by a loop before its statement."""
    out = []
    for stmt in body:
        if isinstance(stmt, gast.While) and _has_comprehension(stmt.test):
            raise _Refused(stmt.test, "a comprehension in a 'while' test is not supported; "
                                      "compute it in the loop and test a name")
        before = []
        stmt = _Hoist(namer, before).visit_statement(stmt)
        for field in ("body", "orelse"):
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                setattr(stmt, field, expand(getattr(stmt, field), namer))
        out.extend(before)
        out.append(stmt)
    return out


def _has_comprehension(node) -> bool:
    return any(isinstance(n, _COMPREHENSIONS) for n in gast.walk(node))


class _Hoist(gast.NodeTransformer):
    """Replace the comprehensions of one statement's own expressions by names,
    appending the loops that compute them to ``before``."""

    def __init__(self, namer: Namer, before: list):
        self.namer, self.before = namer, before

    def visit_statement(self, stmt):
        if isinstance(stmt, (gast.If, gast.While)):
            stmt.test = self.visit(stmt.test)
            return stmt
        if isinstance(stmt, gast.For):
            stmt.iter = self.visit(stmt.iter)
            return stmt
        return self.visit(stmt)

    def generic_visit(self, node):
        if isinstance(node, _SCOPES):
            return node
        return super().generic_visit(node)

    def visit_Call(self, call):
        if (isinstance(call.func, gast.Name) and call.func.id == "sum" and call.args
                and isinstance(call.args[0], _COMPREHENSIONS) and not call.keywords):
            start = self.visit(call.args[1]) if len(call.args) > 1 else gast.Constant(
                value=0, kind=None)
            return self.loops(call.args[0], "total", start, _accumulate)
        return self.generic_visit(call)

    def visit_ListComp(self, comp):
        return self.loops(comp, "items", gast.List(elts=[], ctx=gast.Load()), _append)

    visit_GeneratorExp = visit_ListComp

    def loops(self, comp, hint: str, start, step):
        """Name ``hint`` set to ``start``, then ``step``'s update for each element."""
        name = self.namer.fresh(hint)
        comp = self.rename(comp)
        self.before.append(gast.copy_location(_assign(name, start), comp))
        inner = [step(name, comp.elt)]
        for gen in reversed(comp.generators):
            if gen.is_async:
                raise _Refused(comp, "an async comprehension is not supported")
            for test in reversed(gen.ifs):
                inner = [gast.If(test=test, body=inner, orelse=[])]
            inner = [gast.For(target=gen.target, iter=gen.iter, body=inner, orelse=[],
                              type_comment=None)]
        loop = inner[0]
        for node in gast.walk(loop):
            if isinstance(node, gast.stmt):
                gast.copy_location(node, comp)
        nested = []
        loop = _Hoist(self.namer, nested).visit_statement(loop)
        loop.body = expand(loop.body, self.namer)
        self.before.extend(nested + [loop])
        return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)

    def rename(self, comp):
        """``comp`` with the names its generators bind made fresh."""
        bound = {n.id for gen in comp.generators for n in gast.walk(gen.target)
                 if isinstance(n, gast.Name)}
        renames = {name: self.namer.fresh(name) for name in sorted(bound)}
        comp = clone(comp)
        for i, gen in enumerate(comp.generators):
            # the first iterable is evaluated outside the comprehension's scope
            parts = [gen.target, comp.elt] + gen.ifs + ([gen.iter] if i else [])
            for part in parts:
                for node in gast.walk(part):
                    if isinstance(node, gast.Name) and node.id in renames:
                        node.id = renames[node.id]
        return comp


def _assign(name: str, value):
    return gast.Assign(targets=[gast.Name(id=name, ctx=gast.Store(), annotation=None,
                                          type_comment=None)], value=value, type_comment=None)


def _accumulate(name: str, elt):
    total = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
    return _assign(name, gast.BinOp(left=total, op=gast.Add(), right=elt))


def _append(name: str, elt):
    items = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
    call = gast.Call(func=gast.Attribute(value=items, attr="append", ctx=gast.Load()),
                     args=[elt], keywords=[])
    return gast.Expr(value=call)
