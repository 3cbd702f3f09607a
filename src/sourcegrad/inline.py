"""Instantiate a rule template at a call site.

``instantiate`` returns the template's statements with its parameters
replaced by the call's arguments, its local names made fresh, its static
``if`` tests decided, constant sub-expressions folded, and each
``d[x] = e`` turned into ``bx += e`` on the adjoint of ``x`` (or dropped when
``x`` has none).  ``unbroadcast(e, x)`` (reverse) and ``rebroadcast(d[x], y)``
(forward) become ``e`` and ``d[x]`` where ``x`` provably has the shape of the
primitive's output ``y`` (a shapes analysis says so).  A static test may
ask ``ndim(x)`` of a parameter: the rank the shapes analysis knows at this
site (unknown: the test is not decided, and the ``else`` branch is taken).
The reverse pass then turns those ``+=`` into a first assignment or an
accumulation.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

import gast

from .rules import is_d
from .trees import clone

_SAFE = {"len": len, "isinstance": isinstance, "tuple": tuple, "int": int,
         "float": float, "bool": bool}
_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv}


@dataclass
class Site:
    """A call site: what the template's names mean there."""

    binding: dict  # template parameter -> argument expression
    renames: dict  # template local -> fresh name
    output: str  # the template's output parameter
    adjoint_of: object  # primal name -> derivative to set, or None when inactive
    namer: object
    same_shape: object  # (name, name) -> whether the shapes provably match
    sum_axes: object  # (name, name) -> the axes broadcasting added, or None
    reads: object  # primal name -> derivative to read, or None when it is zero


def instantiate(template, output: str, bound: dict, adjoint_of, namer,
                same_shape=None, reads=None, rank=None, sum_axes=None) -> list:
    """The template body at this call site (see the module docstring).
    ``adjoint_of`` names the derivatives the template sets, ``reads`` (by
    default the same) those it reads: a derivative that holds no value yet is
    zero to read, but can be set.  ``rank(name)`` is the number of axes of a
    primal name here, or ``None``."""
    binding = {name: _literal(value) for name, value in template.defaults().items()}
    binding.update(bound)
    binding[template.output] = _load(output)
    ranks = _ranks(binding, rank or (lambda name: None))
    body = [clone(s) for s in _decide(template.node.body, binding, ranks)
            if not _docstring(s)]
    renames = {n.id: namer.fresh(n.id) for s in body for n in gast.walk(s)
               if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    site = Site(binding, renames, template.output, adjoint_of, namer,
                same_shape or (lambda a, b: False), sum_axes or (lambda a, b: None),
                reads or adjoint_of)
    out = []
    for stmt in body:
        out.extend(_place(stmt, site))
    return out


def _load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _docstring(stmt) -> bool:
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant)


def _literal(value):
    """A default value as an expression."""
    if isinstance(value, tuple):
        return gast.Tuple(elts=[_literal(v) for v in value], ctx=gast.Load())
    return gast.Constant(value=value, kind=None)


def static_value(node):
    """The Python value of a literal expression; raise ``ValueError`` if none."""
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, (gast.Tuple, gast.List)):
        return tuple(static_value(e) for e in node.elts)
    raise ValueError("not a literal")


def _ranks(binding, rank) -> dict:
    """The known rank of each parameter bound to a name or a number."""
    out = {}
    for param, value in binding.items():
        if isinstance(value, gast.Name):
            found = rank(value.id)
            if found is not None:
                out[param] = found
        elif isinstance(value, gast.Constant) and isinstance(value.value, (int, float)):
            out[param] = 0
    return out


def _decide(body, binding, ranks) -> list:
    """Replace each ``if`` by the branch its static test picks (else: ``orelse``)."""
    out = []
    for stmt in body:
        if isinstance(stmt, gast.If):
            branch = stmt.body if _test(stmt.test, binding, ranks) else stmt.orelse
            out.extend(_decide(branch, binding, ranks))
        else:
            out.append(stmt)
    return out


def _test(test, binding, ranks) -> bool:
    env = {"ndim": lambda param: ranks[param]}
    for node in gast.walk(test):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and node.func.id == "ndim":
            if not (len(node.args) == 1 and isinstance(node.args[0], gast.Name)
                    and node.args[0].id in ranks):
                return False
            env[node.args[0].id] = node.args[0].id  # ndim(x) looks x up by name
        elif isinstance(node, gast.Name) and node.id not in _SAFE and node.id != "ndim" \
                and node.id not in env:
            try:
                env[node.id] = static_value(binding[node.id])
            except (KeyError, ValueError):
                return False
    expr = gast.gast_to_ast(gast.Expression(body=test))
    ast.fix_missing_locations(expr)
    return bool(eval(compile(expr, "<rule>", "eval"), {"__builtins__": _SAFE}, env))


