"""Stage 5 (forward mode), forward: tangents interleaved with the primal.

Invariant established: the result is a function ``jvp_<name>(<params>,
d<p> for each p in wrt)`` that runs the primal statements in order, each
followed by the inlined forward rule that computes the tangent of its
target, and returns the output and its tangent.  Branches and loops keep
their shape: a tangent follows its value through them, so nothing is saved.
A tangent is a symbolic zero until a rule sets it: no code computes zeros,
except where control flow joins paths that disagree on whether it is set.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> from sourcegrad.parse import Namespace
>>> from sourcegrad.primitives import primitives
>>> from sourcegrad.activity import activity
>>> fn = gast.parse("def f(x, y):\\n    z = x * y\\n    return z").body[0]
>>> ops = primitives(fn, Namespace({}), None)
>>> print(to_source(forward(fn, ops, activity(fn, ops, {"x"}), ("x",), None)))
def jvp_f(x, y, *, dx):
    z = x * y
    dz = dx * y
    return (z, dz)
"""

from __future__ import annotations

import copy
import inspect
from typing import NamedTuple

import gast

from . import rules, runtime
from .errors import NoRuleError
from .inline import instantiate
from .names import Namer, attribute_chain, identifiers
from .primitives import is_append, is_write
from .tape import bindings
from .trees import clone


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _call(func: str, *args):
    return gast.Call(func=attribute_chain(func.split(".")), args=list(args), keywords=[])


def _assign(target, value):
    if isinstance(target, str):
        target = _name(target, gast.Store())
    return gast.Assign(targets=[target], value=value, type_comment=None)


def _is_call(node, name: str) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == name


def _pops(stmt) -> bool:
    """Whether ``stmt`` is ``list_pop(items)`` for its effect alone."""
    return (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Name) and stmt.value.func.id == "list_pop"
            and isinstance(stmt.value.args[0], gast.Name))


def _label(primitive) -> str:
    module = getattr(primitive, "__module__", None) or ""
    name = getattr(primitive, "__name__", repr(primitive))
    return f"np.{name}" if module.startswith("numpy") else name


class State(NamedTuple):
    """The tangents that hold a value, and those holding an array of the
    code's own that it may update in place."""

    init: frozenset
    owned: frozenset


def forward(fn: gast.FunctionDef, ops: dict, active, wrt, where, shapes=None,
            unit=None, name=None) -> gast.FunctionDef:
    """The forward-mode derivative of the normal-form function ``fn``, with
    respect to the parameters ``wrt``; ``unit`` names the forward functions of
    the user's functions that ``fn`` calls."""
    return _Forward(fn, ops, active, where, shapes, unit).build(wrt, name)


