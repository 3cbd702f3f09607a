"""Forward rules for batched forward mode, and the table of batch-safe primitives.

In batched forward mode the tangent of a value ``x`` has the shape
``(B,) + np.shape(x)`` (see ``sourcegrad.runtime_batched``).  A primitive is
batch-safe only if it is listed here, one of three ways:

- ``AS_IS``: its forward rule moves tangents without looking at their shape
  (copies, tuple and list literals).
- ``LIFTED``: a broadcasting elementwise function.  Its forward rule is used
  with every tangent it reads aligned with the result first,
  ``batched_lift(d[x], y)``, so that NumPy broadcasting meets the value's
  axes, not the batch axis; ``rebroadcast`` and ``cast_tangent`` become
  their batched versions.  A rule that calls anything but a ufunc,
  ``np.where`` or a primal-only helper is refused, whatever the table says.
- ``BATCHED``: a rule of its own, written below (reductions, products,
  indexing, shapes, joins, conversions): the forward rule's helpers with
  axes counted after the batch axis.

The runtime's adjoint helpers that gradient code calls (``unbroadcast``,
``unindex``, ``add_at``, ``matmul_left`` ...) have batched rules too, in a
table of their own, ``HELPERS``: batched forward mode over generated
gradient code gives a whole Hessian in one call.  Their batched helpers
raise for the adjoint of a container (then one jvp per column).

Every other primitive (the other helpers, ``nested_grad``) makes the
batched compilation refuse; ``jacobian`` then runs one jvp per column.
"""

from __future__ import annotations

import builtins
import dataclasses
import math
import operator

import gast
import numpy as np

from ..runtime import (add_at, extremum_grad, list_pop, matmul_left, matmul_right, owned, pick,
                       sign_safe_div, unbroadcast, uncumsum, unindex, unreduce, untranspose)
from ..runtime_batched import (  # noqa: F401 - the templates' names
    batched_array, batched_builtin_sum, batched_cast, batched_concatenate, batched_cumsum,
    batched_dot, batched_extremum, batched_hstack, batched_index, batched_inner, batched_lift,
    batched_matmul, batched_mean, batched_moveaxis, batched_norm, batched_outer, batched_prod,
    batched_rebroadcast, batched_reshape, batched_stack, batched_sum, batched_swapaxes,
    batched_transpose, batched_var, batched_vstack,
)
from ..runtime_batched_adjoints import (  # noqa: F401 - the templates' names
    batched_extremum_grad, batched_matmul_left, batched_matmul_right, batched_owned_grad,
    batched_pick, batched_unbroadcast, batched_uncumsum, batched_unindex, batched_unreduce,
    batched_untranspose,
)
from .operators import identity, pack
from .registry import FORWARD, d, is_d, parse_template
from ..trees import clone

AS_IS = (identity, pack, list_pop)

LIFTED = (
    # ufuncs of one argument, and their math counterparts
    np.exp, math.exp, np.expm1, math.expm1, np.log, math.log, np.log1p, math.log1p, np.log2,
    math.log2, np.log10, math.log10, np.sqrt, math.sqrt, np.cbrt, math.cbrt, np.square,
    np.reciprocal, np.abs, np.absolute, builtins.abs, np.fabs, math.fabs, np.sin, math.sin,
    np.cos, math.cos, np.tan, math.tan, np.arcsin, math.asin, np.arccos, math.acos, np.arctan,
    math.atan, np.sinh, math.sinh, np.cosh, math.cosh, np.tanh, math.tanh, np.arcsinh,
    math.asinh, np.arctanh, math.atanh, operator.neg, np.negative, operator.pos,
    # of two (or three) arguments
    np.arctan2, math.atan2, np.hypot, math.hypot, np.maximum, np.fmax, builtins.max,
    np.minimum, np.fmin, builtins.min, np.where, np.clip, operator.add, np.add, operator.sub,
    np.subtract, operator.mul, np.multiply, operator.truediv, np.divide, np.true_divide,
    operator.mod, np.mod, np.remainder, operator.pow, np.power, builtins.pow, math.pow,
    # broadcasting constructors
    np.broadcast_to, np.full, np.full_like,
)

#: primitive -> its batched forward Template (filled below and by ``batched``)
BATCHED: dict = {}
#: runtime adjoint helper -> its batched forward Template (filled by ``batched``)
HELPERS: dict = {}

#: Calls a lifted rule may make besides ufuncs: helpers that read values only.
_PRIMAL_HELPERS = {"between", "below", "above", "either", "power_log", "sign_safe_div"}
_RENAMED = {"rebroadcast": "batched_rebroadcast", "cast_tangent": "batched_cast"}


def batched(*primitives, table=None):
    """Register the decorated template as the batched forward rule of
    ``primitives`` (in ``table``: ``BATCHED`` unless told)."""

    def register(func):
        template = parse_template(func)
        for primitive in primitives:
            (BATCHED if table is None else table)[primitive] = template
        return func

    return register