def _substitute(node, site: Site):
    """``node`` with parameters, locals and ``d[output]`` replaced."""
    binding, output = site.binding, site.output
    result = binding[output].id

    class Replace(gast.NodeTransformer):
        def visit_Subscript(self, sub):
            if is_d(sub):
                return _derivative(binding[sub.slice.id], site)
            return self.generic_visit(sub)

        def visit_Name(self, name):
            if name.id in site.renames:
                name.id = site.renames[name.id]
                return name
            if name.id in binding and isinstance(name.ctx, gast.Load):
                return clone(binding[name.id])
            return name

        def visit_Call(self, call):
            if (isinstance(call.func, gast.Name) and call.func.id == "rebroadcast"
                    and len(call.args) == 2 and is_d(call.args[0])):
                operand = binding.get(call.args[0].slice.id)
                if isinstance(operand, gast.Name) and site.same_shape(result, operand.id):
                    return self.visit(call.args[0])
            self.generic_visit(call)
            if (isinstance(call.func, gast.Name) and call.func.id == "unbroadcast"
                    and len(call.args) == 2 and isinstance(call.args[1], gast.Name)):
                if site.same_shape(result, call.args[1].id):
                    return call.args[0]
                return _summed(call, site.sum_axes(result, call.args[1].id))
            return call

    return _fold(Replace().visit(node))


def _summed(call, axes):
    """``unbroadcast(g, x)`` as the sum it is, where the axes are known: over
    the leading axes, or keeping those where ``x`` has length 1 (``g`` is the
    adjoint of an array: ``g.sum(...)``, without ``np.sum``'s dispatch)."""
    if axes is None or (axes[0] and axes[1]) or not (axes[0] or axes[1]):
        return call
    lead, ones = axes
    axis = tuple(range(lead)) if lead else ones
    keywords = [gast.keyword(arg="axis", value=_literal(axis[0] if len(axis) == 1 else axis))]
    if ones:
        keywords.append(gast.keyword(arg="keepdims", value=_literal(True)))
    func = gast.Attribute(value=call.args[0], attr="sum", ctx=gast.Load())  # an array's
    return gast.Call(func=func, args=[], keywords=keywords)


class _Zero(Exception):
    """A template statement read the derivative of an inactive value: the
    term it computes is zero."""


def _derivative(value, site: Site):
    """The expression for ``d[...]`` of the argument ``value``: the derivative's
    name; for a tuple or list literal, the list of its items' derivatives (zeros
    for inactive items).  Raise ``_Zero`` if there is none."""
    if isinstance(value, gast.Name) and site.reads(value.id) is not None:
        return _load(site.reads(value.id))
    if isinstance(value, (gast.Tuple, gast.List)):
        parts = [_derivative(e, site) if isinstance(e, gast.Name)
                 and site.reads(e.id) is not None
                 else gast.Call(func=_load("zeros_like"), args=[clone(e)], keywords=[])
                 for e in value.elts]
        if all(isinstance(p, gast.Call) for p in parts):
            raise _Zero
        return gast.List(elts=parts, ctx=gast.Load())
    raise _Zero


def _fold(node):
    """Fold arithmetic on constants; ``e ** 1`` is ``e``."""

    class Fold(gast.NodeTransformer):
        def visit_BinOp(self, op):
            self.generic_visit(op)
            left, right = op.left, op.right
            if (isinstance(left, gast.Constant) and isinstance(right, gast.Constant)
                    and type(op.op) in _FOLD and _number(left) and _number(right)):
                return gast.Constant(value=_FOLD[type(op.op)](left.value, right.value), kind=None)
            if isinstance(op.op, gast.Pow) and isinstance(right, gast.Constant) and right.value == 1:
                return left
            return op

    return Fold().visit(node)


def _number(node) -> bool:
    return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _place(stmt, site: Site) -> list:
    """The statements for one template statement at this call site (none if
    it reads the derivative of an inactive value)."""
    try:
        if not (isinstance(stmt, gast.Assign) and is_d(stmt.targets[0])):
            return [_substitute(stmt, site)]
        value = _substitute(stmt.value, site)
    except _Zero:
        return []
    target = site.binding.get(stmt.targets[0].slice.id)
    adjoint_of = site.adjoint_of
    if isinstance(target, gast.Name):
        adjoint = adjoint_of(target.id)
        return [] if adjoint is None else [_accumulate(adjoint, value)]
    if not isinstance(target, (gast.Tuple, gast.List)):
        return []
    active = [(i, adjoint_of(e.id)) for i, e in enumerate(target.elts)
              if isinstance(e, gast.Name) and adjoint_of(e.id) is not None]
    if not active:
        return []
    out = []
    dense = not isinstance(value, gast.Name)  # a rule's own list, not an adjoint
    if not isinstance(value, gast.Name):
        parts = site.namer.fresh("bparts")
        out.append(gast.Assign(targets=[gast.Name(id=parts, ctx=gast.Store(), annotation=None,
                                                  type_comment=None)],
                               value=value, type_comment=None))
        value = _load(parts)
    for i, adjoint in active:
        index = gast.Constant(value=i, kind=None)
        if dense:
            part = gast.Subscript(value=clone(value), slice=index, ctx=gast.Load())
        else:  # the adjoint of a tuple may hold some of its items only
            part = gast.Call(func=_load("item"), args=[clone(value), index,
                                                       clone(target.elts[i])],
                             keywords=[])
        out.append(_accumulate(adjoint, part))
    return out


def _accumulate(adjoint: str, value) -> gast.AugAssign:
    return gast.AugAssign(target=gast.Name(id=adjoint, ctx=gast.Store(), annotation=None,
                                           type_comment=None),
                          op=gast.Add(), value=value)
