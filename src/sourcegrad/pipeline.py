"""The compiler, as a table of contents: the stages in the order they run.

``compile_reverse(func, wrt)`` runs every stage and returns a ``Compiled``
record: the generated module's text and what loading it needs.  Set
``SOURCEGRAD_DEBUG=normalize,reverse`` (any stage names, or ``all``) to print
the tree after those stages on standard error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from dataclasses import dataclass

import gast

from . import __version__
from .activity import activity
from .check import check
from .emit import emit, to_source
from .names import MODULES, RESERVED, Namer, identifiers
from .lower import lower
from .normalize import normalize
from .optimize import optimize
from .parse import parse
from .primitives import primitives
from .reverse import reverse
from .shapes import shapes
from .ssa import single_assignment
from . import runtime

#: The stages of reverse mode, in order.
REVERSE_STAGES = (
    "parse", "check", "lower", "normalize", "single_assignment", "activity", "shapes", "reverse",
    "optimize", "emit", "load",
)


@dataclass
class Compiled:
    """A generated module, before loading: its text and how to bind it."""

    text: str
    function: str  # name of the generated function in the module
    free: dict  # names from the source's namespace that the code reads
    source: object  # the Parsed source function
    wrt: tuple
    output_node: object  # the source's return statement, for error messages


def _debug(stage: str, tree) -> None:
    wanted = os.environ.get("SOURCEGRAD_DEBUG", "")
    names = {w.strip() for w in wanted.split(",")}
    if stage in names or "all" in names:
        text = to_source(tree) if isinstance(tree, gast.AST) else repr(tree)
        print(f"--- sourcegrad: after {stage} ---\n{text}", file=sys.stderr)


def compile_reverse(func, wrt=0) -> Compiled:
    """Run every reverse-mode stage on ``func`` (see ``REVERSE_STAGES``)."""
    parsed = parse(func)
    check(parsed.node, parsed.where)
    return_node = parsed.node.body[-1]
    names, single = wrt_names(parsed.node, wrt, parsed.where)
    lowered = dataclasses.replace(parsed, node=lower(parsed.node))
    _debug("lower", lowered.node)
    fn = normalize(lowered)
    _debug("normalize", fn)
    fn = single_assignment(fn)
    _debug("single_assignment", fn)
    ops = primitives(fn, parsed.namespace, parsed.where)
    active = activity(fn, ops, set(names))
    _debug("activity", sorted(active))
    grad_fn = reverse(fn, ops, active, names, parsed.where, single, shapes(fn, ops))
    _debug("reverse", grad_fn)
    grad_fn = optimize(grad_fn)
    _debug("optimize", grad_fn)
    module, free = _module(grad_fn, parsed)
    text = emit(module, _header(parsed, "Reverse-mode", names, free))
    return Compiled(text, grad_fn.name, free, parsed, names, return_node)


def wrt_names(node: gast.FunctionDef, wrt, where):
    """Parameter names for ``wrt``: an int (the index of a positional parameter,
    negative from the end), a parameter's name, or a tuple of them."""
    from .errors import WrtError

    positional = [a.id for a in node.args.posonlyargs + node.args.args]
    params = positional + [a.id for a in node.args.kwonlyargs]
    single = not isinstance(wrt, (tuple, list))
    out = []
    for item in ([wrt] if single else wrt):
        if isinstance(item, int) and not isinstance(item, bool) and (
                -len(positional) <= item < len(positional)):
            out.append(positional[item])
        elif isinstance(item, str) and item in params:
            out.append(item)
        else:
            raise where.error(
                WrtError, node,
                f"wrt={item!r} does not name a parameter of {node.name}({', '.join(params)})",
                "wrt is the index of a positional parameter (negative counts from the end), "
                "a parameter's name, or a tuple of them.",
            )
    return tuple(out), single


def _defaults(fn: gast.FunctionDef, parsed) -> dict:
    """Replace each default of ``fn`` that the generated module cannot evaluate
    (it reads a name of an enclosing scope) by a name bound at load to the
    default's value; return those names and values."""
    func, args = parsed.func, fn.args
    params = args.posonlyargs + args.args
    values = (func.__defaults__ or ()) + (1.0,)  # the seed's default comes last
    pairs = [(params[len(params) - len(args.defaults) + i], i, args.defaults, values[i])
             for i in range(len(args.defaults))]
    pairs += [(p, i, args.kw_defaults, (func.__kwdefaults__ or {}).get(p.id))
              for i, p in enumerate(args.kwonlyargs) if args.kw_defaults[i] is not None]
    namer = Namer(identifiers(fn))
    bound = {}
    for param, i, nodes, value in pairs:
        if not all(_resolves(n.id, parsed.namespace) for n in gast.walk(nodes[i])
                   if isinstance(n, gast.Name)):
            name = namer.fresh(param.id + "_default")
            nodes[i] = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
            bound[name] = value
    return bound


def _resolves(name: str, namespace) -> bool:
    try:
        namespace.lookup(name)
    except KeyError:
        return False
    return True


def _module(fn: gast.FunctionDef, parsed):
    """The generated module: imports, then ``fn``; and the free names it reads."""
    defaults = _defaults(fn, parsed)
    args = fn.args
    bound = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    bound |= {n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
              and isinstance(n.ctx, gast.Store)}
    loads = sorted({n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
                    and isinstance(n.ctx, gast.Load)} - bound)
    helpers = [n for n in loads if n in runtime.__all__]
    free = dict(defaults)
    for name in loads:
        if name in MODULES or name in helpers or name.startswith("__sourcegrad"):
            continue
        try:
            value = parsed.namespace.lookup(name)
        except KeyError:
            continue
        if name in RESERVED and _is_builtin(name, value):
            continue
        free[name] = value
    body = [gast.Import(names=[gast.alias(name="numpy", asname="np")])]
    if "math" in loads:
        body.append(gast.Import(names=[gast.alias(name="math", asname=None)]))
    if helpers:
        body.append(gast.ImportFrom(module="sourcegrad.runtime", level=0,
                                    names=[gast.alias(name=h, asname=None) for h in helpers]))
    body.append(fn)
    return gast.Module(body=body, type_ignores=[]), free


def _is_builtin(name, value) -> bool:
    import builtins

    return getattr(builtins, name, object()) is value


def _header(parsed, mode: str, wrt, free) -> str:
    digest = hashlib.sha256(parsed.text.encode()).hexdigest()[:16]
    where = parsed.where
    line = parsed.node.lineno
    lines = [
        f"{mode} derivative of {where.function} with respect to {', '.join(wrt)}.",
        f"Generated by sourcegrad {__version__} from {os.path.basename(where.filename)}, "
        f"line {line} (source sha256 {digest}).",
        "Do not edit: it is regenerated whenever the source changes.",
    ]
    if free:
        lines.append(f"Bound at load from the source's namespace: {', '.join(sorted(free))}.")
    return "\n".join(lines)
