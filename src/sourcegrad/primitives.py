"""Which primitive each normal-form statement applies, and to what.

An analysis: ``primitives(fn, namespace, where)`` returns, for each
assignment of the body (in branches and loops too), keyed by ``id`` of the
statement, an ``Op``: the rule template and the argument expressions bound
to its parameters.
Activity analysis and the reverse pass both read it, so a statement is
matched to its rule once.  A call to a function with no rule is an ``Op``
that carries the ``NoRuleError``; the reverse pass raises it only if the
call's result is active (``np.float32(2.0)`` on constants needs no rule).
"""

from __future__ import annotations

import inspect
import operator
import types
from dataclasses import dataclass, field

import gast

from . import rules
from .closures import LocalFunction
from .errors import NoRuleError, UnsupportedSyntaxError
from .names import MODULES, dotted, resolve
from . import runtime
from .runtime import stop_gradient

BINARY = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
    gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod, gast.BitAnd: operator.and_,
    gast.BitOr: operator.or_, gast.BitXor: operator.xor, gast.LShift: operator.lshift,
    gast.RShift: operator.rshift,
}
UNARY = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_,
         gast.Invert: operator.invert}


@dataclass
class Op:
    """A primitive application: its rule and the arguments bound to the rule."""

    template: object = None  # rules.Template, or None for a zero derivative
    bound: dict = field(default_factory=dict)
    missing: Exception = None  # why a call has no usable rule (raised if active)
    callee: object = None  # a function of the user's, differentiated in its turn
    primitive: object = None  # the function applied, for its rule in another mode
    args: list = field(default_factory=list)  # the call's arguments, to bind another rule
    keywords: dict = field(default_factory=dict)

    def inputs(self) -> list:
        """Names whose adjoint this statement's rule may set (with no rule, or
        for a call of the user's own function: every name it reads)."""
        if self.template is None and self.missing is None and self.callee is None:
            return []
        params = self.bound if self.template is None else sorted(self.template.diff_params)
        out = []
        for param in params:
            value = self.bound.get(param)
            elts = value.elts if isinstance(value, (gast.Tuple, gast.List)) else [value]
            out.extend(e.id for e in elts if isinstance(e, gast.Name))
        return out


ZERO = Op()


def primitives(fn: gast.FunctionDef, namespace, where) -> dict:
    """``{id(statement): Op}`` for every assignment of ``fn``."""
    return {id(stmt): _match(stmt, namespace, where) for stmt in assignments(fn.body)}


def assignments(body: list, writes=False) -> list:
    """The assignments to a name of ``body`` (with ``writes``: the writes into
    an array, ``y[i] = v``), in branches and loops too, in source order."""
    out = []
    for stmt in body:
        if isinstance(stmt, gast.Assign) and is_write(stmt) == writes:
            out.append(stmt)
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            out.extend(assignments(stmt.body, writes) + assignments(stmt.orelse, writes))
    return out


def is_append(stmt) -> bool:
    """Whether ``stmt`` appends to a list: ``items.append(v)``."""
    if not isinstance(stmt, gast.Expr) or not isinstance(stmt.value, gast.Call):
        return False
    call = stmt.value
    return (isinstance(call.func, gast.Attribute) and call.func.attr == "append"
            and isinstance(call.func.value, gast.Name) and len(call.args) == 1
            and not call.keywords)


def appends(body: list) -> list:
    """The appends to a list of ``body``, in branches and loops too."""
    out = []
    for stmt in body:
        if is_append(stmt):
            out.append(stmt)
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            out.extend(appends(stmt.body) + appends(stmt.orelse))
    return out


