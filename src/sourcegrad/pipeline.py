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
from dataclasses import dataclass, field

import gast

from . import __version__
from .accumulate import defer_accumulations
from .activity import activity
from .check import check
from .closures import LocalFunction, closures
from .comprehensions import comprehensions
from .emit import emit, to_source
from .forward import forward
from .forward_batched import forward_batched
from .blocks import elementwise, in_blocks
from .hoist import hoist
from .names import MODULES, RESERVED, Namer, identifiers
from .lower import lower
from .normalize import normalize
from .optimize import optimize
from .parse import parse
from .primitives import primitives
from .reverse import reverse, reverse_split
from .shapes import shapes
from .specialize import new_array, specialize
from .cache import Origins, manifest
from .ssa import single_assignment
from .trees import allocates
from . import runtime

#: The stages of reverse mode, in order (forward mode runs ``forward`` in place
#: of ``reverse``).
REVERSE_STAGES = (
    "parse", "check", "closures", "comprehensions", "lower", "normalize", "single_assignment",
    "activity", "shapes", "hoist", "reverse", "accumulate", "optimize", "blocks", "specialize",
    "emit", "load",
)  # hoist, accumulate, blocks and specialize: in grad's own function only


@dataclass
class Compiled:
    """A generated module, before loading: its text and how to bind it."""

    text: str
    function: object  # the generated function's name, or the primal and adjoint parts
    free: dict  # names from the source's namespace that the code reads
    source: object  # the Parsed source function
    wrt: tuple
    output_node: object  # the source's return statement, for error messages
    defaults: dict = field(default_factory=dict)  # function -> (__defaults__, __kwdefaults__)
    tangents: tuple = ()  # forward mode: the tangent parameters, one per wrt entry
    manifest: dict = field(default_factory=dict)  # how a later process rebinds it (cache.py)


@dataclass
class Unit:
    """The generated module under construction: its functions, and the user's
    functions whose derivatives it still has to generate.  A function called
    with a given set of active arguments is generated once, whoever calls it."""

    functions: list = field(default_factory=list)  # (FunctionDef, Parsed, seed default?)
    variants: dict = field(default_factory=dict)  # (function, active params) -> names
    pending: list = field(default_factory=list)
    namer: Namer = field(default_factory=Namer)
    batched: bool = False  # forward mode: functions of batched tangents (jvpb_)

    def split_names(self, func, active: tuple):
        """The names of the primal and adjoint parts of ``func`` for a call whose
        arguments for the parameters ``active`` are active."""
        key = (func, active, "reverse")
        if key not in self.variants:
            base = _base(func)
            self.variants[key] = (self.namer.fresh("primal_" + base),
                                  self.namer.fresh("adjoint_" + base))
            self.pending.append(key)
        return self.variants[key]

    def forward_name(self, func, active: tuple) -> str:
        """The name of the forward-mode function of ``func`` for a call whose
        arguments for the parameters ``active`` have tangents."""
        key = (func, active, "batched" if self.batched else "forward")
        if key not in self.variants:
            self.variants[key] = self.namer.fresh(("jvpb_" if self.batched else "jvp_")
                                                  + _base(func))
            self.pending.append(key)
        return self.variants[key]


def _base(func) -> str:
    return "lambda" if func.__name__ == "<lambda>" else func.__name__


def _debug(stage: str, tree) -> None:
    wanted = os.environ.get("SOURCEGRAD_DEBUG", "")
    names = {w.strip() for w in wanted.split(",")}
    if stage in names or "all" in names:
        text = to_source(tree) if isinstance(tree, gast.AST) else repr(tree)
        print(f"--- sourcegrad: after {stage} ---\n{text}", file=sys.stderr)


def _front(func, wrt):
    """The stages before the transformation: the normal form and its analyses."""
    parsed = func.parsed if isinstance(func, LocalFunction) else parse(func)
    check(parsed.node, parsed.where)
    parsed = comprehensions(closures(parsed))
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
    return parsed, fn, ops, active, names, single


