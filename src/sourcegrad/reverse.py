"""Stage 5, reverse: the primal sweep, then the adjoint sweep.

Invariant established: the result is a function ``grad_<name>(<params>,
b<out>=1.0)`` that runs the primal statements (saving on a tape the values
that loops and branches overwrite and the adjoint reads), then, in reverse
order, the inlined reverse rule of every statement whose target is active,
and returns the output and the adjoints of the ``wrt`` parameters.  Branches
are replayed with the same test; loops run backwards (``reversed(range(...))``
or as many times as they ran).  Each adjoint block is preceded by a
``# grad of:`` comment quoting its source.  The first contribution to an
adjoint assigns it and later ones add to it; an adjoint is set to zero only
where control flow joins paths that disagree on whether it is set.
A call with no derivative rule raises its ``NoRuleError`` here, and only if
its result is active.

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

from .dtypes import inexact_names
from .emit import comment, to_source
from .fold_seed import fold_unit_seed
from .inline import instantiate
from .names import Namer, identifiers
from .optimize import elide_broadcasts
from .primitives import assignments, is_append, is_write
from .reverse_statements import ControlFlow, Effects, State, _call, _call_to, _loads, _name
from .ssa import mutable_names
from .tape import bindings, instrument, needed_pops, needs_counter, pop, recomputable




def reverse(fn: gast.FunctionDef, ops: dict, active, wrt, where, single=True,
            shapes=None, unit=None, value=True) -> gast.FunctionDef:
    """The reverse-mode derivative of the normal-form function ``fn``.

    ``wrt`` lists parameter names; ``single`` returns one gradient rather
    than a tuple of them; ``shapes`` (a ``shapes.Shapes``) lets adjoints skip
    ``unbroadcast`` where shapes provably match; ``unit`` (a
    ``pipeline.Unit``) names the generated functions of the user's functions
    that ``fn`` calls.  With ``value`` false the function is ``grad``'s: no
    seed parameter (the seed is 1.0, folded into the adjoints), and it
    returns the gradient alone if the output is provably a scalar (else the
    output too, for the caller to check).
    """
    return _Reverse(fn, ops, active, where, shapes, unit).build(wrt, single, value)


def reverse_split(fn: gast.FunctionDef, ops: dict, active, wrt, where, names, shapes=None,
                  unit=None):
    """``fn`` as two functions named ``names``: a primal part that returns the
    output and a record of what the adjoint needs, and an adjoint part that
    takes the record and the output's adjoint and returns those of ``wrt``."""
    return _Reverse(fn, ops, active, where, shapes, unit).build_split(wrt, names)


