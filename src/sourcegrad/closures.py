"""Stage 2a, closures: functions defined inside the function become helpers.

Invariant established: the body defines no function.  Each ``def`` (and
each ``name = lambda ...``) in it becomes a ``LocalFunction``, bound in the
namespace under its name, and the outer names it reads become parameters
that every call passes by keyword: ``inner(x)`` reads ``scale`` of the
enclosing function, so the call becomes ``inner(x, scale=scale)``.  The
reverse pass then treats ``inner`` like any function of the user's, and the
gradient flows into ``scale`` too.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> node = gast.parse('''
... def f(x, scale):
...     def inner(t):
...         return t * scale
...     return inner(x) + inner(2.0 * x)
... ''').body[0]
>>> body, local = convert(node.body, {"x", "scale"})
>>> print(to_source(gast.Module(body=body, type_ignores=[])))
return inner(x, scale=scale) + inner(2.0 * x, scale=scale)
>>> print(to_source(local["inner"]))
def inner(t, *, scale):
    return t * scale
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect

import gast

from .errors import UnsupportedSyntaxError
from .trees import clone


class LocalFunction:
    """A function defined inside the differentiated function, lifted out: it
    takes the enclosing names it reads as parameters."""

    def __init__(self, node: gast.FunctionDef, outer):
        self.node = node
        self.__name__ = self.__qualname__ = node.name
        self.function = _define(node, outer)
        self.__defaults__ = self.function.__defaults__
        self.__kwdefaults__ = self.function.__kwdefaults__
        self.__signature__ = inspect.signature(self.function)
        self.parsed = dataclasses.replace(outer, node=node, func=self)

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __repr__(self):
        return f"<local function {self.__name__}>"


def closures(parsed):
    """``parsed`` with its nested functions lifted out (see the docstring)."""
    params = {a.id for a in parsed.node.args.posonlyargs + parsed.node.args.args
              + parsed.node.args.kwonlyargs}
    assigned = {n.id for n in gast.walk(parsed.node) if isinstance(n, gast.Name)
                and isinstance(n.ctx, gast.Store)}
    outer = params | assigned | set(parsed.namespace.cells)
    try:
        body, lifted = convert(parsed.node.body, outer)
    except _Misuse as misuse:
        raise parsed.where.error(UnsupportedSyntaxError, misuse.node, misuse.message) from None
    if not lifted:
        return parsed
    node = copy.copy(parsed.node)
    node.body = body
    namespace = dataclasses.replace(parsed.namespace, extra=dict(parsed.namespace.extra))
    result = dataclasses.replace(parsed, node=node, namespace=namespace)
    for name, lifted_node in lifted.items():
        namespace.extra[name] = LocalFunction(lifted_node, result)
    return result


class _Misuse(Exception):
    def __init__(self, node, message):
        super().__init__(message)
        self.node, self.message = node, message


def convert(body: list, outer: set):
    """The statements ``body`` without function definitions, calls passing the
    captured names; and the lifted definitions by name."""
    found = {}
    kept = []
    for stmt in body:
        lifted = _definition(stmt)
        if lifted is None:
            kept.append(stmt)
            continue
        if lifted.name in found:
            raise _Misuse(stmt, f"the function {lifted.name} is defined twice")
        found[lifted.name] = lifted
    captured = {name: sorted(_free(node) & outer) for name, node in found.items()}
    for name, node in found.items():  # keyword-only: after any defaults
        node.args.kwonlyargs += [_param(c) for c in captured[name]]
        node.args.kw_defaults += [None] * len(captured[name])
    body = [_pass_captured(stmt, captured) for stmt in kept]
    for node in found.values():
        node.body = [_pass_captured(stmt, captured) for stmt in node.body]
    return body, found


def _definition(stmt):
    """The function ``stmt`` defines (a ``def`` or ``name = lambda``), or ``None``."""
    if isinstance(stmt, gast.FunctionDef):
        if stmt.decorator_list:
            raise _Misuse(stmt, "a decorated function inside the function is not supported")
        node = clone(stmt)
        return node
    if (isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Lambda)
            and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)):
        lam = stmt.value
        ret = gast.copy_location(gast.Return(value=lam.body), lam.body)
        node = gast.FunctionDef(name=stmt.targets[0].id, args=lam.args, body=[ret],
                                decorator_list=[], returns=None, type_comment=None,
                                type_params=[])
        return gast.copy_location(node, stmt)
    return None


def _free(node: gast.FunctionDef) -> set:
    """Names ``node`` reads that it neither takes nor assigns."""
    args = node.args
    bound = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    bound |= {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
              and isinstance(n.ctx, gast.Store)}
    return {n.id for s in node.body for n in gast.walk(s) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)} - bound


def _param(name: str):
    return gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None)


def _pass_captured(stmt, captured: dict):
    """``stmt`` with each call of a lifted function passing its captured names;
    any other use of a lifted function's name is refused."""

    class Rewrite(gast.NodeTransformer):
        def visit_Call(self, call):
            func = call.func
            if not (isinstance(func, gast.Name) and func.id in captured):
                return self.generic_visit(call)
            call.args = [self.visit(a) for a in call.args]
            for k in call.keywords:
                k.value = self.visit(k.value)
            call.keywords += [gast.keyword(arg=c, value=gast.Name(
                id=c, ctx=gast.Load(), annotation=None, type_comment=None))
                for c in captured[func.id]]
            return call

        def visit_Name(self, name):
            if name.id in captured and not isinstance(name.ctx, gast.Store):
                raise _Misuse(name, f"the local function {name.id} can only be called here; "
                                    "passing it around is not supported")
            return name

        def visit_Lambda(self, lam):
            raise _Misuse(lam, "a lambda inside the function is supported only when "
                               "assigned to a name ('f = lambda x: ...')")

    return Rewrite().visit(stmt)


def _define(node: gast.FunctionDef, outer):
    """A real function for ``node``, defined in the enclosing module's globals,
    so that a call with no derivative to compute runs it as it is."""
    module = gast.gast_to_ast(gast.Module(body=[clone(node)], type_ignores=[]))
    ast.fix_missing_locations(module)
    space = {}
    try:
        exec(compile(module, outer.where.filename, "exec"), outer.namespace.globals, space)
    except NameError as exc:
        raise outer.where.error(UnsupportedSyntaxError, node,
                                f"a default value of {node.name} reads a local name ({exc})"
                                ) from None
    return space[node.name]
