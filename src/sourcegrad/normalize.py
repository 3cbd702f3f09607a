"""Stage 3, normalize: lower the function to a small normal form.

Invariant established: every statement of the body is one of

====================================  ======================================
``name = atom``                       a copy
``name = atom OP atom``               a binary operator (``+ - * / ** @`` ...)
``name = OP atom``                    a unary operator
``name = atom CMP atom``              one comparison
``name = f(arg, ..., k=arg)``         a call; ``f`` spelled canonically
                                      (``np.tanh``); an ``arg`` is an atom or
                                      a tuple or list of atoms
``name = atom[index]``                an index of atoms, slices of atoms,
                                      ``None`` and ``...``
``name = atom.attr``                  an attribute read (``x.dtype``)
``name = (atom, ...)``                a tuple or list literal
``expr`` / ``assert ...``             a side effect, kept as written
``if test: ... else: ...``            ``test`` an atom or ``not atom``
``for name in range(atom, ...): ...`` (loops iterate over ranges after the
                                      lower stage)
``while test: ...``                   the test's statements repeated at the
                                      end of the body, into the same name
``name[index] = atom``                 a write into an array, in place
``name.append(atom)``                 an append to a local list
``name = list_pop(atom)``             ``items.pop()``, as a list used as a stack
``break``                             last in its branch (lower stage)
``return name``                       once, as the last statement
====================================  ======================================

where an atom is a name, a constant, or a reference to a module attribute
(``np.pi``).  Method calls and attributes of arrays become NumPy calls,
augmented assignments are expanded (and refused where the in-place update
would show through another name that is read later: a copy or a view) and
tuple unpacking is split, every part evaluated before any name is bound.
``a and b``, ``a or b`` and ``a if c else b`` become ``if`` statements, so
only the operands Python would evaluate are evaluated.  A product of a name
with itself is its square (``h * h`` is ``h ** 2``, exactly, and its adjoint
one term), and a negated factor comes out (``-x * y`` is ``-(x * y)``).  Each new statement keeps the line of the statement it came from.

>>> import numpy as np
>>> from sourcegrad.parse import parse
>>> from sourcegrad.emit import to_source
>>> def loss(W, x):
...     h = np.tanh(W @ x)
...     return (h * h).sum()
>>> print(to_source(normalize(parse(loss))))
def loss(W, x):
    matmul = W @ x
    h = np.tanh(matmul)
    power = h ** 2
    loss = np.sum(power)
    return loss
"""

from __future__ import annotations


import gast

from .errors import UnsupportedSyntaxError
from .primitives import is_append
from .names import Namer, dotted, identifiers, resolve
from .normal_expressions import Expressions
from .trees import clone

#: Calls made for their effect that change nothing sourcegrad follows.
OUTPUT = {"print", "debug", "info", "warning", "warn", "error", "exception", "critical"}

#: How the operators of augmented assignments are written.
_SYMBOLS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
            gast.MatMult: "@", gast.FloorDiv: "//", gast.Mod: "%"}
#: NumPy functions whose result may share memory with their first argument.
VIEWS = {"reshape", "transpose", "ravel", "squeeze", "expand_dims", "swapaxes", "moveaxis",
         "broadcast_to", "asarray", "diagonal", "atleast_1d", "atleast_2d", "atleast_3d",
         "real", "imag"}

def normalize(parsed) -> gast.FunctionDef:
    """The normal form of ``parsed.node``, a new ``FunctionDef``."""
    return _Normalizer(parsed).run()


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _matches(target, value) -> bool:
    """Whether ``target = value`` unpacks a literal of the target's length."""
    return (isinstance(target, (gast.Tuple, gast.List))
            and isinstance(value, (gast.Tuple, gast.List))
            and len(value.elts) == len(target.elts))


def _names_in(targets) -> set:
    """The names that the assignment targets ``targets`` bind."""
    return {n.id for t in targets for n in gast.walk(t) if isinstance(n, gast.Name)}


