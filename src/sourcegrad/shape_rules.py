"""The shape of each normal-form assignment's value, for ``shapes``.

``result(value, op, found)`` returns the version of the value, with the
shape the primitive gives it when the operands' shapes are known: the
broadcast of elementwise operands, the product's for ``@``, what an index,
a reduction over constant axes, a transpose or a constructor from a shape
leave.  Anything else gets a fresh version that knows nothing.  A length
that cannot be named (``x[1:]``, a reshape's ``-1``) is a dimension of its
own, equal only to itself.

>>> import gast, numpy as np
>>> from sourcegrad.shapes import Shapes
>>> found = Shapes()
>>> n, m = found.new_dim(("W", 0)), found.new_dim(("W", 1))
>>> found.version.update(W=found.fresh((n, m)), x=found.fresh((found.new_dim(("x", 0)),)))
>>> v = result(gast.parse("W @ x", mode="eval").body, None, found)
>>> found.dims(v) == (n,), found.assumptions(["W", "x"])
(True, ['W.shape[1] == x.shape[0]'])
"""

from __future__ import annotations

import math
import operator

import gast
import numpy as np

from . import rules
from .names import dotted
from .runtime import stop_gradient

_SAME = {rules.identity, operator.neg, operator.pos, operator.invert, operator.not_, np.copy,
         np.astype, abs, np.flip, stop_gradient}
_ALONG_AN_AXIS = {np.cumsum, np.cumprod}  # flat without an axis
_REDUCTIONS = {np.sum, np.mean, np.max, np.min, np.prod, np.var, np.std, np.amax, np.amin,
               np.all, np.any, np.nansum, np.average, np.argmax, np.argmin}
_INTEGER_RESULTS = {len, np.ndim, np.size}
_LIKE = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}
_FILLED = {np.zeros, np.ones, np.empty, np.full}
_ARITHMETIC = {gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod}


def result(value, op, found) -> int:
    """The version of ``value``, an expression of the normal form."""
    if isinstance(value, gast.Name):
        return found.of(value.id)
    if isinstance(value, gast.Constant):
        return _constant(value.value, found)
    if isinstance(value, gast.Compare):
        return broadcast(found, [_operand(v, found) for v in [value.left] + value.comparators])
    if isinstance(value, gast.BinOp):
        return _binary(value, found)
    if isinstance(value, gast.UnaryOp):
        version = _like(found, _operand(value.operand, found))
        if isinstance(value.op, gast.Not):
            found.integers.discard(version)  # a boolean
        return version
    if isinstance(value, gast.Subscript):
        return _subscript(value, found)
    if isinstance(value, (gast.Tuple, gast.List)):
        version = found.fresh()
        items = [_integer(e, found) for e in value.elts]
        if isinstance(value, gast.Tuple) and None not in items:
            found.values[version] = tuple(items)
        return version
    if isinstance(value, gast.Call):
        return _call(value, op, found)
    return found.fresh()


def _constant(value, found) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
        return found.fresh()
    version = found.fresh(())
    if isinstance(value, int):
        found.integers.add(version)
        if value >= 0:
            found.values[version] = found.length(value)
    return version


def _operand(node, found):
    if isinstance(node, gast.Name):
        return found.of(node.id)
    if isinstance(node, gast.Constant):
        return _constant(node.value, found)
    return found.fresh()


def _integer(node, found):
    """The dimension an integer operand stands for (``n``, ``3``), or ``None``."""
    value = found.values.get(_operand(node, found))
    return value if isinstance(value, int) else None


def _like(found, version) -> int:
    out = found.fresh()
    found.like(out, version)
    if version in found.integers:
        found.integers.add(out)
    return out


def broadcast(found, versions) -> int:
    """The version of an elementwise result of ``versions``."""
    shapes = [found.dims(v) for v in versions]
    if any(s is None for s in shapes):
        arrays = {found.find(v) for v, s in zip(versions, shapes) if s != ()}
        version = found.fresh()
        if len(arrays) == 1:  # the one array's shape (not what it holds)
            found.like(version, arrays.pop())
        return version
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        present = [s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0]
        out.append(_one_dim(found, present))
    return found.fresh(out)


def _one_dim(found, dims) -> int:
    """The length of an axis where ``dims`` meet: all one, assumed (where no
    operand's length is 1)."""
    longer = [d for d in dims if not found.is_one(d)]
    if not longer:
        return found.length(1)
    first = longer[0]
    for other in longer[1:]:
        if not found.unify(first, other):
            return found.new_dim()
    return found.dim(first)


def _binary(value, found) -> int:
    left, right = _operand(value.left, found), _operand(value.right, found)
    if isinstance(value.op, gast.MatMult):
        return matmul(found, left, right)
    version = broadcast(found, [left, right])
    if type(value.op) in _ARITHMETIC and left in found.integers and right in found.integers:
        found.integers.add(version)  # (not a comparison's boolean, nor a division)
    return version


