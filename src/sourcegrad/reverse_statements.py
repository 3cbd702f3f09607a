"""Statements of the adjoint sweep: the reverse pass's methods for control
flow (branches replayed, loops run backwards) and for effects (writes into
arrays, list appends, calls of the user's functions).  Mixins of the reverse
pass's ``_Reverse``, which provides the state they use.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import gast

from .names import attribute_chain
from .primitives import index_expression
from .tape import pop
from .trees import clone


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _call(func: str, *args):
    """``func(*args)``; ``func`` may be dotted, as in ``np.copy``."""
    return gast.Call(func=attribute_chain(func.split(".")), args=list(args), keywords=[])


class State(NamedTuple):
    """What the adjoint sweep knows at a point: the adjoints that hold a value,
    and those holding an array of its own that nothing else refers to."""

    init: frozenset
    owned: frozenset


def _loads(node) -> set:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def _call_to(node, name: str) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == name


class Effects:
    """The adjoints of statements that change a value in place, and of calls."""

    def write(self, stmt, state):
        """The adjoint of ``y[index] = v``: ``v`` gets the adjoint of the items
        written, whose adjoint starts again from zero (in place, in an array of
        the sweep's own); the items' old values come back from the tape."""
        target = stmt.targets[0]
        name, value = target.value.id, stmt.value
        adjoint = self.adjoints.get(name)
        code = []
        if adjoint in state.init:
            index = index_expression(clone(target.slice))
            if isinstance(value, gast.Name) and self.adjoint_of(value.id) is not None:
                part = _call("unbroadcast", _call("pick", _name(adjoint), index, value), value)
                owned = adjoint in state.owned  # pick copies: the adjoint stays unshared
                code, state = self.settle([gast.AugAssign(
                    target=_name(self.adjoint_of(value.id), gast.Store()), op=gast.Add(),
                    value=part)], state)
                if owned:
                    state = State(state.init, state.owned | {adjoint})
            if adjoint not in state.owned:
                code.append(gast.Assign(targets=[_name(adjoint, gast.Store())],
                                        value=_call("owned", _name(adjoint)), type_comment=None))
            code.append(gast.Assign(
                targets=[gast.Subscript(value=_name(adjoint), slice=clone(target.slice),
                                        ctx=gast.Store())],
                value=gast.Constant(value=0.0, kind=None), type_comment=None))
            state = State(state.init, state.owned | {adjoint})
        if name in self.saved:
            old = gast.Subscript(value=_name(name), slice=clone(target.slice),
                                 ctx=gast.Load())
            restore = gast.copy_location(pop(self.tape, gast.Subscript(
                value=_name(name), slice=clone(target.slice), ctx=gast.Store())), stmt)
            self.pops[id(restore)] = (id(stmt), _call("np.copy", old), restore)
            code.append(restore)
        return code, state

    def append(self, stmt, state):
        """The adjoint of ``items.append(v)``: ``v`` gets the adjoint of the last
        item, then the append is undone (the list is as it was before it)."""
        call = stmt.value
        name, value = call.func.value.id, call.args[0]
        adjoint = self.adjoints.get(name)
        code = []
        if (adjoint in state.init and isinstance(value, gast.Name)
                and self.adjoint_of(value.id) is not None):
            last = gast.BinOp(left=_call("len", _name(name)), op=gast.Sub(),
                              right=gast.Constant(value=1, kind=None))
            code, state = self.settle([gast.AugAssign(
                target=_name(self.adjoint_of(value.id), gast.Store()), op=gast.Add(),
                value=_call("item", _name(adjoint), last, value))], state)
        if name in self.saved:
            undo = gast.Call(func=gast.Attribute(value=_name(name), attr="pop", ctx=gast.Load()),
                             args=[], keywords=[])
            code.append(gast.copy_location(gast.Expr(value=undo), stmt))
        return code, state

    def call(self, stmt, op, adjoint) -> list:
        """At an active call of the user's function: the primal calls its
        primal part, keeping the record; the adjoint calls its adjoint part."""
        target = stmt.targets[0].id
        params = list(inspect.signature(op.callee).parameters)
        active = [p for p in params if isinstance(op.bound.get(p), gast.Name)
                  and self.adjoint_of(op.bound[p].id) is not None]
        forward, backward = self.unit.split_names(op.callee, tuple(active))
        record = self.records[id(stmt)]
        value = clone(stmt.value)
        value.func = _name(forward)
        self.calls[id(stmt)] = gast.copy_location(gast.Assign(
            targets=[gast.Tuple(elts=[_name(target, gast.Store()), _name(record, gast.Store())],
                                ctx=gast.Store())], value=value, type_comment=None), stmt)
        grads = self.namer.fresh("b" + op.callee.__name__.strip("<>") + "_args")
        out = [gast.Assign(targets=[_name(grads, gast.Store())],
                           value=_call(backward, _name(record), _name(adjoint)), type_comment=None)]
        for i, param in enumerate(active):
            item = gast.Subscript(value=_name(grads), slice=gast.Constant(value=i, kind=None),
                                  ctx=gast.Load())
            out.append(gast.AugAssign(target=_name(self.adjoint_of(op.bound[param].id),
                                                   gast.Store()), op=gast.Add(), value=item))
        return out


class ControlFlow:
    """The adjoints of branches and loops."""

    def branch(self, stmt, state, heading):
        body, after_body = self.block(stmt.body, state, heading)
        orelse, after_else = self.block(stmt.orelse, state, heading)
        init = after_body.init | after_else.init
        body += self.zeros(init - after_body.init, state.init, stmt)
        orelse += self.zeros(init - after_else.init, state.init, stmt)
        owned = ((after_body.owned | (init - after_body.init))
                 & (after_else.owned | (init - after_else.init)))
        after = State(init, owned)
        if not body and not orelse:
            return [], after
        return [gast.If(test=clone(stmt.test), body=body or [gast.Pass()],
                        orelse=orelse)], after

    def loop(self, stmt, state, heading):
        """The loop run backwards.  Adjoints set inside that were not set before
        start at zero; adjoints the body consumes are zeroed for the next turn."""
        start, before = state, frozenset()
        while True:
            body, end = self.block(stmt.body, start, heading)
            missing = end.init - start.init
            lost = start.owned - end.owned - (start.init - end.init)
            if not missing and not lost:
                break
            before |= missing
            start = State(start.init | missing, (start.owned | missing) - lost)
        gained = end.owned - start.owned - (end.init - start.init)
        if gained:  # the body copies an adjoint to update it in place: copy it once
            start = State(start.init, start.owned | gained)
            body, end = self.block(stmt.body, start, heading)
        body += self.zeros(start.init - end.init, start.init)
        body = self.recompute(stmt, body) + body
        code = self.zeros(before, stmt=stmt) + [gast.Assign(
            targets=[_name(b, gast.Store())], value=_call("owned", _name(b)),
            type_comment=None) for b in sorted(gained)]
        if not body:
            return code, start
        counter = self.counters.get(id(stmt))
        if counter is not None:
            self.counted.add(id(stmt))
            if id(stmt) in self.nested:
                code.append(pop(self.tape, counter))
        code.append(gast.For(target=self.loop_target(stmt), iter=self.backwards(stmt),
                             body=body, orelse=[], type_comment=None))
        return code, start

    def recompute(self, loop, body) -> list:
        """The loop's cheap assignments that ``body`` reads, directly or not."""
        needed = _loads(gast.Module(body=body, type_ignores=[]))
        out = []
        for stmt in reversed(self.remat.get(id(loop), ())):
            if stmt.targets[0].id in needed:
                out.insert(0, clone(stmt))
                needed |= _loads(stmt.value)
        return out

    def loop_target(self, stmt):
        if isinstance(stmt, gast.For):
            return clone(stmt.target)
        return _name(self.namer.fresh("_"), gast.Store())

    def backwards(self, stmt):
        """What the adjoint loop iterates over."""
        counter = self.counters.get(id(stmt))
        if isinstance(stmt, gast.While):
            return _call("range", _name(counter))
        iterate = clone(stmt.iter)
        if counter is not None:
            iterate = gast.Subscript(value=iterate, slice=gast.Slice(
                lower=None, upper=_name(counter), step=None), ctx=gast.Load())
        return _call("reversed", iterate)