def _is_pop(value) -> bool:
    """Whether ``value`` is ``items.pop()``."""
    return (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
            and value.func.attr == "pop" and not value.args and not value.keywords)


def _tested(test):
    """The name a branch test reads (``c`` in ``c`` and ``not c``), or ``None``."""
    if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        test = test.operand
    return test.id if isinstance(test, gast.Name) else None


def _assigned(node) -> set:
    out = {a.id for a in node.args.args + node.args.posonlyargs + node.args.kwonlyargs}
    for sub in gast.walk(node):
        if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Store):
            out.add(sub.id)
    return out


class _Sharing:
    """Which local names may share memory: copies (``y = x``) and views
    (``y = x[1:]``, ``y = x.T``) of one another, as far as the code shows."""

    def __init__(self):
        self.groups = {}

    def bind(self, target: str, value) -> None:
        for other in self.groups.pop(target, set()):
            self.groups[other].discard(target)
        source = _viewed(value)
        if source is None or source == target:
            return
        group = self.groups.get(source, set()) | {source}
        for member in group:
            self.groups.setdefault(member, set()).add(target)
        self.groups[target] = group

    def shared(self, name: str) -> set:
        return self.groups.get(name, set()) - {name}


def _viewed(value):
    """The name whose memory ``value`` may share, or ``None``."""
    if isinstance(value, gast.Name):
        return value.id
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and any(
            isinstance(n, gast.Slice) or (isinstance(n, gast.Constant) and n.value in (
                None, Ellipsis)) for n in gast.walk(value.slice)):
        return value.value.id
    if (isinstance(value, gast.Call) and (dotted(value.func) or [""])[-1] in VIEWS
            and value.args and isinstance(value.args[0], gast.Name)):
        return value.args[0].id
    return None