def compile_reverse(func, wrt=0, split=False, value=True, signature=None) -> Compiled:
    """Run every reverse-mode stage on ``func`` (see ``REVERSE_STAGES``), and on
    the user's functions it calls.  The module defines ``grad_<name>``, or with
    ``split`` a primal part ``primal_<name>`` and an adjoint part
    ``adjoint_<name>`` (see ``reverse.reverse_split``).  Without ``value``,
    ``grad_<name>`` is ``grad``'s (see ``reverse.reverse``): the manifest's
    ``value`` says whether it still returns the output.  A ``signature``
    (``signature.Signature``) specializes ``grad_<name>`` to the parameters'
    ranks: it starts by checking them (see ``specialize``)."""
    unit = Unit()
    parsed, fn, ops, active, names, single = _front(func, wrt)
    returns_value = True
    if split:
        main = unit.split_names(func, names)
    else:
        found = shapes(fn, ops, signature)
        if signature is not None:
            fn, ops, active, found = _hoisted(fn, ops, active, found, names, parsed, signature)
        _debug("shapes", found.assumptions(_positional(fn)) if signature else "")
        returns_value = value or not found.scalar(fn.body[-1].value)
        grad_fn = reverse(fn, ops, active, names, parsed.where, single, found, unit, value)
        if not value:
            grad_fn = defer_accumulations(grad_fn)
        _debug("reverse", grad_fn)
        grad_fn = optimize(grad_fn)
        if signature is not None:
            grad_fn = _specialized(grad_fn, fn, found, signature, returns_value, names, single)
        unit.functions.append((grad_fn, parsed, value))
        main = grad_fn.name
    compiled = _finish(unit, parsed, names, main, "Reverse-mode")
    compiled.manifest["value"] = returns_value
    if signature is not None and not split and single:  # see api.grad
        compiled.manifest["new"] = new_array(unit.functions[0][0])
    return compiled


def _specialized(grad_fn, fn, found, signature, returns_value, wrt, single):
    """``grad_fn`` taking large arrays in blocks where it works element by
    element (``blocks``), after testing its arguments (``specialize``)."""
    arrays = [] if returns_value else elementwise(fn, found)
    if arrays and not (single and wrt[0] not in arrays):  # (not a number's gradient alone)
        grad_fn = in_blocks(grad_fn, arrays, None if single else wrt)
    return specialize(grad_fn, signature, found.assumptions(_positional(fn)))


def _hoisted(fn, ops, active, found, names, parsed, signature):
    """``fn`` with its loops' products of rows hoisted, and its analyses."""
    hoisted = hoist(fn, found)
    if hoisted is fn:
        return fn, ops, active, found
    _debug("hoist", hoisted)
    ops = primitives(hoisted, parsed.namespace, parsed.where)
    active = activity(hoisted, ops, set(names))
    return hoisted, ops, active, shapes(hoisted, ops, signature)


def _positional(fn) -> list:
    return [a.id for a in fn.args.posonlyargs + fn.args.args]


def compile_forward(func, wrt=0, batched=False) -> Compiled:
    """Run every forward-mode stage on ``func`` and the user's functions it
    calls: the module defines ``jvp_<name>(<params>, *, d<p>...)``; with
    ``batched``, ``jvpb_<name>`` whose tangents carry a leading batch axis
    (see ``forward_batched``; it raises ``NotBatchable`` for a function
    that calls a primitive with no batch-safe rule)."""
    unit = Unit(batched=batched)
    parsed, fn, ops, active, names, _ = _front(func, wrt)
    transform = forward_batched if batched else forward
    unit.namer.taken.add(("jvpb_" if batched else "jvp_") + fn.name)  # not for the callees
    jvp_fn = transform(fn, ops, active, names, parsed.where, shapes(fn, ops), unit)
    _debug("forward", jvp_fn)
    unit.functions.append((optimize(jvp_fn), parsed, False))
    mode = "Batched forward-mode" if batched else "Forward-mode"
    compiled = _finish(unit, parsed, names, jvp_fn.name, mode)
    compiled.tangents = tuple(a.id for a in jvp_fn.args.kwonlyargs[-len(names):]) if names else ()
    compiled.manifest["tangents"] = list(compiled.tangents)
    return compiled


