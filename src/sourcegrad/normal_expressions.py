"""Expressions of the normal form: the part of ``normalize`` that turns an
expression into one operation over atoms, adding temporaries for its parts.

Method calls and attributes of arrays become NumPy calls (``x.sum(axis=0)``
is ``np.sum(x, axis=0)``, ``x.T`` is ``np.transpose(x)``); NumPy and ``math``
are spelled ``np.`` and ``math.`` however the user imported them; a
temporary is named after the operation that made it (``matmul``, ``tanh``).
"""

from __future__ import annotations

import types

import gast
import numpy as np

from .names import attribute_chain, canonical, dotted, resolve

#: Temporaries are named after the operation that made them.
OPERATOR_NAMES = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "div",
    gast.Pow: "power", gast.MatMult: "matmul", gast.Mod: "mod",
    gast.FloorDiv: "floordiv", gast.USub: "neg", gast.Not: "negation",
    gast.Invert: "inverted", gast.BitAnd: "both", gast.BitOr: "either",
}

#: Expressions the normal form has no place for, as a user would name them.
EXPRESSIONS = {gast.JoinedStr: "an f-string", gast.FormattedValue: "an f-string",
               gast.Slice: "a slice outside an index"}

#: Temporaries named after a builtin would shadow it: these are renamed.
CALL_NAMES = {"sum": "total", "max": "maxval", "min": "minval", "abs": "absval",
              "round": "rounded", "len": "length", "float": "value", "pow": "power"}

#: Array methods and the NumPy function each becomes.
METHODS = {
    name: name for name in (
        "sum", "mean", "max", "min", "prod", "std", "var", "dot", "reshape",
        "transpose", "swapaxes", "squeeze", "ravel", "copy", "astype", "clip",
        "argmax", "argmin", "round", "cumsum", "any", "all", "nonzero", "argsort",
    )
}
METHODS["flatten"] = "ravel"
#: Methods whose positional arguments pack into one tuple: ``x.reshape(2, 3)``.
PACKED = {"reshape", "transpose"}
#: sourcegrad's own entry points, which a differentiated function may not call yet.
DERIVATIVES = {"grad", "value_and_grad", "jacobian", "hessian", "hvp", "vjp", "jvp"}

#: Array attributes and the NumPy function each becomes.
ATTRIBUTES = {"T": "transpose", "shape": "shape", "ndim": "ndim", "size": "size"}


def _negative_constant(e):
    """The constant ``-c`` for the expression ``-c`` of a number ``c``, else ``None``."""
    if (isinstance(e, gast.UnaryOp) and isinstance(e.op, gast.USub)
            and isinstance(e.operand, gast.Constant)
            and isinstance(e.operand.value, (int, float, complex))
            and not isinstance(e.operand.value, bool)):
        return gast.Constant(value=-e.operand.value, kind=None)
    return None


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