def lookup_batched(primitive):
    """The batched forward Template of ``primitive``, or ``None`` (not batch-safe)."""
    try:
        found = BATCHED.get(primitive)
        return found if found is not None else HELPERS.get(primitive)
    except TypeError:  # unhashable
        return None


def lifted(template):
    """``template`` with each tangent it reads aligned with the output; ``None``
    if it calls something not known to act elementwise."""
    node = clone(template.node)
    output = gast.Name(id=template.output, ctx=gast.Load(), annotation=None, type_comment=None)

    class Lift(gast.NodeTransformer):
        def visit_Subscript(self, sub):
            if is_d(sub) and isinstance(sub.ctx, gast.Load):
                return gast.Call(func=_name("batched_lift"), args=[sub, clone(output)],
                                 keywords=[])
            return self.generic_visit(sub)

        def visit_Call(self, call):
            self.generic_visit(call)
            if isinstance(call.func, gast.Name) and call.func.id in _RENAMED:
                call.func.id = _RENAMED[call.func.id]
            return call

    if not all(_elementwise(n) for n in gast.walk(node)):
        return None
    Lift().visit(node)
    return dataclasses.replace(template, node=node, name=template.name + "_batched")


def _name(id_):
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


def _elementwise(node) -> bool:
    """Whether ``node`` of a template is known to act elementwise: no ``@``,
    no index but ``d[x]``, no attribute but ``np.<ufunc>``, ``np.where`` and
    ``math.<name>``, no call but of those and of helpers that read values only."""
    if isinstance(node, gast.BinOp):
        return not isinstance(node.op, gast.MatMult)
    if isinstance(node, gast.Subscript):
        return is_d(node)
    if isinstance(node, gast.Attribute):
        if not (isinstance(node.value, gast.Name) and node.value.id in ("np", "math")):
            return False
        found = getattr(np, node.attr, None)
        return node.value.id == "math" or node.attr == "where" or (
            isinstance(found, np.ufunc) and found.signature is None)
    if isinstance(node, gast.Call):
        return not isinstance(node.func, gast.Name) or node.func.id in (
            _PRIMAL_HELPERS | set(_RENAMED))
    return True


def _register_table() -> None:
    for primitive in AS_IS:
        BATCHED[primitive] = FORWARD[primitive]
    for primitive in LIFTED:
        template = lifted(FORWARD[primitive])
        if template is not None:
            BATCHED[primitive] = template


_register_table()  # the package registered every family's forward rules first


# -- reductions ---------------------------------------------------------------


@batched(np.sum)
def sum_batched(y, a, axis=None, dtype=None, *, keepdims=False, initial=None):
    if dtype is None:
        d[y] = batched_sum(d[a], axis, keepdims)
    else:
        d[y] = batched_cast(batched_sum(d[a], axis, keepdims), y)


@batched(builtins.sum)
def builtin_sum_batched(y, iterable, start=0):
    d[y] = batched_builtin_sum(d[iterable], y)
    d[y] = batched_rebroadcast(batched_lift(d[start], y), y)


@batched(np.mean)
def mean_batched(y, a, axis=None, dtype=None, *, keepdims=False):
    if dtype is None:
        d[y] = batched_mean(d[a], axis, keepdims)
    else:
        d[y] = batched_cast(batched_mean(d[a], axis, keepdims), y)


@batched(np.max, np.amax, np.min, np.amin)
def extremum_batched(y, a, axis=None, *, keepdims=False, initial=None):
    d[y] = batched_extremum(d[a], a, y, axis, keepdims, initial)


@batched(np.prod)
def prod_batched(y, a, axis=None, dtype=None, *, keepdims=False):
    if dtype is None:
        d[y] = batched_prod(d[a], a, y, axis, keepdims)
    else:
        d[y] = batched_cast(batched_prod(d[a], a, y, axis, keepdims), y)