def _finish(unit: Unit, parsed, names, main, mode: str) -> Compiled:
    """Generate the functions ``unit`` still owes, and the module's text."""
    while unit.pending:
        callee, params, kind = key = unit.pending.pop(0)
        c_parsed, c_fn, c_ops, c_active, c_names, _ = _front(callee, params)
        _refuse_argument_writes(c_parsed)
        found = shapes(c_fn, c_ops)
        if kind in ("forward", "batched"):
            transform = forward_batched if kind == "batched" else forward
            parts = [transform(c_fn, c_ops, c_active, c_names, c_parsed.where, found, unit,
                               unit.variants[key])]
            seeds = (False,)
        else:
            parts = reverse_split(c_fn, c_ops, c_active, c_names, c_parsed.where,
                                  unit.variants[key], found, unit)
            seeds = (False, None)
        for part, seed in zip(parts, seeds):
            _debug("forward" if kind == "batched" else kind, part)
            unit.functions.append((optimize(part), c_parsed, seed))
    _debug("optimize", unit.functions[0][0])
    module, free, defaults, origins = _module(unit)
    callees = sorted({func.__name__ for func, _, _ in unit.variants})
    text = emit(module, _header(parsed, mode, names, free, callees))
    info = {"function": main, "wrt": list(names)}
    found = manifest(parsed.func, [p for _, p, _ in unit.functions], origins, info)
    return Compiled(text, main, free, parsed, names, parsed.node.body[-1], defaults,
                    manifest=found)


def _refuse_argument_writes(parsed) -> None:
    """A called function may not write into an array its caller passed: the
    caller's derivative would not see the change.  A parameter that a
    statement of the body rebinds to a new array (``x = x * 1.0``,
    ``x = np.copy(x)``; not a view) is the function's own after it."""
    from .errors import UnsupportedSyntaxError

    args = parsed.node.args
    arguments = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    for stmt in parsed.node.body:
        for node in gast.walk(stmt):
            if (isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store)
                    and isinstance(node.value, gast.Name) and node.value.id in arguments):
                raise parsed.where.error(
                    UnsupportedSyntaxError, node,
                    f"{parsed.node.name} writes into its argument {node.value.id}, which "
                    "belongs to its caller; copy it first or return a new array")
        if isinstance(stmt, gast.Assign) and allocates(stmt.value):
            arguments -= {t.id for t in stmt.targets if isinstance(t, gast.Name)}


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


def _defaults(fn: gast.FunctionDef, parsed, seed: bool) -> dict:
    """Replace each default of ``fn`` that the generated module cannot evaluate
    (it reads a name of an enclosing scope) by a name bound at load to the
    default's value; return those names and values."""
    func, args = parsed.func, fn.args
    params = args.posonlyargs + args.args
    values = (func.__defaults__ or ()) + ((1.0,) if seed else ())  # the seed's comes last
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
            bound[name] = value, (func, "default", param.id)
    return bound


def _resolves(name: str, namespace) -> bool:
    try:
        namespace.lookup(name)
    except KeyError:
        return False
    return True


def _merge_twins(unit: Unit) -> None:
    """Keep one of generated functions that differ only in name (the primal
    parts of one function called with different active arguments)."""
    seen, renamed, kept = {}, {}, []
    for fn, parsed, seed in unit.functions:  # twins of one source function only
        body = (id(parsed.func), to_source(gast.Module(body=fn.body, type_ignores=[]))
                + to_source(fn.args))
        if body in seen and fn.name.startswith("primal_"):
            renamed[fn.name] = seen[body]
            continue
        seen.setdefault(body, fn.name)
        kept.append((fn, parsed, seed))
    for fn, _, _ in kept:
        for node in gast.walk(fn):
            if isinstance(node, gast.Name) and node.id in renamed:
                node.id = renamed[node.id]
    unit.functions[:] = kept