def _loads(stmts) -> set:
    return {n.id for s in stmts for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _suffix_loads(stmts) -> list:
    """For each statement, the names read by the statements after it (each
    statement walked once, so a long block costs linear time)."""
    out, rest = [], frozenset()
    for stmt in reversed(stmts):
        out.append(rest)
        rest = rest | _loads([stmt])
    return out[::-1]


class _Normalizer(Expressions):
    def __init__(self, parsed):
        self.node = parsed.node
        self.namespace = parsed.namespace
        self.where = parsed.where
        self.locals = _assigned(parsed.node)
        self.namer = Namer(identifiers(parsed.node.args) | set().union(
            *(identifiers(s) for s in parsed.node.body)))
        self.body = []
        self.origin = parsed.node
        self.sharing = _Sharing()
        self.read_later = self.read_after = set()
        self.items_of, self.returned_by_calls = {}, set()
        self.written = {n.value.id for n in gast.walk(parsed.node) if isinstance(
            n, gast.Subscript) and isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name)}

    def run(self) -> gast.FunctionDef:
        self.body = self.block(self.node.body, set())
        out = gast.FunctionDef(
            name=self.node.name, args=self.node.args, body=self.body, decorator_list=[],
            returns=None, type_comment=None, type_params=[],
        )
        return gast.copy_location(out, self.node)

    def error(self, node, message):
        return self.where.error(UnsupportedSyntaxError, node, message)

    def block(self, stmts, later: set, after=None) -> list:
        """The normal form of the statements ``stmts``; ``later`` holds the
        names read after them (in the rest of the function or the next
        iteration of a loop around them), ``after`` those read after them in
        this turn of the loops around them."""
        after = later if after is None else after
        saved, self.body = self.body, []
        for stmt, rest in zip(stmts, _suffix_loads(stmts)):
            self.origin = stmt
            self.read_later, self.read_after = rest | later, rest | after
            self.statement(stmt)
        out, self.body = self.body, saved
        return out

    def nested(self, emit_into) -> list:
        """The statements that ``emit_into()`` emits, collected apart."""
        saved, self.body = self.body, []
        emit_into()
        out, self.body = self.body, saved
        return out

    # control flow ----------------------------------------------------------

    def branch(self, stmt) -> None:
        test = self.test(stmt.test)
        later, after = self.read_later, self.read_after
        body = self.block(stmt.body, later, after) or [gast.Pass()]
        orelse = self.block(stmt.orelse, later, after)
        self.origin = stmt
        self.emit(gast.If(test=test, body=body, orelse=orelse))

    def loop(self, stmt) -> None:
        iterate = gast.Call(func=_name("range"), args=[self.atom(a) for a in stmt.iter.args],
                            keywords=[])
        later = self.read_later | _loads([stmt])
        body = self.block(stmt.body, later, self.read_after) or [gast.Pass()]
        self.origin = stmt
        self.emit(gast.For(target=_name(stmt.target.id, gast.Store()), iter=iterate, body=body,
                           orelse=[], type_comment=None))

    def repeat(self, stmt) -> None:
        """``while test``: the test is computed before the loop and again, into
        the same name, at the end of the body."""
        test = self.test(stmt.test)
        later = self.read_later | _loads([stmt])
        body = self.block(stmt.body, later, self.read_after)
        name = _tested(test)
        if name is not None and _tested(stmt.test) != name:
            self.origin = stmt
            body += self.nested(lambda: self.test(stmt.test, into=name))
        self.origin = stmt
        self.emit(gast.While(test=test, body=body or [gast.Pass()], orelse=[]))

    def test(self, e, into=None):
        """``e`` as a branch test: an atom or ``not atom``, computed by the
        statements emitted before it (into the name ``into`` if given)."""
        if isinstance(e, gast.UnaryOp) and isinstance(e.op, gast.Not):
            inner = self.test(e.operand, into)
            if isinstance(inner, gast.UnaryOp):
                return inner.operand
            return gast.UnaryOp(op=gast.Not(), operand=inner)
        if isinstance(e, gast.BoolOp):
            return self.boolean(e, into)
        if isinstance(e, (gast.Name, gast.Constant)) and into is None:
            return e
        value = self.rhs(e)
        if isinstance(value, (gast.Name, gast.Constant)) and into is None:
            return value
        name = into or self.namer.fresh(self.hint(value))
        self.assign(name, value)
        return _name(name)

    def boolean(self, e, into=None) -> gast.Name:
        """``a and b`` / ``a or b`` into a name, evaluating ``b`` only when
        Python would."""
        name = into or self.namer.fresh("cond")
        first, *rest = e.values
        self.assign(name, self.rhs(first))
        for value in rest:
            inner = self.nested(lambda: self.assign(name, self.rhs(value)))
            test = _name(name) if isinstance(e.op, gast.And) else gast.UnaryOp(
                op=gast.Not(), operand=_name(name))
            self.emit(gast.If(test=test, body=inner, orelse=[]))
        return _name(name)

    def choice(self, e, into=None) -> gast.Name:
        """``a if c else b`` into a name, evaluating only the branch taken."""
        name = into or self.namer.fresh("choice")
        test = self.test(e.test)
        body = self.nested(lambda: self.assign(name, self.rhs(e.body)))
        orelse = self.nested(lambda: self.assign(name, self.rhs(e.orelse)))
        self.emit(gast.If(test=test, body=body, orelse=orelse))
        return _name(name)

    # statements --------------------------------------------------------

    def emit(self, stmt):
        # A copy: no two statements of the normal form share a node, so a
        # later pass may rename a name in one without touching another.
        self.body.append(gast.copy_location(clone(stmt), self.origin))

    def assign(self, target: str, value) -> None:
        self.sharing.bind(target, value)
        self.emit(gast.Assign(targets=[_name(target, gast.Store())], value=value,
                              type_comment=None))

    def temp(self, value, hint: str) -> gast.Name:
        name = self.namer.fresh(hint)
        self.assign(name, value)
        return _name(name)

    def statement(self, stmt) -> None:
        if isinstance(stmt, gast.Assign):
            self.chain(stmt.targets, stmt.value)
        elif isinstance(stmt, gast.AnnAssign):
            if stmt.value is not None:
                self.bind(stmt.target, stmt.value)
        elif isinstance(stmt, gast.AugAssign):
            self.augmented(stmt)
        elif isinstance(stmt, gast.Return):
            self.ret(stmt.value)
        elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
            pass  # a docstring or a bare constant
        elif is_append(stmt) and stmt.value.func.value.id in self.locals:
            call = stmt.value
            call.args = [self.atom(call.args[0])]
            self.emit(stmt)
        elif isinstance(stmt, gast.Expr) and _is_pop(stmt.value):
            self.emit(gast.Expr(value=self.method(stmt.value)))
        elif isinstance(stmt, gast.Expr):
            self.effect(stmt)
        elif isinstance(stmt, (gast.Assert, gast.Break)):
            self.emit(stmt)
        elif isinstance(stmt, gast.If):
            self.branch(stmt)
        elif isinstance(stmt, gast.For):
            self.loop(stmt)
        elif isinstance(stmt, gast.While):
            self.repeat(stmt)
        elif not isinstance(stmt, gast.Pass):
            raise self.error(stmt, f"the statement {type(stmt).__name__} is not supported")

    def effect(self, stmt) -> None:
        """A call made for its effect: only output (``print``, logging,
        warnings) is allowed; anything else may change its arguments in
        place, which sourcegrad could not follow."""
        call = stmt.value
        parts = dotted(call.func) if isinstance(call, gast.Call) else None
        if parts and (parts[-1] in OUTPUT or parts[0] in ("logging", "logger", "log",
                                                              "warnings")):
            self.emit(stmt)
            return
        raise self.error(stmt, "a call made for its effect is not supported (it may change "
                               "its arguments in place); assign its result instead")

    def augmented(self, stmt) -> None:
        """``x += e`` becomes ``x = x + e``, unless the in-place update of ``x``
        would show through another name that is read later; ``y[i] += e``
        becomes ``y[i] = y[i] + e``."""
        if isinstance(stmt.target, gast.Subscript):
            read = gast.Subscript(value=stmt.target.value, slice=stmt.target.slice,
                                  ctx=gast.Load())
            self.store(stmt.target, gast.BinOp(left=read, op=stmt.op, right=stmt.value))
            return
        name = stmt.target.id
        self.refuse_shared(stmt, name, f"Write '{name} = {name} "
                           f"{_SYMBOLS.get(type(stmt.op), '<op>')} ...' to make a new array")
        self.assign(name, gast.BinOp(left=_name(name), op=stmt.op, right=self.atom(stmt.value)))

    def store(self, target, value) -> None:
        """``y[index] = value``: a write into the array ``y``, kept in place."""
        name = target.value.id
        if name not in self.locals:
            raise self.error(target, f"writing into {name}, which is not a local name or "
                                     "a parameter, is not supported")
        self.refuse_shared(target, name, f"Copy it first: '{name} = {name}.copy()'")
        items = sorted(self.items_of.get(name, set()) & self.read_after)
        if items:
            raise self.error(target, f"{items[0]} was read from {name} and may be a view of it, "
                                     f"which this write changes; copy it: '{items[0]} = "
                                     f"{name}[...].copy()'")
        if name in self.returned_by_calls:
            raise self.error(target, f"{name} comes from a call of your function, which may "
                                     f"return one of its arguments; copy it before writing: "
                                     f"'{name} = {name}.copy()'")
        part = self.atom(value)
        index = self.index(target.slice)
        write = gast.Subscript(value=_name(name), slice=index, ctx=gast.Store())
        self.emit(gast.Assign(targets=[write], value=part, type_comment=None))

    def note_alias(self, name: str, value) -> None:
        """Remember where ``name`` may share memory that a later write changes:
        an item of an array (``r = M[0]`` is a row view of a matrix), or the
        result of one of the user's functions (which may return an argument)."""
        for names in self.items_of.values():
            names.discard(name)
        self.returned_by_calls.discard(name)
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            self.items_of.setdefault(value.value.id, set()).add(name)
        if isinstance(value, gast.Call) and self.calls_user_function(value):
            self.returned_by_calls.add(name)

    def calls_user_function(self, call) -> bool:
        parts = dotted(call.func)
        if parts is None or parts[0] in self.locals:
            return False
        try:
            obj = resolve(parts, self.namespace)
        except KeyError:
            return False
        module = getattr(obj, "__module__", "") or ""
        return callable(obj) and not module.split(".")[0] in ("numpy", "math", "builtins")

    def refuse_shared(self, stmt, name: str, fix: str) -> None:
        """Raise if updating ``name`` in place would change another name read later."""
        shared = sorted(self.sharing.shared(name) & self.read_later)
        if shared:
            raise self.error(
                stmt, f"this updates the array {name} in place, and {name} may share memory "
                f"with {shared[0]}, which is read later: NumPy changes {shared[0]} too, and "
                f"sourcegrad does not follow in-place updates. {fix}",
            )

    def chain(self, targets, value) -> None:
        """``t1 = t2 = ... = value``: ``value`` is evaluated once, before any binding."""
        first, *rest = targets
        later = _names_in(rest)
        if isinstance(first, gast.Name) and first.id not in later:
            self.bind(first, value)
            value, targets = _name(first.id), rest
        elif rest:
            value = self.keep(self.atom(value), later | _names_in([first]))
        for target in targets:
            self.bind(target, value)

    def bind(self, target, value) -> None:
        if isinstance(target, gast.Name) and isinstance(value, gast.IfExp):
            self.choice(value, into=target.id)
        elif isinstance(target, gast.Name) and isinstance(value, gast.BoolOp):
            self.boolean(value, into=target.id)
        elif isinstance(target, gast.Name):
            self.note_alias(target.id, value)
            self.assign(target.id, self.rhs(value))
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.unpack(target, value)
        elif isinstance(target, gast.Subscript):
            self.store(target, value)
        else:
            raise self.error(target, "this assignment target is not supported")

    def unpack(self, target, value) -> None:
        """Bind the names of ``target`` to the parts of ``value``.

        Every part is evaluated before any name is bound, so ``a, b = b, a``
        swaps; a name that the target rebinds is copied first when a part
        reads it.
        """
        names = _names_in([target])
        if _matches(target, value):
            for sub, part in zip(target.elts, self.parts(target, value, names)):
                self.bind(sub, part)
            return
        source = self.keep(self.atom(value), names)
        for i, sub in enumerate(target.elts):
            item = gast.Subscript(value=source, slice=gast.Constant(value=i, kind=None),
                                  ctx=gast.Load())
            self.bind(sub, item)

    def parts(self, target, value, names) -> list:
        """The elements of the literal ``value`` as atoms, nested like ``target``."""
        out = []
        for sub, elt in zip(target.elts, value.elts):
            if _matches(sub, elt):
                out.append(gast.Tuple(elts=self.parts(sub, elt, names), ctx=gast.Load()))
            else:
                out.append(self.keep(self.atom(elt), names))
        return out

    def keep(self, part, names):
        """``part``, or a copy of it if it is one of the ``names`` about to be rebound."""
        if isinstance(part, gast.Name) and part.id in names:
            return self.temp(part, part.id + "_old")
        return part

    def ret(self, value) -> None:
        if isinstance(value, gast.Name) and value.id in self.locals:
            result = value
        else:
            base = "out" if self.node.name.startswith("lambda_") else self.node.name
            result = self.temp(self.rhs(value), base)
        self.emit(gast.Return(value=_name(result.id)))