class _Reverse(Effects, ControlFlow):
    def __init__(self, fn, ops, active, where, shapes=None, unit=None):
        self.fn, self.ops, self.active, self.where = fn, ops, active, where
        self.shapes = shapes
        self.unit = unit
        self.namer = Namer(identifiers(fn))
        self.adjoints = {}
        self.primal_of = {}
        self.mutable = mutable_names(fn)
        self.bound = bindings(fn)
        self.tape = self.namer.fresh("tape")
        self.pops = {}  # id(pop statement) -> (id(the assignment it undoes), name, pop)
        self.counted = set()  # ids of the loops whose adjoint uses their trip count
        self.saved = set()  # primal names the adjoint sweep reads
        self.records = {id(s): self.namer.fresh(self.ops[id(s)].callee.__name__.strip("<>")
                                                + "_record")
                        for s in assignments(fn.body) if self.ops[id(s)].callee is not None}
        self.calls = {}  # id(call statement) -> its primal statement, when active
        self.counters = {id(loop): self.namer.fresh("trips") for loop in _loops(fn.body)
                         if needs_counter(loop)}
        self.nested = _nested_loops(fn.body)
        self.remat = {id(loop): recomputable(loop, fn) for loop in _loops(fn.body)
                      if isinstance(loop, gast.For)}
        self.recomputed = {id(s) for stmts in self.remat.values() for s in stmts}
        self.site_names = {id(s): s.targets[0].id for s in assignments(fn.body)}

    def adjoint_of(self, name):
        if name not in self.active:
            return None
        if name not in self.adjoints:
            self.adjoints[name] = self.namer.fresh("b" + name)
            self.primal_of[self.adjoints[name]] = name
        return self.adjoints[name]

    def seed(self):
        """The output's name, its adjoint's name, and the state it starts."""
        output = self.fn.body[-1].value.id
        seed = self.namer.fresh("b" + output)
        init = frozenset()
        if output in self.active:
            self.adjoints[output] = seed
            self.primal_of[seed] = output
            init = frozenset({seed})
        return output, seed, State(init, frozenset())

    def sweeps(self, state):
        """The primal sweep, the adjoint sweep, the state after it, and the
        name holding the output's value."""
        self.require_rules()
        body = self.fn.body[:-1]
        sweep, after = self.sweep(body, state)
        if self.shapes is not None:  # the parameters' adjoints are returned as they are
            args = self.fn.args
            returned = {self.adjoints[a.id] for a in args.posonlyargs + args.args + args.kwonlyargs
                        if a.id in self.adjoints}
            sweep = elide_broadcasts(sweep, self.shapes.alike, returned)
        present = {id(node) for node in gast.walk(gast.Module(body=sweep, type_ignores=[]))
                   if id(node) in self.pops}  # a loop may have drafted its body twice
        live = _locals(self.fn) - _assigned(self.fn.body) | set(after.init)
        keep = needed_pops(sweep, present, live)
        sweep = _without(sweep, present - keep)
        sites = {}
        for node in gast.walk(gast.Module(body=sweep, type_ignores=[])):
            if id(node) in keep:
                site, name, _ = self.pops[id(node)]
                sites.setdefault(site, []).insert(0, name)
        primal = self.primal(body, sites)
        output = result = self.fn.body[-1].value.id
        if any(output in names for names in sites.values()):
            result = self.namer.fresh(output + "_value")
            primal.append(gast.Assign(targets=[_name(result, gast.Store())],
                                      value=_name(output), type_comment=None))
        return primal, sweep, after, result

    def gradients(self, wrt, after) -> list:
        return [_name(self.adjoints[w]) if self.adjoints.get(w) in after.init else _call(
            "zeros_like", _name(w)) for w in wrt]

    def build(self, wrt, single, value=True) -> gast.FunctionDef:
        fn = self.fn
        output, seed, state = self.seed()
        primal, sweep, after, result = self.sweeps(state)
        grads = self.gradients(wrt, after)
        grad = grads[0] if single else gast.Tuple(elts=grads, ctx=gast.Load())
        ret = gast.Return(value=gast.Tuple(elts=[_name(result), grad], ctx=gast.Load()))
        if not value:
            if self.shapes is not None and self.shapes.scalar(_name(output)):
                ret = gast.Return(value=grad)
            *sweep, ret = fold_unit_seed(sweep + [ret], seed, inexact_names(self.fn),
                                         primal=_locals(self.fn))
            seed = None
        body = [comment("primal")] + primal + ([comment("adjoint")] + sweep if sweep else [])
        out = gast.FunctionDef(name="grad_" + fn.name, args=_with_seed(fn.args, seed),
                               body=body + [ret], decorator_list=[], returns=None,
                               type_comment=None, type_params=[])
        return gast.copy_location(out, fn)

    def build_split(self, wrt, names):
        fn = self.fn
        _, seed, state = self.seed()
        primal, sweep, after, result = self.sweeps(state)
        grads = gast.Return(value=gast.Tuple(elts=self.gradients(wrt, after), ctx=gast.Load()))
        known = _locals(fn) | set(self.records.values()) | set(self.counters.values()) | {
            self.tape}
        kept = sorted(_loads(gast.Module(body=sweep + [grads], type_ignores=[])) & known)
        record = self.namer.fresh("record")
        params = {a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        unset = [n for n in kept if n not in params | _initialised(primal)]
        primal = [gast.Assign(targets=[_name(n, gast.Store())],
                              value=gast.Constant(value=None, kind=None), type_comment=None)
                  for n in unset] + primal  # bound on some paths only
        saved = gast.Tuple(elts=[_name(n) for n in kept], ctx=gast.Load())
        ret = gast.Return(value=gast.Tuple(elts=[_name(result), saved], ctx=gast.Load()))
        forward = gast.FunctionDef(name=names[0], args=_with_seed(fn.args, None),
                                   body=primal + [ret], decorator_list=[], returns=None,
                                   type_comment=None, type_params=[])
        unpack = [gast.Assign(targets=[gast.Tuple(elts=[_name(n, gast.Store()) for n in kept],
                                                  ctx=gast.Store())],
                              value=_name(record), type_comment=None)] if kept else []
        args = gast.arguments(args=[_name(record, gast.Param()), _name(seed, gast.Param())],
                              posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                              kwarg=None, defaults=[])
        backward = gast.FunctionDef(name=names[1], args=args, body=unpack + sweep + [grads],
                                    decorator_list=[], returns=None, type_comment=None,
                                    type_params=[])
        return gast.copy_location(forward, fn), gast.copy_location(backward, fn)

    def require_rules(self) -> None:
        """Raise the error of the first active call that has no usable rule."""
        for stmt in assignments(self.fn.body):
            op = self.ops[id(stmt)]
            if op.missing is not None and stmt.targets[0].id in self.active:
                raise op.missing

    def sweep(self, body, init):
        """The adjoint sweep, restoring from the tape the values it reads.

        A first pass, restoring nothing, finds which primal names the adjoint
        code reads; the second restores those (and only those) where an
        assignment in a loop or a branch overwrote them.
        """
        names, state = set(self.namer.taken), (dict(self.adjoints), dict(self.primal_of))
        draft, _ = self.block(body, init)
        known = _locals(self.fn) | set(self.records.values())
        self.saved = _loads(gast.Module(body=draft, type_ignores=[])) & known
        self.namer.taken, (self.adjoints, self.primal_of) = names, state
        self.pops, self.counted, self.calls = {}, set(), {}
        return self.block(body, init)

    # the primal sweep ------------------------------------------------------

    def primal(self, body, sites) -> list:
        """The primal statements with the tape, the loop counters and the calls
        that record what their adjoints need."""
        counters = {k: v for k, v in self.counters.items() if k in self.counted}
        code = instrument(body, sites, counters, self.tape, self.calls)
        if not sites and not (self.counted & self.nested):
            return code
        unbound = set()
        for site, names in sites.items():  # a record, or a target perhaps unbound
            unbound |= {n for n in names if isinstance(n, str) and (
                n != self.site_names[site] or site in self.bound.maybe_unbound)}
        start = [gast.Assign(targets=[_name(self.tape, gast.Store())],
                             value=gast.List(elts=[], ctx=gast.Load()), type_comment=None)]
        start += [gast.Assign(targets=[_name(n, gast.Store())],
                              value=gast.Constant(value=None, kind=None), type_comment=None)
                  for n in sorted(unbound)]
        return start + code

    # the adjoint sweep -----------------------------------------------------

    def block(self, stmts, state, heading=None):
        """The adjoint of ``stmts`` from ``state``; return the code and the state
        after it.  ``heading`` is the source span the enclosing comment quotes."""
        out = []
        last = heading
        for stmt in reversed(stmts):
            span = _span(stmt)
            code, state = self.statement(stmt, state, span if span != last else heading)
            if any(id(s) not in self.pops for s in code):
                if span != last:
                    out.append(comment("grad of: " + self.source_text(stmt)))
                    last = span
            out.extend(code)
        return out, state

    def statement(self, stmt, state, heading):
        if is_write(stmt):
            return self.write(stmt, state)
        if is_append(stmt):
            return self.append(stmt, state)
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt, state)
        if isinstance(stmt, gast.If):
            return self.branch(stmt, state, heading)
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, state, heading)
        return [], state

    def assignment(self, stmt, state):
        target = stmt.targets[0].id
        op = self.ops[id(stmt)]
        adjoint = self.adjoints.get(target)
        code = []
        if adjoint in state.init and op.callee is not None:
            code, state = self.settle(self.call(stmt, op, adjoint), state)
        elif op.template is not None and adjoint in state.init:
            same = (lambda a, b: self.shapes.same(stmt, a, b)) if self.shapes else None
            rank = (lambda name: self.shapes.rank(stmt, name)) if self.shapes else None
            axes = (lambda a, b: self.shapes.sum_axes(stmt, a, b)) if self.shapes else None
            block = instantiate(op.template, target, op.bound, self.adjoint_of, self.namer, same,
                                rank=rank, sum_axes=axes)
            code, state = self.settle(block, state)
        if target in self.mutable:  # the value before this assignment gets none of it
            state = State(state.init - {adjoint}, state.owned - {adjoint})
        if id(stmt) not in self.bound.first and id(stmt) not in self.recomputed:
            names = [target] + ([self.records[id(stmt)]] if id(stmt) in self.calls else [])
            for name in reversed(names):
                if name in self.saved:
                    restore = gast.copy_location(pop(self.tape, name), stmt)
                    self.pops[id(restore)] = (id(stmt), name, restore)  # kept: ids stay unique
                    code.append(restore)
        return code, state

    def settle(self, block, state):
        """``bx += e`` becomes ``bx = e`` the first time and ``bx = bx + e``
        later; an index's adjoint adds into ``bx`` in place when ``bx`` is an
        array of the sweep's own that nothing else has read."""
        out = []
        init, owned = state
        for stmt in block:
            value = stmt.value
            owned = owned - (_loads(value) & set(self.primal_of))
            if not isinstance(stmt, gast.AugAssign):
                out.append(stmt)
                continue
            name = stmt.target.id
            if name in owned and _call_to(value, "unindex"):
                grad, primal, index = value.args
                if self.basic_index(primal, index):  # an array's item: add in place
                    target = gast.Subscript(value=_name(name), slice=index, ctx=gast.Store())
                    out.append(gast.AugAssign(target=target, op=gast.Add(), value=grad))
                    continue
                args = [_name(name), index, grad] + ([primal] if _relative(index) else [])
                out.append(gast.Assign(targets=[_name(name, gast.Store())],
                                       value=_call("add_at", *args), type_comment=None))
                continue
            if name in init:
                out.append(_accumulate(name, value, name in owned))
                init, owned = init | {name}, owned | {name}
                continue
            fresh = _call_to(value, "unindex") or isinstance(value, (gast.BinOp, gast.UnaryOp))
            init, owned = init | {name}, (owned | {name}) if fresh else owned - {name}
            out.append(gast.Assign(targets=[_name(name, gast.Store())], value=value,
                                   type_comment=None))
        return out, State(init, owned)

    def basic_index(self, primal, index) -> bool:
        """Whether ``primal[index]`` is provably an array's item by an integer."""
        if self.shapes is None or not isinstance(primal, gast.Name) or not self.shapes.array(
                primal.id):
            return False
        if isinstance(index, gast.Constant):
            return type(index.value) is int and index.value >= 0
        return isinstance(index, gast.Name) and self.shapes.integer(index.id)

    def zeros(self, names, bound=frozenset(), stmt=None) -> list:
        """``bx = zeros_like(x)`` for each adjoint in ``names``; shaped like the
        adjoint itself where it is in ``bound`` (it held a value already).  If
        ``x`` may be unbound before ``stmt``, no code on this path reads the
        adjoint again (only an assignment to ``x`` would): ``0.0`` will do."""
        sure = self.bound.sure.get(id(stmt)) if stmt is not None else None
        out = []
        for b in sorted(names):
            primal = self.primal_of[b]
            if b in bound:
                value = _call("zeros_like", _name(b))
            elif sure is not None and primal not in sure:
                value = gast.Constant(value=0.0, kind=None)
            else:
                value = _call("zeros_like", _name(primal))
            out.append(gast.Assign(targets=[_name(b, gast.Store())], value=value,
                                   type_comment=None))
        return out

    def source_text(self, stmt) -> str:
        """The user's statement that ``stmt`` came from, on one line."""
        if isinstance(stmt, (gast.If, gast.For, gast.While)) and self.where is not None:
            line = getattr(stmt, "lineno", None)
            text = self.where.line_text(line).strip() if line else ""
            return text or to_source(stmt).splitlines()[0]
        text = self.where.segment(stmt) if self.where else ""
        return text or to_source(stmt)