class _Forward:
    #: the generated functions' prefix, and the helpers that broadcast a term
    prefix = "jvp_"
    rebroadcasts = ("rebroadcast",)

    def __init__(self, fn, ops, active, where, shapes, unit):
        self.fn, self.ops, self.active, self.where = fn, ops, active, where
        self.shapes, self.unit = shapes, unit
        self.namer = Namer(identifiers(fn))
        self.tangents = {}
        self.primal_of = {}
        self.state = None  # the state the statement being transformed starts from
        self.bound = bindings(fn)

    def tangent(self, name):
        """The tangent's name for an active ``name`` (made on first request)."""
        if name not in self.active:
            return None
        if name not in self.tangents:
            self.tangents[name] = self.namer.fresh("d" + name)
            self.primal_of[self.tangents[name]] = name
        return self.tangents[name]

    def held(self, name):
        """The tangent of ``name`` if it holds a value now, else ``None`` (zero)."""
        t = self.tangent(name)
        return t if t in self.state.init else None

    def build(self, wrt, name=None) -> gast.FunctionDef:
        """``jvp_f(<params>, *, d<p>...)``; for a callee (``name`` given), the
        tangents come first: ``jvp_h(d<p>..., <params>)``."""
        fn = self.fn
        seeds = [self.tangent(w) or self.namer.fresh("d" + w) for w in wrt]
        self.seeds = seeds
        self.state = State(frozenset(t for t in seeds if t in self.primal_of), frozenset())
        body, state = self.block(fn.body[:-1], self.state)
        output = fn.body[-1].value.id
        t = self.tangents.get(output)
        result = _name(t) if t in state.init else self.zero(_name(output))
        ret = gast.Return(value=gast.Tuple(elts=[_name(output), result], ctx=gast.Load()))
        args = clone(fn.args)
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            a.annotation = None
        tangents = [_name(s, gast.Param()) for s in seeds]
        if name is None:
            args.kwonlyargs = args.kwonlyargs + tangents
            args.kw_defaults = args.kw_defaults + [None] * len(tangents)
        else:
            args.args = tangents + args.posonlyargs + args.args
            args.posonlyargs = []
        body = self.prologue(seeds) + body
        out = gast.FunctionDef(name=name or self.prefix + fn.name, args=args, body=body + [ret],
                               decorator_list=[], returns=None, type_comment=None,
                               type_params=[])
        return gast.copy_location(out, fn)

    # what batched forward mode (``forward_batched``) does otherwise -------

    def prologue(self, seeds) -> list:
        """Statements that start the function, before the primal's."""
        return []

    def zero(self, value):
        """The expression of a zero tangent of ``value``."""
        return _call("zero_tangent", value)

    def rule(self, stmt, op):
        """The forward template of the primitive ``stmt`` applies."""
        template = rules.lookup(op.primitive, "forward")
        if template is None:
            raise self.where.error(
                NoRuleError, stmt, f"no forward-mode rule for {_label(op.primitive)}",
                "Register one beside its reverse rule with sourcegrad.rules.forward.")
        return template

    def adjust(self, block, stmt) -> list:
        """The tangent statements of the rule instantiated for ``stmt``, final."""
        return block

    def own(self, tangent):
        """A copy of the tangent ``tangent`` that may be written into."""
        return _call("owned_tangent", tangent)

    def put(self, tangent: str, index, value):
        """The statement ``tangent[index] = value``."""
        slot = gast.Subscript(value=_name(tangent), slice=index, ctx=gast.Store())
        return _assign(slot, value)

    # statements ------------------------------------------------------------

    def block(self, stmts, state):
        out = []
        for stmt in stmts:
            code, state = self.statement(stmt, state)
            out.extend(code)
        return out, state

    def statement(self, stmt, state):
        self.state = state
        if is_write(stmt):
            return self.write(stmt, state)
        if is_append(stmt):
            return self.append(stmt, state)
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt, state)
        if isinstance(stmt, gast.If):
            return self.branch(stmt, state)
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, state)
        if _pops(stmt):  # items.pop() undoing an append: the tangents' list too
            items = stmt.value.args[0].id
            tangent = self.held(items)
            if tangent is not None:
                return [stmt, gast.Expr(value=_call("list_pop", _name(tangent)))], state
        return [stmt], state

    def assignment(self, stmt, state):
        target = stmt.targets[0].id
        op = self.ops[id(stmt)]
        tangent = self.tangent(target)
        state = State(state.init - {tangent}, state.owned - {tangent})  # overwritten
        self.state = state
        if tangent is None:
            return [stmt] + self.pop_tangent(op), state
        if op.callee is not None:
            return self.call(stmt, op, tangent, state)
        if op.template is None and op.missing is not None:
            raise op.missing  # no rule in either mode: never a silent zero
        if op.template is None:
            return [stmt], state
        template = self.rule(stmt, op)
        bound = template.bind(op.args, op.keywords)
        same = (lambda a, b: self.shapes.same(stmt, a, b)) if self.shapes else None
        block = instantiate(template, target, bound, self.tangent, self.namer, same, self.held)
        block = self.adjust(block, stmt)
        code, state = self.settle(block, state)
        return [stmt] + code, state

    def pop_tangent(self, op) -> list:
        """``list_pop(dtape)`` beside ``list_pop(tape)`` whose value has no
        tangent: the two lists must stay in step."""
        if op.primitive is not runtime.list_pop:
            return []
        items = op.args[0]
        tangent = self.held(items.id) if isinstance(items, gast.Name) else None
        return [gast.Expr(value=_call("list_pop", _name(tangent)))] if tangent else []

    def settle(self, block, state):
        """``dy += e``: ``dy = e`` the first time, ``dy = dy + e`` later."""
        out = []
        init, owned = state
        for stmt in block:
            if isinstance(stmt, gast.AugAssign):
                name, value = stmt.target.id, stmt.value
                if name in init:  # dy has y's shape already: + broadcasts the term
                    if any(_is_call(value, r) for r in self.rebroadcasts):
                        value = value.args[0]
                    value = gast.BinOp(left=_name(name), op=gast.Add(), right=value)
                init, owned = init | {name}, owned - {name}
                stmt = _assign(name, value)
            out.append(stmt)
        return out, State(init, owned)

    def zeros(self, names, stmt=None, arm=()) -> list:
        """``dx = zero_tangent(x)`` for each tangent in ``names``; ``0.0`` where
        ``x`` may be unbound before ``stmt`` and the branch ``arm`` does not
        bind it (then nothing on this path reads it)."""
        sure = self.bound.sure.get(id(stmt)) if stmt is not None else None
        if sure is not None:  # names every path through the arm binds
            sure = sure | {s.targets[0].id for s in arm if isinstance(s, gast.Assign)
                           and isinstance(s.targets[0], gast.Name)}
        return [_assign(t, gast.Constant(value=0.0, kind=None)
                        if sure is not None and self.primal_of[t] not in sure
                        else self.zero(_name(self.primal_of[t])))
                for t in sorted(names)]

    def write(self, stmt, state):
        """``y[index] = v``: ``dy[index] = dv`` in an array of the code's own."""
        target = stmt.targets[0]
        name, value = target.value.id, stmt.value
        tangent = self.tangent(name)
        if tangent is None:
            return [stmt], state
        part = self.held(value.id) if isinstance(value, gast.Name) else None
        if tangent not in state.init and part is None:
            return [stmt], state
        code = [stmt]
        if tangent not in state.init:
            code += self.zeros({tangent})
        elif tangent not in state.owned:
            code.append(_assign(tangent, self.own(_name(tangent))))
        code.append(self.put(tangent, clone(target.slice),
                             _name(part) if part else gast.Constant(value=0.0, kind=None)))
        return code, State(state.init | {tangent}, state.owned | {tangent})

    def append(self, stmt, state):
        """``items.append(v)``: ``ditems.append(dv)``."""
        call = stmt.value
        name, value = call.func.value.id, call.args[0]
        tangent = self.tangent(name)
        part = self.held(value.id) if isinstance(value, gast.Name) else None
        if tangent is None or (tangent not in state.init and part is None):
            return [stmt], state
        code = [stmt]
        if tangent not in state.init:  # zeros for the items before this one
            code.append(_assign(tangent, self.zero(_name(name))))
            code.append(gast.Expr(value=_call(tangent + ".pop")))
        item = _name(part) if part else self.zero(clone(value))
        code.append(gast.Expr(value=_call(tangent + ".append", item)))
        return code, State(state.init | {tangent}, state.owned)

    def call(self, stmt, op, tangent, state):
        """``y = h(a, b)`` with ``a`` active: ``y, dy = jvp_h(a, b, da)``."""
        params = list(inspect.signature(op.callee).parameters)
        active = [p for p in params if isinstance(op.bound.get(p), gast.Name)
                  and self.held(op.bound[p].id) is not None]
        if not active:
            return [stmt], state
        name = self.unit.forward_name(op.callee, tuple(active))
        value = gast.Call(func=_name(name),
                          args=[_name(self.held(op.bound[p].id)) for p in active],
                          keywords=[gast.keyword(arg=p, value=clone(v))
                                    for p, v in op.bound.items()])
        target = gast.Tuple(elts=[_name(stmt.targets[0].id, gast.Store()),
                                  _name(tangent, gast.Store())], ctx=gast.Store())
        new = gast.copy_location(_assign(target, value), stmt)
        return [new], State(state.init | {tangent}, state.owned)

    def branch(self, stmt, state):
        body, after_body = self.block(stmt.body, state)
        orelse, after_else = self.block(stmt.orelse, state)
        init = after_body.init | after_else.init
        body += self.zeros(init - after_body.init, stmt, stmt.body)
        orelse += self.zeros(init - after_else.init, stmt, stmt.orelse)
        owned = after_body.owned & after_else.owned
        new = gast.If(test=stmt.test, body=body or [gast.Pass()], orelse=orelse)
        return [gast.copy_location(new, stmt)], State(init, owned)

    def loop(self, stmt, state):
        """A loop's body starts each turn from one state: tangents the body sets
        that were not set before the loop start at zero, and those it drops
        are set to zero again at the end of the body.  A tangent the body
        writes into is copied once, before the loop, not on every turn."""
        start, before, hoisted = state, set(), set()
        while True:
            body, end = self.block(stmt.body, start)
            missing = end.init - start.init
            lost = start.owned - end.owned
            gained = (end.owned - start.owned) & start.init - hoisted
            if not missing and not lost and not gained:
                break
            before |= missing
            hoisted |= gained
            # a tangent first set in the body starts at fresh zeros: owned
            start = State(start.init | missing, start.owned - lost | gained | missing)
        hoisted &= start.owned
        body += self.zeros(start.init - end.init)
        new = copy.copy(stmt)
        new.body = body or [gast.Pass()]
        # a value first bound inside the loop is set before it is read each turn:
        # its tangent needs no zero before the loop (its value does not exist yet)
        sure = self.bound.sure.get(id(stmt), set())
        before = {t for t in before if self.primal_of[t] in sure}
        owns = [_assign(t, self.own(_name(t))) for t in sorted(hoisted)]
        return self.zeros(before) + owns + [new], start
