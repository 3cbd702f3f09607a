"""Stage 1, parse: a function object to a ``gast.FunctionDef`` and its namespace.

Invariant established: the tree is a single ``FunctionDef`` whose line numbers
are those of the user's file, whatever the indentation of the original
definition; decorators are dropped; a lambda becomes a ``def`` of the same
arguments that returns its body.  The tree is the source of the code that
runs (a decorator's wrapper, not the function it wraps) and declares the
same parameters.  The namespace resolves free names live and records what
each resolved to, so that the API can tell when compiled code is stale.

>>> import numpy as np
>>> def f(x):
...     return np.tanh(x)
>>> parsed = parse(f)
>>> parsed.node.name, [a.id for a in parsed.node.args.args]
('f', ['x'])
>>> parsed.namespace.lookup("np") is np
True
"""

from __future__ import annotations

import builtins
import inspect
import linecache
import textwrap
from dataclasses import dataclass, field

import gast

from .errors import SourceNotFoundError, UnsupportedSyntaxError, Where


@dataclass
class Namespace:
    """Where the free names of a function resolve: closure, globals, builtins.

    Lookups are live (a closure cell or a global rebound later is seen), and
    each one is recorded in ``seen``: the compiled code is valid while every
    name in ``seen`` still refers to the same object.
    """

    globals: dict
    cells: dict = field(default_factory=dict)  # name -> closure cell
    seen: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # functions lifted out of the body
    aliases: dict = field(default_factory=dict)  # name in the tree -> name in the source

    def lookup(self, name: str):
        """The object ``name`` refers to; ``KeyError`` if it is not bound."""
        value = self.current(name)
        self.seen[self.aliases.get(name, name)] = value
        return value

    def current(self, name: str):
        """What ``name`` refers to now, without recording it."""
        name = self.aliases.get(name, name)
        if name in self.extra:
            return self.extra[name]
        if name in self.cells:
            try:
                return self.cells[name].cell_contents
            except ValueError:  # an empty cell: a name assigned after the def
                raise KeyError(name) from None
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name) if hasattr(builtins, name) else _raise(name)


def _raise(name):
    raise KeyError(name)


@dataclass
class Parsed:
    """A parsed function: its tree, namespace, and where it came from."""

    node: gast.FunctionDef
    namespace: Namespace
    where: Where
    func: object
    text: str = ""  # the source text the tree was parsed from


def parse(func) -> Parsed:
    """Parse ``func`` into a ``Parsed`` record."""
    code = getattr(func, "__code__", None)
    if code is None:
        raise SourceNotFoundError(f"{func!r} is not a Python function")
    filename = code.co_filename
    try:
        # The code object's source, not the function's: inspect would follow
        # __wrapped__ from a decorator's wrapper to the function it wraps.
        lines, first = inspect.getsourcelines(code)
    except (OSError, TypeError) as exc:
        raise SourceNotFoundError(
            f"{filename}, line {code.co_firstlineno}, in {code.co_qualname}: cannot read the "
            f"source of {code.co_qualname} ({exc}). sourcegrad reads the source of the "
            "functions it differentiates: define them in a file (not with exec, eval or "
            "at the interactive prompt)."
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    shift = _indent(text) - _indent(dedented)
    all_lines = linecache.getlines(filename) or None
    where = Where(filename, code.co_qualname, shift, all_lines)
    tree, added = _parse_text(dedented, where, first)
    gast.increment_lineno(tree, first - 1 - added)
    node = _find(tree, code, where, first)
    _same_parameters(node, code, where)
    namespace = Namespace(func.__globals__, _cells(func))
    _unshadow(node, namespace)
    return Parsed(node=node, namespace=namespace, where=where, func=func, text=text)


def _unshadow(node: gast.FunctionDef, namespace: Namespace) -> None:
    """A free name of ``node`` that generated code uses for its own helpers
    (a global ``item``, say, beside the runtime's ``item``) is read under a
    fresh name, an alias of the source's name in ``namespace``."""
    from . import runtime
    from .names import GENERATED, MODULES, Namer, identifiers

    bound = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
             and not isinstance(n.ctx, gast.Load)}
    loads = [n for n in gast.walk(node) if isinstance(n, gast.Name)
             and isinstance(n.ctx, gast.Load) and n.id in GENERATED and n.id not in bound]
    namer, fresh = Namer(identifiers(node) | GENERATED), {}
    for load in loads:
        if load.id not in fresh:
            try:
                value = namespace.current(load.id)
            except KeyError:
                continue
            if value is MODULES.get(load.id) or value is getattr(runtime, load.id, None):
                continue
            fresh[load.id] = namer.fresh(load.id)
            namespace.aliases[fresh[load.id]] = load.id
        load.id = fresh[load.id]


def _indent(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _parse_text(text: str, where: Where, first: int):
    """The module tree of ``text`` and how many lines were added before it."""
    try:
        return gast.parse(text), 0
    except SyntaxError:
        # A lambda inside a larger expression: getsource gives the whole
        # statement's first lines, which may not parse alone.  Try the
        # parenthesised text, then give up with a clear message.
        body = text.strip()
        while body:
            try:
                return gast.parse("(\n" + body + "\n)"), 1
            except SyntaxError:
                body = body[:-1].rstrip()
        raise SourceNotFoundError(
            f"{where.filename}, line {first}: cannot parse the source of "
            f"{where.function}"
        ) from None


def _find(tree, code, where: Where, first: int) -> gast.FunctionDef:
    name = code.co_name
    if name == "<lambda>":
        return _find_lambda(tree, code, where, first)
    for node in gast.walk(tree):
        if isinstance(node, gast.FunctionDef) and node.name == name:
            node.decorator_list = []
            return node
        if isinstance(node, gast.AsyncFunctionDef):
            raise where.error(UnsupportedSyntaxError, node, "async functions are not supported")
    raise SourceNotFoundError(f"{where.filename}, line {first}: no definition of {name} found")


def _same_parameters(node: gast.FunctionDef, code, where: Where) -> None:
    """Raise if the source found does not declare the running code's parameters
    (the file was edited after the function was defined)."""
    args = node.args
    declared = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]
    declared += [a.id for a in (args.vararg, args.kwarg) if a is not None]
    running = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount
                                    + bool(code.co_flags & 4) + bool(code.co_flags & 8)])
    if declared != running:
        raise where.error(
            SourceNotFoundError, node,
            f"this source declares the parameters ({', '.join(declared)}) but the running "
            f"{code.co_name} takes ({', '.join(running)}): was the file edited after the "
            "function was defined? Reload it",
        )


def _find_lambda(tree, code, where: Where, first: int) -> gast.FunctionDef:
    params = list(code.co_varnames[: code.co_argcount])
    found = [
        n for n in gast.walk(tree)
        if isinstance(n, gast.Lambda) and [a.id for a in n.args.args] == params
    ]
    if len(found) != 1:
        raise SourceNotFoundError(
            f"{where.filename}, line {first}: cannot tell which lambda on this line "
            "to differentiate; give it a name with def"
        )
    lam = found[0]
    ret = gast.Return(value=lam.body)
    gast.copy_location(ret, lam.body)
    node = gast.FunctionDef(
        name=f"lambda_{first}", args=lam.args, body=[ret], decorator_list=[],
        returns=None, type_comment=None, type_params=[],
    )
    return gast.copy_location(node, lam)


def _cells(func) -> dict:
    return dict(zip(func.__code__.co_freevars, func.__closure__ or ()))