def _accumulate(name: str, value, owned: bool):
    """``name = name + value`` (``- v`` for ``+ -v``); in place (``+=``) when
    ``name`` is an array of the sweep's own that nothing else has read."""
    op = gast.Add()
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        op, value = gast.Sub(), value.operand
    if owned:
        return gast.AugAssign(target=_name(name, gast.Store()), op=op, value=value)
    return gast.Assign(targets=[_name(name, gast.Store())], type_comment=None,
                       value=gast.BinOp(left=_name(name), op=op, right=value))


def _relative(index) -> bool:
    """Whether ``index`` may be relative to the length (a negative number or a
    slice): ``add_at`` then needs the indexed value to place it in a list."""
    return not (isinstance(index, gast.Name) or (
        isinstance(index, gast.Constant) and isinstance(index.value, int) and index.value >= 0))


def _locals(fn) -> set:
    """The parameters of ``fn`` and the names it assigns."""
    args = fn.args
    return {a.id for a in args.posonlyargs + args.args + args.kwonlyargs} | {
        n.id for n in gast.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _assigned(body) -> set:
    return {n.id for s in body for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _without(body, drop: set) -> list:
    """``body`` without the statements whose ids are in ``drop``, at any depth."""
    out = []
    for stmt in body:
        if id(stmt) in drop:
            continue
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            stmt.body = _without(stmt.body, drop) or [gast.Pass()]
            stmt.orelse = _without(stmt.orelse, drop)
        out.append(stmt)
    return out


def _initialised(code) -> set:
    """Names the straight-line part of ``code`` assigns."""
    return {n.id for s in code if isinstance(s, gast.Assign)
            for n in gast.walk(s.targets[0]) if isinstance(n, gast.Name)}


def _loops(body) -> list:
    out = []
    for stmt in body:
        if isinstance(stmt, (gast.For, gast.While)):
            out.append(stmt)
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            out.extend(_loops(stmt.body) + _loops(stmt.orelse))
    return out


def _nested_loops(body, inside=False) -> set:
    """Ids of the loops that run inside another loop."""
    out = set()
    for stmt in body:
        is_loop = isinstance(stmt, (gast.For, gast.While))
        if is_loop and inside:
            out.add(id(stmt))
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            out |= _nested_loops(stmt.body + stmt.orelse, inside or is_loop)
    return out


def _span(stmt):
    """Where in the user's file ``stmt`` came from (its original statement)."""
    return tuple(getattr(stmt, a, None)
                 for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"))


def _with_seed(args: gast.arguments, seed) -> gast.arguments:
    """``args`` with the seed ``seed=1.0`` after the positional parameters (if
    ``seed`` is given), and without annotations (the generated module need not
    know the types' names)."""
    extra = [_name(seed, gast.Param())] if seed else []
    default = [gast.Constant(value=1.0, kind=None)] if seed else []
    return gast.arguments(
        args=_params(args.args) + extra,
        posonlyargs=_params(args.posonlyargs), vararg=None,
        kwonlyargs=_params(args.kwonlyargs), kw_defaults=list(args.kw_defaults),
        kwarg=None, defaults=list(args.defaults) + default,
    )


def _params(names) -> list:
    return [_name(p.id, gast.Param()) for p in names]