class Expressions:
    """Expression methods of the normalizer: it provides ``locals``,
    ``namespace``, ``error`` and ``temp``."""


    def is_global(self, parts) -> bool:
        return parts is not None and parts[0] not in self.locals

    def atom(self, e):
        """A name or constant holding the value of ``e``, adding temporaries."""
        if isinstance(e, (gast.Name, gast.Constant)):
            return e
        if _negative_constant(e) is not None:
            return _negative_constant(e)
        if isinstance(e, gast.Attribute) and self.is_global(dotted(e)):
            return self.global_ref(e)
        value = self.rhs(e)
        if isinstance(value, (gast.Name, gast.Constant)):
            return value
        return self.temp(value, self.hint(value))

    def hint(self, value) -> str:
        if isinstance(value, (gast.BinOp, gast.UnaryOp)):
            return OPERATOR_NAMES.get(type(value.op), "t")
        if isinstance(value, gast.Call):
            parts = dotted(value.func) or ["t"]
            if parts == ["np", "copy"] and isinstance(value.args[0], gast.Name) and (
                    value.args[0].id.endswith("_view")):  # the copy of an item
                return value.args[0].id[: -len("_view")] + "_item"
            return CALL_NAMES.get(parts[-1], parts[-1])
        if isinstance(value, gast.Subscript):
            base = value.value.id if isinstance(value.value, gast.Name) else "item"
            return base + "_item"
        if isinstance(value, gast.Compare):
            return "cond"
        if isinstance(value, (gast.Tuple, gast.List)):
            return "items"
        if isinstance(value, gast.Attribute):
            return value.attr
        return "t"

    def global_ref(self, e):
        parts = dotted(e)
        try:
            return attribute_chain(canonical(parts, self.namespace))
        except KeyError:
            raise self.error(e, f"the name '{'.'.join(parts)}' is not defined") from None

    def rhs(self, e):
        """A single operation over atoms computing ``e``, located where ``e`` is
        (so that an error about it points at it, not at the whole line)."""
        out = self.operation(e)
        if out is not e and not hasattr(out, "lineno") and hasattr(e, "lineno"):
            gast.copy_location(out, e)
        return out

    def operation(self, e):
        if isinstance(e, (gast.Name, gast.Constant)):
            return e
        if (isinstance(e, gast.BinOp) and isinstance(e.op, gast.Mult)
                and isinstance(e.left, gast.UnaryOp) and isinstance(e.left.op, gast.USub)
                and _negative_constant(e.left) is None):
            # -a * b is -(a * b), exactly: -x * x is then -(x ** 2)
            product = gast.copy_location(gast.BinOp(left=e.left.operand, op=e.op, right=e.right), e)
            return self.operation(gast.UnaryOp(op=gast.USub(), operand=product))
        if isinstance(e, gast.BinOp):
            left, right = self.atom(e.left), self.atom(e.right)
            if (isinstance(e.op, gast.Mult) and isinstance(left, gast.Name)
                    and isinstance(right, gast.Name) and left.id == right.id):
                # h * h is h ** 2, exactly; its adjoint is one term, 2 * h * bt, not two
                return gast.BinOp(left=left, op=gast.Pow(), right=gast.Constant(value=2, kind=None))
            return gast.BinOp(left=left, op=e.op, right=right)
        if isinstance(e, gast.UnaryOp):
            if isinstance(e.op, gast.UAdd):
                return self.atom(e.operand)
            if _negative_constant(e) is not None:
                return _negative_constant(e)
            return gast.UnaryOp(op=e.op, operand=self.atom(e.operand))
        if isinstance(e, gast.Compare):
            return gast.Compare(left=self.atom(e.left), ops=e.ops,
                                comparators=[self.atom(e.comparators[0])])
        if isinstance(e, gast.Call):
            return self.call(e)
        if isinstance(e, gast.IfExp):
            return self.choice(e)
        if isinstance(e, gast.BoolOp):
            return self.boolean(e)
        if isinstance(e, gast.Attribute):
            return self.attribute(e)
        if isinstance(e, gast.Subscript) and isinstance(e.value, gast.Name) and (
                e.value.id in self.written):
            # an item of an array written into later: a copy, not a view that the
            # write would change under the adjoint's feet
            item = gast.Subscript(value=self.atom(e.value), slice=self.index(e.slice),
                                  ctx=gast.Load())
            view = self.temp(item, e.value.id + "_view")
            return gast.Call(func=attribute_chain(["np", "copy"]), args=[view], keywords=[])
        if isinstance(e, gast.Subscript):
            return gast.Subscript(value=self.atom(e.value), slice=self.index(e.slice),
                                  ctx=gast.Load())
        if isinstance(e, (gast.Tuple, gast.List)):
            return type(e)(elts=[self.atom(x) for x in e.elts], ctx=gast.Load())
        what = EXPRESSIONS.get(type(e), f"the expression {type(e).__name__}")
        raise self.error(e, f"{what} is not supported")

    def index(self, s):
        if isinstance(s, gast.Slice):
            return gast.Slice(*(None if p is None else self.atom(p)
                                for p in (s.lower, s.upper, s.step)))
        if isinstance(s, gast.Tuple):
            return gast.Tuple(elts=[self.index(p) for p in s.elts], ctx=gast.Load())
        return self.atom(s)

    def arg(self, e):
        if isinstance(e, (gast.Tuple, gast.List)):
            return type(e)(elts=[self.atom(x) for x in e.elts], ctx=gast.Load())
        return self.atom(e)

    def attribute(self, e):
        parts = dotted(e)
        if self.is_global(parts) and not self.is_value(parts):
            return self.global_ref(e)
        if e.attr in ATTRIBUTES:
            return self.np_call(ATTRIBUTES[e.attr], [self.atom(e.value)], [])
        if e.attr in ("dtype", "itemsize", "nbytes"):
            return gast.Attribute(value=self.atom(e.value), attr=e.attr, ctx=gast.Load())
        raise self.error(e, f"the attribute .{e.attr} is not supported")

    def is_value(self, parts) -> bool:
        """Whether the head of a global dotted name is a value, not a module."""
        try:
            head = self.namespace.lookup(parts[0])
        except KeyError:
            return False
        return not isinstance(head, (types.ModuleType, type))

    def np_call(self, name, args, keywords):
        return gast.Call(func=attribute_chain(["np", name]), args=args, keywords=keywords)

    def call(self, e):
        parts = dotted(e.func)
        method = isinstance(e.func, gast.Attribute) and (
            parts is None or not self.is_global(parts) or self.is_value(parts))
        if method:
            return self.method(e)
        if parts is None:
            inner = dotted(e.func.func) if isinstance(e.func, gast.Call) else None
            if inner and inner[-1] == "grad" and self.is_global(inner) and self.nested_ok(e):
                return self.nested_grad(e)
            if inner and inner[-1] in DERIVATIVES and self.is_global(inner):
                raise self.error(e, f"differentiating a function that calls sourcegrad."
                                    f"{inner[-1]}(...) is supported for grad(f)(x) of a "
                                    "function of one argument only")
            raise self.error(e.func, "calling the result of an expression is not supported")
        try:
            spelled = canonical(parts, self.namespace)
            resolve(parts, self.namespace)
        except KeyError:
            raise self.error(e.func, f"the name '{'.'.join(parts)}' is not defined") from None
        return gast.Call(
            func=attribute_chain(spelled), args=[self.arg(a) for a in e.args],
            keywords=[gast.keyword(arg=k.arg, value=self.arg(k.value)) for k in e.keywords],
        )

    def nested_ok(self, e) -> bool:
        """Whether ``e`` is ``sourcegrad.grad(f)(x)`` (or ``grad(f, wrt=0)``)
        of a function of one argument."""
        from . import api

        inner = e.func
        try:
            obj = resolve(dotted(inner.func), self.namespace)
        except KeyError:
            return False
        keywords = {k.arg for k in inner.keywords}
        return (obj is api.grad and len(inner.args) == 1 and keywords <= {"wrt"}
                and len(e.args) == 1 and not e.keywords)

    def nested_grad(self, e):
        """``grad(f)(x)``: the runtime's ``nested_grad(f, x)``, whose derivative
        is a Hessian-vector product."""
        inner = e.func
        return gast.Call(func=_name("nested_grad"),
                         args=[self.atom(inner.args[0]), self.atom(e.args[0])],
                         keywords=[gast.keyword(arg=k.arg, value=self.atom(k.value))
                                   for k in inner.keywords])

    def method(self, e):
        name = e.func.attr
        if name == "pop" and not e.args and not e.keywords:  # a list used as a stack
            return gast.Call(func=_name("list_pop"), args=[self.atom(e.func.value)], keywords=[])
        if name not in METHODS:
            instead = f"; call np.{name}(...) instead" if hasattr(np, name) else ""
            raise self.error(e.func, f"the method .{name}() is not supported{instead}")
        receiver = self.atom(e.func.value)
        args = [self.arg(a) for a in e.args]
        if name in PACKED and len(args) > 1:
            args = [gast.Tuple(elts=args, ctx=gast.Load())]
        keywords = [gast.keyword(arg=k.arg, value=self.arg(k.value)) for k in e.keywords]
        if name == "clip":
            args, keywords = _clip_bounds(args, keywords)
        return self.np_call(METHODS[name], [receiver] + args, keywords)


def _clip_bounds(args, keywords):
    """``x.clip(lo)`` / ``x.clip(max=hi)`` as ``np.clip(x, lo, hi)``: the
    method's bounds default to ``None``, ``np.clip`` needs both."""
    bounds = {"min": None, "max": None}
    bounds.update(zip(("min", "max"), args))
    rest = []
    for k in keywords:
        if k.arg in bounds:
            bounds[k.arg] = k.value
        else:
            rest.append(k)
    none = gast.Constant(value=None, kind=None)
    return [bounds["min"] or none, bounds["max"] or none], rest
