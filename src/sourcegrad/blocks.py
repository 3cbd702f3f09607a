"""Stage 6c, blocks: an elementwise gradient of a large array, block by block.

Invariant established: when the source is a sum of elementwise operations
(``np.sum(np.sin(x) * np.exp(-x * x) + x ** 2)``: every value has the shape
of the array parameters, which all have one shape, or is a number), the
gradient of element ``i`` depends on element ``i`` of the arguments only.
``grad``'s specialized function then starts (after its test of the
arguments, see ``specialize``), for arrays of at least
``runtime.BLOCKS`` elements, by handing itself to ``in_blocks``: the same
code runs on blocks of rows small enough to stay in the processor's cache,
on every core (NumPy's ufuncs release the interpreter's lock), and the
blocks' gradients are written into one array per argument.  Each element is
computed by the same operations as without blocks.

>>> import gast, numpy as np
>>> from sourcegrad.emit import to_source
>>> from sourcegrad.parse import Namespace
>>> from sourcegrad.primitives import primitives
>>> from sourcegrad.shapes import shapes
>>> from sourcegrad.signature import Signature
>>> fn = gast.parse('''
... def f(x, c):
...     s = np.sin(x)
...     p = s * c
...     total = np.sum(p)
...     return total
... ''').body[0]
>>> found = shapes(fn, primitives(fn, Namespace({"np": np}), None),
...                Signature((("ndarray", 1, ()), ("float",))))
>>> elementwise(fn, found)
['x']
>>> grad = gast.parse("def grad_f(x, c):\\n    return c * np.cos(x)").body[0]
>>> print(to_source(in_blocks(grad, ["x"])))
def grad_f(x, c):
    # elementwise: a large array goes in blocks, on every core
    if x.size >= BLOCKS and x.shape[0] > 1:
        return in_blocks(grad_f, (x, c), (0,))
    return c * np.cos(x)
"""

from __future__ import annotations

import gast
import numpy as np

from .emit import comment
from .names import dotted
from .trees import clone

_OPERATORS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)


def elementwise(fn: gast.FunctionDef, shapes) -> list:
    """The array parameters of ``fn`` if it sums elementwise operations of
    them (see the module docstring), else ``[]``."""
    args = fn.args
    params = [a.id for a in args.posonlyargs + args.args]
    arrays = [p for p in params if shapes.array(p)]
    if args.kwonlyargs or args.vararg or args.kwarg or not arrays or len(fn.body) < 2:
        return []
    shape = shapes.dims(shapes.version[arrays[0]])
    if any(shapes.dims(shapes.version[p]) != shape for p in arrays):
        return []
    *body, total, ret = fn.body
    if not (isinstance(ret, gast.Return) and isinstance(ret.value, gast.Name)
            and _is_sum_of(total, ret.value.id)):
        return []
    for stmt in body + [total]:
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return []
        if not _elementwise(stmt.value.args[0] if stmt is total else stmt.value):
            return []
        reads = dict(shapes.reads.get(id(stmt), {}))
        if stmt is total:
            reads.pop(stmt.targets[0].id, None)
        if any(shapes.dims(v) not in (shape, ()) for n, v in reads.items()
               if n not in ("np", "math")):
            return []
    return arrays


def _is_sum_of(stmt, name) -> bool:
    """Whether ``stmt`` is ``name = np.sum(e)`` (no axis, no keywords)."""
    return (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            and stmt.targets[0].id == name and isinstance(stmt.value, gast.Call)
            and dotted(stmt.value.func) == ["np", "sum"] and len(stmt.value.args) == 1
            and not stmt.value.keywords)


def _elementwise(value) -> bool:
    """An operation of the normal form that works element by element."""
    if isinstance(value, (gast.Name, gast.Constant)):
        return True
    if isinstance(value, gast.BinOp):
        return isinstance(value.op, _OPERATORS)
    if isinstance(value, gast.UnaryOp):
        return isinstance(value.op, (gast.USub, gast.UAdd))
    if not isinstance(value, gast.Call) or value.keywords:
        return False
    parts = dotted(value.func) or []
    if len(parts) == 2 and parts[0] == "math":
        return True
    found = getattr(np, parts[1], None) if len(parts) == 2 and parts[0] == "np" else None
    return isinstance(found, np.ufunc) and found.nout == 1 and found.nin == len(value.args)


def in_blocks(grad: gast.FunctionDef, arrays: list, wrt=None) -> gast.FunctionDef:
    """``grad`` starting by handing itself to ``in_blocks`` for large ``arrays``
    (the names of its array parameters; every other argument is passed whole).
    ``wrt``: the parameters of its tuple of gradients (``None``: it returns
    the gradient of one array)."""
    grad = clone(grad)
    params = [a.id for a in grad.args.posonlyargs + grad.args.args]
    call = gast.Call(func=_load("in_blocks"), keywords=[], args=[
        _load(grad.name), _tuple([_load(p) for p in params]),
        _tuple([gast.Constant(value=params.index(a), kind=None) for a in arrays])])
    if wrt is not None:
        call.args.append(_tuple([gast.Constant(value=w in arrays, kind=None) for w in wrt]))
    test = gast.parse(f"{arrays[0]}.size >= BLOCKS and {arrays[0]}.shape[0] > 1",
                      mode="eval").body  # (a block of one row runs as it is)
    branch = gast.If(test=test, body=[gast.Return(value=call)], orelse=[])
    grad.body[:0] = [comment("elementwise: a large array goes in blocks, on every core"), branch]
    return grad


def _load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _tuple(elts):
    return gast.Tuple(elts=elts, ctx=gast.Load())