def is_write(stmt) -> bool:
    """Whether ``stmt`` writes into an array: ``y[index] = v``."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript)


def lookup_spelled(parts, namespace):
    """The object a canonically spelled name (``np.tanh``) refers to."""
    if parts[0] in MODULES:
        obj = MODULES[parts[0]]
        for attr in parts[1:]:
            obj = getattr(obj, attr)
        return obj
    if parts == ["stop_gradient"]:
        return stop_gradient
    try:
        return resolve(parts, namespace)
    except KeyError:
        if len(parts) == 1 and parts[0] in runtime.__all__:  # list_pop, from normalize
            return getattr(runtime, parts[0])
        raise


def _match(stmt, namespace, where) -> Op:
    value = stmt.value
    if isinstance(value, gast.Name):
        return _bind(rules.REVERSE[rules.identity], [value], [], stmt, where, "a copy",
                     rules.identity)
    if isinstance(value, (gast.Constant, gast.Compare, gast.Attribute)):
        return ZERO
    if isinstance(value, gast.BinOp):
        obj = BINARY[type(value.op)]
        return _primitive(obj, [value.left, value.right], [], stmt, where,
                          f"operator.{obj.__name__}")
    if isinstance(value, gast.UnaryOp):
        obj = UNARY[type(value.op)]
        return _primitive(obj, [value.operand], [], stmt, where, f"operator.{obj.__name__}")
    if isinstance(value, gast.Subscript):
        args = [value.value, _index(value.slice)]
        return Op(rules.REVERSE[operator.getitem], {"x": args[0], "index": args[1]},
                  primitive=operator.getitem, args=args)
    if isinstance(value, (gast.Tuple, gast.List)):
        return Op(rules.REVERSE[rules.pack], {"xs": value}, primitive=rules.pack, args=[value])
    if isinstance(value, gast.Call):
        parts = dotted(value.func)
        obj = lookup_spelled(parts, namespace)
        return _primitive(obj, value.args, value.keywords, stmt, where, ".".join(parts))
    raise where.error(UnsupportedSyntaxError, stmt, "this statement is not supported")


def _primitive(obj, args, keywords, stmt, where, label) -> Op:
    found = rules.lookup(obj)
    if found is rules.ZERO:
        return ZERO
    if found is None and (isinstance(obj, LocalFunction) or isinstance(
            obj, types.FunctionType) and not _library(obj)):
        return _call(obj, args, keywords, stmt, where, label)
    if found is None and rules.lookup(obj, "forward") is not None:
        # a rule for forward mode only (the runtime's helpers): no gradient flows
        op = _bind(rules.lookup(obj, "forward"), args, keywords, stmt, where, label, obj)
        op.missing = _no_rule(stmt, where, label, obj)
        return op
    if found is None:
        bound = dict(enumerate(args)) | {k.arg: k.value for k in keywords}
        return Op(bound=bound, missing=_no_rule(stmt, where, label, obj), primitive=obj,
                  args=list(args), keywords={k.arg: k.value for k in keywords})
    return _bind(found, args, keywords, stmt, where, label, obj)


def _call(func, args, keywords, stmt, where, label) -> Op:
    """A call of the user's function ``func``: its parameters bound to the
    arguments, as the call will bind them."""
    node = stmt.value if getattr(stmt.value, "lineno", None) else stmt
    signature = inspect.signature(func)
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
        from .check import check  # refused at the callee's definition
        from .parse import parse

        callee = func.parsed if isinstance(func, LocalFunction) else parse(func)
        check(callee.node, callee.where)
    try:
        bound = signature.bind(*args, **{k.arg: k.value for k in keywords})
    except TypeError as exc:
        raise where.error(UnsupportedSyntaxError, node,
                          f"this call does not match {label}'s parameters ({exc})") from None
    return Op(bound=dict(bound.arguments), callee=func)


def _no_rule(stmt, where, label, obj) -> NoRuleError:
    node = stmt.value if getattr(stmt.value, "lineno", None) else stmt
    if isinstance(obj, types.FunctionType) and not _library(obj):
        message = (f"{label} is a Python function: calls to your own functions are not "
                   "differentiated yet, and it has no derivative rule")
        first = "Inline its code here, or register a rule:"
    else:
        message, first = f"no derivative rule for {label}", "Register a rule:"
    hint = (
        f"{first}\n"
        f"    from sourcegrad.rules import reverse, d\n"
        f"    @reverse({label})\n"
        f"    def {label.split('.')[-1]}_rule(y, x):\n"
        f"        d[x] = d[y] * ...  # the adjoint of x, given the adjoint of y = {label}(x)\n"
        f"or wrap an argument in sourcegrad.stop_gradient if no derivative is needed."
    )
    if where is None:
        return NoRuleError(f"{message}\n{hint}")
    return where.error(NoRuleError, node, message, hint)


def _library(obj) -> bool:
    """Whether ``obj`` belongs to NumPy, the standard library's ``math`` or
    sourcegrad's runtime (which generated code calls)."""
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in ("numpy", "math") or module == "sourcegrad.runtime"


def _bind(template, args, keywords, stmt, where, label, primitive=None) -> Op:
    try:
        bound = template.bind(args, {k.arg: k.value for k in keywords})
    except TypeError as exc:
        message = f"sourcegrad's rule for {label} does not take these arguments ({exc})"
        node = stmt.value if getattr(stmt.value, "lineno", None) else stmt
        error = (UnsupportedSyntaxError(message) if where is None
                 else where.error(UnsupportedSyntaxError, node, message))
        bound = dict(enumerate(args)) | {k.arg: k.value for k in keywords}
        return Op(bound=bound, missing=error)
    return Op(template, bound, primitive=primitive, args=list(args),
              keywords={k.arg: k.value for k in keywords})


def index_expression(index):
    """An index as an expression: slices are written ``np.s_[...]``."""
    return _index(index)


def _index(index):
    """An index as an expression: slices are written ``np.s_[...]``."""
    if any(isinstance(n, gast.Slice) for n in gast.walk(index)):
        s_ = gast.Attribute(value=gast.Name(id="np", ctx=gast.Load(), annotation=None,
                                            type_comment=None), attr="s_", ctx=gast.Load())
        return gast.Subscript(value=s_, slice=index, ctx=gast.Load())
    return index