@batched(np.var)
def var_batched(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    if dtype is None:
        d[y] = batched_var(d[a], a, axis, ddof, keepdims)
    else:
        d[y] = batched_cast(batched_var(d[a], a, axis, ddof, keepdims), y)


@batched(np.std)
def std_batched(y, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    if dtype is None:
        d[y] = sign_safe_div(batched_var(d[a], a, axis, ddof, keepdims), 2.0 * y)
    else:
        d[y] = batched_cast(sign_safe_div(batched_var(d[a], a, axis, ddof, keepdims), 2.0 * y),
                            y)


@batched(np.cumsum)
def cumsum_batched(y, a, axis=None, dtype=None):
    if dtype is None:
        d[y] = batched_cumsum(d[a], axis)
    else:
        d[y] = batched_cast(batched_cumsum(d[a], axis), y)


@batched(np.linalg.norm)
def norm_batched(y, x, ord=None, axis=None, keepdims=False):
    d[y] = batched_norm(d[x], x, y, ord, axis, keepdims)


# -- products -----------------------------------------------------------------


@batched(operator.matmul, np.matmul)
def matmul_batched(z, x, y):
    d[z] = batched_matmul(d[x], y, 0)
    d[z] = batched_matmul(x, d[y], 1)


@batched(np.dot)
def dot_batched(z, a, b):
    d[z] = batched_dot(d[a], b, 0)
    d[z] = batched_dot(a, d[b], 1)


@batched(np.outer)
def outer_batched(z, a, b):
    d[z] = batched_outer(d[a], b, 0)
    d[z] = batched_outer(a, d[b], 1)


@batched(np.inner)
def inner_batched(z, a, b):
    d[z] = batched_inner(d[a], b, 0)
    d[z] = batched_inner(a, d[b], 1)


# -- indexing, shapes, joins, conversions -------------------------------------


@batched(operator.getitem)
def getitem_batched(y, x, index):
    d[y] = batched_index(d[x], index)


@batched(np.reshape)
def reshape_batched(y, a, shape=None, order="C", newshape=None, copy=None):
    d[y] = batched_reshape(d[a], y, order)


@batched(np.ravel)
def ravel_batched(y, a, order="C"):
    d[y] = batched_reshape(d[a], y, order)


@batched(np.expand_dims)
def expand_dims_batched(y, a, axis):
    d[y] = batched_reshape(d[a], y)


@batched(np.squeeze)
def squeeze_batched(y, a, axis=None):
    d[y] = batched_reshape(d[a], y)


@batched(np.transpose)
def transpose_batched(y, a, axes=None):
    d[y] = batched_transpose(d[a], axes)


@batched(np.swapaxes)
def swapaxes_batched(y, a, axis1, axis2):
    d[y] = batched_swapaxes(d[a], axis1, axis2)


@batched(np.moveaxis)
def moveaxis_batched(y, a, source, destination):
    d[y] = batched_moveaxis(d[a], source, destination)


@batched(np.concatenate)
def concatenate_batched(y, arrays, axis=0):
    d[y] = batched_concatenate(d[arrays], axis)


@batched(np.stack)
def stack_batched(y, arrays, axis=0):
    d[y] = batched_stack(d[arrays], axis)


@batched(np.hstack)
def hstack_batched(y, tup):
    d[y] = batched_hstack(d[tup])


@batched(np.vstack)
def vstack_batched(y, tup):
    d[y] = batched_vstack(d[tup])


@batched(np.copy)
def copy_batched(y, a, order="K", subok=False):
    d[y] = batched_array(d[a])


@batched(np.array, np.asarray)
def array_batched(y, a, dtype=None, order=None, *, copy=None, subok=False, ndmin=0, device=None,
                  like=None):
    if dtype is None and ndmin == 0:
        d[y] = batched_array(d[a])
    else:
        d[y] = batched_cast(batched_reshape(batched_array(d[a]), y), y)


@batched(np.astype)
def astype_batched(y, x, dtype, copy=True):
    d[y] = batched_cast(d[x], y)


@batched(float, np.float64, np.float32)
def to_float_batched(y, x):
    d[y] = batched_cast(d[x], y)


# -- the runtime's adjoint helpers (forward over gradient code) ----------------


@batched(unbroadcast, table=HELPERS)
def unbroadcast_batched(y, g, like):
    d[y] = batched_unbroadcast(d[g], like)


@batched(unreduce, table=HELPERS)
def unreduce_batched(y, g, x, axis=None, keepdims=False):
    d[y] = batched_unreduce(d[g], x, axis, keepdims)


@batched(extremum_grad, table=HELPERS)
def extremum_grad_batched(out, g, x, y, axis=None, keepdims=False, initial=None):
    d[out] = batched_extremum_grad(d[g], x, y, axis, keepdims, initial)


@batched(uncumsum, table=HELPERS)
def uncumsum_batched(y, g, x, axis=None):
    d[y] = batched_uncumsum(d[g], x, axis)


@batched(unindex, table=HELPERS)
def unindex_batched(y, g, x, index):
    d[y] = batched_unindex(d[g], x, index)


@batched(add_at, table=HELPERS)
def add_at_batched(y, out, index, g, like=None):
    d[y] = d[out]
    if like is None:
        d[y] = batched_unindex(d[g], out, index)
    else:
        d[y] = batched_unindex(d[g], like, index)


@batched(pick, table=HELPERS)
def pick_batched(y, g, index, like=None):
    d[y] = batched_pick(d[g], index, like)


@batched(owned, table=HELPERS)
def owned_batched(y, g):
    d[y] = batched_owned_grad(d[g])


@batched(untranspose, table=HELPERS)
def untranspose_batched(y, g, axes=None):
    d[y] = batched_untranspose(d[g], axes)


@batched(matmul_left, table=HELPERS)
def matmul_left_batched(out, g, x, y):
    d[out] = batched_matmul_left(d[g], x, y, 0)
    d[out] = batched_matmul_left(g, x, d[y], 1)


@batched(matmul_right, table=HELPERS)
def matmul_right_batched(out, g, x, y):
    d[out] = batched_matmul_right(d[g], x, y, 0)
    d[out] = batched_matmul_right(g, d[x], y, 1)
