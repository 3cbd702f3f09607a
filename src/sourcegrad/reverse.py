"""Stage 5, reverse: the primal sweep, then the adjoint sweep.

Invariant established: the result is a function ``grad_<name>(<params>,
b<out>=1.0)`` that runs the primal statements unchanged, then, in reverse
order, the inlined reverse rule of every statement whose target is active,
and returns the output and the adjoints of the ``wrt`` parameters.  Each
adjoint block is preceded by a ``# grad of:`` comment naming its source line.
The first contribution to an adjoint assigns it; later ones add to it, so no
adjoint is ever initialised to zero and none is updated in place.
A call with no derivative rule raises its ``NoRuleError`` here, and only
if its result is active.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> from sourcegrad.parse import Namespace
>>> from sourcegrad.primitives import primitives
>>> from sourcegrad.activity import activity
>>> fn = gast.parse("def f(x, y):\\n    z = x * y\\n    return z").body[0]
>>> ops = primitives(fn, Namespace({}), None)
>>> print(to_source(reverse(fn, ops, activity(fn, ops, {"x"}), ("x",), None)))
def grad_f(x, y, bz=1.0):
    # primal
    z = x * y
    # adjoint
    # grad of: z = x * y
    bx = unbroadcast(bz * y, x)
    return (z, bx)
"""

from __future__ import annotations

import gast

from .emit import comment, to_source
from .inline import instantiate
from .names import Namer, identifiers


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def reverse(fn: gast.FunctionDef, ops: list, active, wrt, where, single=True,
            shapes=None) -> gast.FunctionDef:
    """The reverse-mode derivative of the single-assignment function ``fn``.

    ``wrt`` lists parameter names; ``single`` returns one gradient rather
    than a tuple of them; ``shapes`` (a ``shapes.Shapes``) lets adjoints skip
    ``unbroadcast`` where shapes provably match.
    """
    return _Reverse(fn, ops, active, where, shapes).build(wrt, single)


class _Reverse:
    def __init__(self, fn, ops, active, where, shapes=None):
        self.fn, self.ops, self.active, self.where = fn, ops, active, where
        self.same_shape = shapes.same if shapes is not None else None
        self.namer = Namer(identifiers(fn))
        self.adjoints = {}
        self.initialized = set()

    def adjoint_of(self, name):
        if name not in self.active:
            return None
        if name not in self.adjoints:
            self.adjoints[name] = self.namer.fresh("b" + name)
        return self.adjoints[name]

    def build(self, wrt, single) -> gast.FunctionDef:
        fn = self.fn
        output = fn.body[-1].value.id
        seed = self.namer.fresh("b" + output)
        if output in self.active:
            self.adjoints[output] = seed
            self.initialized.add(seed)
        self.require_rules()
        sweep = self.sweep()
        grads = [_name(self.adjoints[w]) if self.adjoints.get(w) in self.initialized
                 else gast.Call(func=_name("zeros_like"), args=[_name(w)], keywords=[])
                 for w in wrt]
        grad = grads[0] if single else gast.Tuple(elts=grads, ctx=gast.Load())
        ret = gast.Return(value=gast.Tuple(elts=[_name(output), grad], ctx=gast.Load()))
        body = [comment("primal")] + fn.body[:-1] + ([comment("adjoint")] + sweep if sweep else [])
        args = _with_seed(fn.args, seed)
        out = gast.FunctionDef(name="grad_" + fn.name, args=args, body=body + [ret],
                               decorator_list=[], returns=None, type_comment=None,
                               type_params=[])
        return gast.copy_location(out, fn)

    def require_rules(self) -> None:
        """Raise the error of the first active call that has no usable rule."""
        for stmt, op in zip(self.fn.body, self.ops):
            if op is not None and op.missing is not None and stmt.targets[0].id in self.active:
                raise op.missing

    def sweep(self) -> list:
        out = []
        last_line = None
        for stmt, op in reversed(list(zip(self.fn.body, self.ops))):
            if op is None or op.template is None:
                continue
            target = stmt.targets[0].id
            if self.adjoints.get(target) not in self.initialized:
                continue
            block = instantiate(op.template, target, op.bound, self.adjoint_of, self.namer,
                                self.same_shape)
            block = [self.settle(s) for s in block]
            if not block:
                continue
            line = _span(stmt)
            if line != last_line:
                out.append(comment("grad of: " + self.source_text(stmt)))
                last_line = line
            out.extend(block)
        return out

    def settle(self, stmt):
        """``bx += e`` becomes ``bx = e`` the first time, ``bx = bx + e`` later."""
        if not isinstance(stmt, gast.AugAssign):
            return stmt
        name = stmt.target.id
        value = stmt.value
        if name in self.initialized:
            value = gast.BinOp(left=_name(name), op=gast.Add(), right=value)
        self.initialized.add(name)
        return gast.Assign(targets=[_name(name, gast.Store())], value=value, type_comment=None)

    def source_text(self, stmt) -> str:
        """The user's statement that ``stmt`` came from, on one line."""
        text = self.where.segment(stmt) if self.where else ""
        return text or to_source(stmt)


def _span(stmt):
    """Where in the user's file ``stmt`` came from (its original statement)."""
    return tuple(getattr(stmt, a, None)
                 for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"))


def _with_seed(args: gast.arguments, seed: str) -> gast.arguments:
    """``args`` with the seed ``seed=1.0`` after the positional parameters, and
    without annotations (the generated module need not know the types' names)."""
    return gast.arguments(
        args=_params(args.args) + [_name(seed, gast.Param())],
        posonlyargs=_params(args.posonlyargs), vararg=None,
        kwonlyargs=_params(args.kwonlyargs), kw_defaults=list(args.kw_defaults),
        kwarg=None, defaults=list(args.defaults) + [gast.Constant(value=1.0, kind=None)],
    )


def _params(names) -> list:
    return [_name(p.id, gast.Param()) for p in names]