def _module(unit: Unit):
    """The generated module: imports, then the functions; the free names they
    read (bound at load) and the defaults of each function."""
    _merge_twins(unit)
    generated = {fn.name for fn, _, _ in unit.functions}
    free, defaults, used, origins = {}, {}, set(), Origins()
    for fn, parsed, seed in unit.functions:
        if seed is not None:
            func = parsed.func
            defaults[fn.name] = ((func.__defaults__ or ()) + ((1.0,) if seed else ()),
                                 func.__kwdefaults__)
            origins.defaults[fn.name] = (
                func if func.__defaults__ or func.__kwdefaults__ else None, bool(seed))
            _bind_free(free, origins, _defaults(fn, parsed, seed), fn, unit.namer)
        loads = _free_loads(fn) - generated
        used |= loads
        _bind_free(free, origins, _lookup_free(loads, parsed), fn, unit.namer)
    helpers = sorted(n for n in used if n in runtime.__all__)
    body = [gast.Import(names=[gast.alias(name="numpy", asname="np")])]
    if "math" in used:
        body.append(gast.Import(names=[gast.alias(name="math", asname=None)]))
    if helpers:
        body.append(gast.ImportFrom(module="sourcegrad.runtime", level=0,
                                    names=[gast.alias(name=h, asname=None) for h in helpers]))
    body += [fn for fn, _, _ in unit.functions]
    return gast.Module(body=body, type_ignores=[]), free, defaults, origins


def _free_loads(fn: gast.FunctionDef) -> set:
    args = fn.args
    bound = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    bound |= {n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
              and isinstance(n.ctx, gast.Store)}
    return {n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)} - bound


def _lookup_free(loads, parsed) -> dict:
    """The values of the names in ``loads`` that the source's namespace binds
    (modules the generated code imports itself, helpers and builtins aside),
    each with where it comes from."""
    out = {}
    for name in sorted(loads):
        if name in MODULES or name in runtime.__all__ or name.startswith("__sourcegrad"):
            continue
        try:
            value = parsed.namespace.lookup(name)
        except KeyError:
            continue
        if name in RESERVED and _is_builtin(name, value):
            continue
        out[name] = value, (parsed.func, "name", parsed.namespace.aliases.get(name, name))
    return out


def _bind_free(free: dict, origins: Origins, found: dict, fn, namer: Namer) -> None:
    """Add the names ``found`` (read by ``fn``; name -> value and origin) to the
    module's ``free`` names; one that means something else for another
    function (two closures of one factory, say) is renamed in ``fn``."""
    for name, (value, origin) in found.items():
        if name in free and free[name] is not value:
            namer.taken |= set(free) | identifiers(fn)
            fresh = namer.fresh(name)
            for node in gast.walk(fn):
                if isinstance(node, gast.Name) and node.id == name:
                    node.id = fresh
            name = fresh
        free[name], origins.free[name] = value, origin


def _is_builtin(name, value) -> bool:
    import builtins

    return getattr(builtins, name, object()) is value


def _header(parsed, mode: str, wrt, free, callees=()) -> str:
    digest = hashlib.sha256(parsed.text.encode()).hexdigest()[:16]
    where = parsed.where
    line = parsed.node.lineno
    lines = [
        f"{mode} derivative of {where.function} with respect to {', '.join(wrt)}.",
        f"Generated by sourcegrad {__version__} from {os.path.basename(where.filename)}, "
        f"line {line} (source sha256 {digest}).",
        "Do not edit: it is regenerated whenever the source changes.",
    ]
    if callees:
        lines.append(f"With the derivatives of the functions it calls: {', '.join(callees)}.")
    if free:
        lines.append(f"Bound at load from the source's namespace: {', '.join(sorted(free))}.")
    return "\n".join(lines)