def matmul(found, a: int, b: int) -> int:
    """The version of ``a @ b``; the inner lengths are assumed equal."""
    sa, sb = found.dims(a), found.dims(b)
    if sa is None or sb is None or not sa or not sb:
        return found.fresh()
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    found.unify(inner_a, inner_b)
    if len(sa) == 1 and len(sb) == 1:
        return found.fresh(())
    if len(sb) == 1:
        return found.fresh(sa[:-1])
    if len(sa) == 1:
        return found.fresh(sb[:-2] + sb[-1:])
    batch = found.dims(broadcast(found, [found.fresh(sa[:-2]), found.fresh(sb[:-2])]))
    return found.fresh(batch + (sa[-2], sb[-1]))


def _subscript(value, found) -> int:
    base = _operand(value.value, found)
    index = value.slice
    shape_value = found.values.get(base)
    if shape_value is not None and not isinstance(shape_value, int):  # np.shape(x)[i]
        version = found.fresh(())
        found.integers.add(version)
        if isinstance(shape_value, tuple) and isinstance(index, gast.Constant) and isinstance(index.value, int) and (
                -len(shape_value) <= index.value < len(shape_value)):
            found.values[version] = shape_value[index.value]
        return version
    dims = found.dims(base)
    items = index.elts if isinstance(index, gast.Tuple) else [index]
    if dims is None:
        return found.fresh()
    out, rest = [], list(dims)
    for k, item in enumerate(items):
        kind = _index_kind(item, found)
        if kind is None or (kind != "new" and kind != "..." and not rest):
            return found.fresh()
        if kind == "new":
            out.append(found.length(1))
        elif kind == "...":
            later = sum(_index_kind(i, found) not in ("new", "...") for i in items[k + 1:])
            out.extend(rest[: len(rest) - later])
            rest = rest[len(rest) - later:]
        else:
            axis = rest.pop(0)
            if kind == "all":
                out.append(axis)
            elif kind == "part":
                out.append(found.new_dim())
    return found.fresh(out + rest)


def _index_kind(item, found):
    """``"int"``, ``"all"`` (``:``), ``"part"`` (another slice), ``"new"``
    (``None``), ``"..."``, or ``None`` for an index of unknown effect."""
    if isinstance(item, gast.Constant):
        if item.value is None:
            return "new"
        if item.value is Ellipsis:
            return "..."
        return "int" if isinstance(item.value, int) and not isinstance(item.value, bool) else None
    if isinstance(item, gast.Name):
        version = found.of(item.id)
        return "int" if version in found.integers and found.dims(version) == () else None
    if isinstance(item, gast.Slice):
        return "all" if item.lower is None and item.upper is None and item.step is None \
            else "part"
    return None


def _call(call, op, found) -> int:
    func = _function(call, op)
    args = [_operand(a, found) if isinstance(a, (gast.Name, gast.Constant)) else None
            for a in call.args]
    keywords = {k.arg: k.value for k in call.keywords}
    if func is None or (args and args[0] is None and func not in _FILLED):
        return found.fresh()
    if func is float:
        return found.fresh(())
    if getattr(func, "__module__", None) == "math":
        return _numbers(found, args)
    if func in _SAME or (isinstance(func, np.ufunc) and func.nin == 1 and func.nout == 1):
        return _like(found, args[0])
    if isinstance(func, np.ufunc) and func.nin == 2 and func.nout == 1 and len(args) == 2:
        return broadcast(found, args)
    if func in (np.where, np.clip) and len(args) == 3 and None not in args:
        return broadcast(found, args)
    if func in _REDUCTIONS:
        return _reduction(found, call, args[0], keywords)
    if func in _ALONG_AN_AXIS:
        return _along(found, call, args[0], keywords)
    return _structural(found, func, call, args, keywords)


def _function(call, op):
    """The function ``call`` applies (its rule's primitive, or a NumPy,
    ``math`` or builtin function spelled canonically), or ``None``."""
    if op is not None and op.primitive is not None:
        return op.primitive
    if op is not None and op.callee is not None:
        return None
    parts = dotted(call.func) or []
    modules = {"np": np, "math": math}
    if len(parts) == 2 and parts[0] in modules:
        return getattr(modules[parts[0]], parts[1], None)
    if len(parts) == 3 and parts[:2] == ["np", "linalg"]:
        return getattr(np.linalg, parts[2], None)
    builtins = {"len": len, "float": float, "int": int, "abs": abs, "range": range}
    return builtins.get(parts[0]) if len(parts) == 1 else None


def _numbers(found, args) -> int:
    """``math`` functions take and give numbers."""
    for version in args:
        if version is not None and found.dims(version) is None:
            found.known[found.find(version)] = ()
    return found.fresh(())


