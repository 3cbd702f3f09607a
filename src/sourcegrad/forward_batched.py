"""Stage 5 (batched forward mode), forward_batched: B tangents in one pass.

Invariant established: the result is a function ``jvpb_<name>(<params>,
*, d<p>...)`` shaped like ``forward``'s ``jvp_<name>``, in which the tangent
of every value ``x`` has the shape ``(B,) + np.shape(x)`` (a list's tangent
is the list of its items' tangents): one call carries ``B`` directions, and
the seed ``np.eye(n).reshape((n,) + x.shape)`` gives the whole Jacobian.
Every rule comes from the batch-safe table of ``rules.batched``; a
primitive outside it raises ``NotBatchable``: never a guess.  Control flow
needs nothing new: branch decisions and trip counts read values only.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> from sourcegrad.parse import Namespace
>>> from sourcegrad.primitives import primitives
>>> from sourcegrad.activity import activity
>>> fn = gast.parse("def f(x, y):\\n    z = x * y\\n    return z").body[0]
>>> ops = primitives(fn, Namespace({}), None)
>>> print(to_source(forward_batched(fn, ops, activity(fn, ops, {"x"}), ("x",), None)))
def jvpb_f(x, y, *, dx):
    nbatch = batched_size(dx)
    z = x * y
    dz = batched_lift(dx, z) * y
    return (z, dz)
"""

from __future__ import annotations

import gast

from .errors import SourceGradError
from .forward import _assign, _call, _Forward, _label, _name
from .primitives import index_expression
from .rules.batched import lookup_batched


class NotBatchable(SourceGradError):
    """The function calls a primitive with no batch-safe forward rule: batched
    forward mode refuses it (``jacobian`` then runs one jvp per column)."""


def forward_batched(fn: gast.FunctionDef, ops: dict, active, wrt, where, shapes=None,
                    unit=None, name=None) -> gast.FunctionDef:
    """The batched forward-mode derivative of the normal-form function ``fn``
    with respect to the parameters ``wrt`` (see ``forward.forward``)."""
    return _Batched(fn, ops, active, where, shapes, unit).build(wrt, name)


class _Batched(_Forward):
    prefix = "jvpb_"
    rebroadcasts = ("rebroadcast", "batched_rebroadcast")

    def __init__(self, fn, ops, active, where, shapes, unit):
        super().__init__(fn, ops, active, where, shapes, unit)
        self.nbatch = self.namer.fresh("nbatch")

    def prologue(self, seeds) -> list:
        if not seeds:
            raise NotBatchable("no argument to differentiate")
        return [_assign(self.nbatch, _call("batched_size", *[_name(s) for s in seeds]))]

    def zero(self, value):
        return _call("batched_zeros", value, _name(self.nbatch))

    def rule(self, stmt, op):
        template = lookup_batched(op.primitive)
        if template is None:
            raise NotBatchable(f"{_label(op.primitive)} has no batch-safe forward rule")
        return template

    def adjust(self, block, stmt) -> list:
        """Zeros for the inactive items of a list get the batch axis; a lifted
        term needs no broadcast where its value has the result's shape."""
        target = stmt.targets[0].id
        batched = self

        class Adjust(gast.NodeTransformer):
            def visit_Call(self, call):
                self.generic_visit(call)
                func = call.func.id if isinstance(call.func, gast.Name) else None
                if func == "zeros_like":
                    return _call("batched_zeros", call.args[0], _name(batched.nbatch))
                if func == "batched_rebroadcast" and batched.lifted_alike(call.args[0], stmt):
                    return call.args[0]
                return call

        return [Adjust().visit(s) for s in block] if target else block

    def lifted_alike(self, term, stmt) -> bool:
        """Whether ``term`` is ``batched_lift(dx, y)`` for an ``x`` that has the
        shape of the result ``y`` of ``stmt``."""
        if not (isinstance(term, gast.Call) and isinstance(term.func, gast.Name)
                and term.func.id == "batched_lift" and isinstance(term.args[0], gast.Name)):
            return False
        primal = self.primal_of.get(term.args[0].id)
        target = stmt.targets[0].id
        return primal is not None and self.shapes is not None and self.shapes.same(
            stmt, target, primal)

    def own(self, tangent):
        return _call("batched_owned", tangent)

    def put(self, tangent: str, index, value):
        return gast.Expr(value=_call("batched_setitem", _name(tangent), index_expression(index),
                                     value))