def _reduction(found, call, operand, keywords) -> int:
    if len(call.args) > 2:  # dtype, out, keepdims by position: not followed
        return found.fresh()
    axis = keywords.get("axis", call.args[1] if len(call.args) > 1 else None)
    keep = keywords.get("keepdims")
    keep = False if keep is None else _static(keep)
    axes = None if axis is None else _static(axis)
    dims = found.dims(operand)
    if keep is _UNKNOWN or axes is _UNKNOWN:
        return found.fresh()
    version = _reduced(found, dims, axes, keep)
    if dotted(call.func) in (["np", "argmax"], ["np", "argmin"]) and found.dims(version) == ():
        found.integers.add(version)  # one index (with an axis: an array of them)
    return version


def _reduced(found, dims, axes, keep) -> int:
    if axes is None:
        if not keep:
            return found.fresh(())
        return found.fresh([found.length(1)] * len(dims)) if dims is not None else found.fresh()
    if dims is None:
        return found.fresh()
    axes = axes if isinstance(axes, tuple) else (axes,)
    if not all(isinstance(a, int) and -len(dims) <= a < len(dims) for a in axes):
        return found.fresh()
    axes = {a % len(dims) for a in axes}
    out = [found.length(1) if i in axes else d for i, d in enumerate(dims)
           if keep or i not in axes]
    return found.fresh(out)


def _along(found, call, operand, keywords) -> int:
    """``np.cumsum(x, axis)`` keeps ``x``'s shape; without an axis it works
    on the flattened ``x``."""
    axis = keywords.get("axis", call.args[1] if len(call.args) > 1 else None)
    dims = found.dims(operand)
    if axis is not None:
        return _like(found, operand) if isinstance(_static(axis), int) else found.fresh()
    if dims is not None and len(dims) <= 1:
        return _like(found, operand) if dims else found.fresh([found.length(1)])
    return found.fresh([found.new_dim()]) if dims is not None else found.fresh()


_UNKNOWN = object()


def _static(node):
    """The value of a literal (a number, ``None``, a tuple of them), or ``_UNKNOWN``."""
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.Tuple) and all(isinstance(e, gast.Constant) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return _UNKNOWN


def _structural(found, func, call, args, keywords) -> int:
    """Shapes from shapes: constructors, transposes, reshapes, products, sizes."""
    dims = found.dims(args[0]) if args and args[0] is not None else None
    if func is np.shape:
        version = found.fresh()
        found.values[version] = dims if dims is not None else "a shape"
        return version
    if func in _INTEGER_RESULTS:
        version = found.fresh(())
        found.integers.add(version)
        if func is len and dims:
            found.values[version] = dims[0]
        return version
    if func in _LIKE:
        return _like(found, args[0])
    if func in _FILLED or func is np.broadcast_to:
        node = call.args[0] if func in _FILLED else call.args[1]
        return _from_shape(found, node)
    if func is np.transpose and dims is not None:
        axes = keywords.get("axes", call.args[1] if len(call.args) > 1 else None)
        order = None if axes is None else _static(axes)
        if order is None:
            return found.fresh(dims[::-1])
        if isinstance(order, tuple) and sorted(o % max(len(dims), 1) for o in order) == list(
                range(len(dims))):
            return found.fresh([dims[o] for o in order])
    if func is np.reshape and len(call.args) > 1:
        return _from_shape(found, call.args[1])
    if func is np.ravel and dims is not None:
        return found.fresh(dims if len(dims) == 1 else [found.new_dim()])
    if func is np.expand_dims and dims is not None:
        axis = _static(call.args[1]) if len(call.args) > 1 else _UNKNOWN
        if isinstance(axis, int) and -len(dims) - 1 <= axis <= len(dims):
            out = list(dims)
            out.insert(axis % (len(dims) + 1), found.length(1))
            return found.fresh(out)
    if func is np.outer and dims is not None and len(args) == 2 and args[1] is not None:
        other = found.dims(args[1])
        if len(dims) == 1 and other is not None and len(other) == 1:
            return found.fresh([dims[0], other[0]])
    if func is np.dot and len(args) == 2 and args[1] is not None:
        other = found.dims(args[1])
        if dims is not None and other is not None and 0 < len(dims) <= 2 and 0 < len(other) <= 2:
            return matmul(found, args[0], args[1])
    if func is operator.matmul and len(args) == 2 and args[1] is not None:
        return matmul(found, args[0], args[1])
    return found.fresh()


def _from_shape(found, node) -> int:
    """The version of an array made with the shape ``node`` (a length, a
    tuple of lengths, or ``np.shape(x)``)."""
    if isinstance(node, gast.Constant) and isinstance(node.value, int) and node.value >= 0:
        return found.fresh([found.length(node.value)])
    if not isinstance(node, (gast.Name, gast.Tuple)):
        return found.fresh()
    value = found.values.get(result(node, None, found) if isinstance(node, gast.Tuple)
                             else found.of(node.id))
    if isinstance(value, int):
        return found.fresh([value])
    if isinstance(value, tuple):
        return found.fresh(value)
    return found.fresh()  # (np.shape(x) of an unknown x: "a shape")
