"""Forward rules of the runtime's helpers, for derivatives of generated code.

Generated reverse-mode code is ordinary Python and NumPy, so forward mode
can transform it again (forward-over-reverse: Hessian-vector products).  It
calls the helpers of ``sourcegrad.runtime``; most are linear in the adjoint
they take, so their tangent is the helper applied to the adjoint's tangent,
plus, for the products, a term for the other factor.  Masks and zeros have a
zero derivative.  The adjoints of ``np.prod`` and ``np.linalg.norm`` take
the primal output ``y`` as well as ``x``: ``y`` is a function of ``x`` there,
so their rules differentiate in ``x`` with ``y`` moving along (and read no
tangent of ``y``).  The tangent helpers of forward mode have rules too
(forward over forward); the second-order helpers ``prod_grad_tangent`` and
``norm_grad_tangent`` have none: no third derivatives.
"""

import numpy as np

from ..runtime import (
    above, add_at, below, between, cast_grad, cast_tangent, densify, dot_left, dot_right, either,
    extremum_grad, extremum_tangent, inner_left, inner_right, item, list_pop, matmul_left,
    matmul_left_sum, matmul_left_sum_tangent, matmul_right, nested_grad,
    outer_sum, outer_sum_tangent, nested_hvp, norm_grad,
    norm_grad_tangent, norm_tangent, owned, owned_tangent, pick, power_log, prod_grad,
    prod_grad_tangent, prod_tangent, rebroadcast, sign_safe_div, unbroadcast, unconcatenate,
    uncumsum, unhstack, unindex, unreduce, unstack, unsum, untranspose, unvstack, var_grad,
    var_tangent, zero_tangent, zeros_like,
)
from .registry import d, forward, reverse, zero_derivative

zero_derivative(zeros_like, zero_tangent, between, below, above, either)


@forward(list_pop)
def list_pop_forward(y, items):
    d[y] = list_pop(d[items])


@forward(unbroadcast)
def unbroadcast_forward(y, g, like):
    d[y] = unbroadcast(d[g], like)


@forward(rebroadcast)
def rebroadcast_forward(y, t, like):
    d[y] = rebroadcast(d[t], like)


@forward(unreduce)
def unreduce_forward(y, g, x, axis=None, keepdims=False):
    d[y] = unreduce(d[g], x, axis, keepdims)


@forward(unsum)
def unsum_forward(y, g, xs):
    d[y] = unsum(d[g], xs)


@forward(extremum_grad)
def extremum_grad_forward(out, g, x, y, axis=None, keepdims=False, initial=None):
    d[out] = extremum_grad(d[g], x, y, axis, keepdims, initial)


@forward(uncumsum)
def uncumsum_forward(y, g, x, axis=None):
    d[y] = uncumsum(d[g], x, axis)


@forward(unindex)
def unindex_forward(y, g, x, index):
    d[y] = unindex(d[g], x, index)


@forward(add_at)
def add_at_forward(y, out, index, g, like=None):
    d[y] = d[out]
    if like is None:
        d[y] = unindex(d[g], out, index)
    else:
        d[y] = unindex(d[g], like, index)


@forward(unconcatenate)
def unconcatenate_forward(y, g, xs, axis=0):
    d[y] = unconcatenate(d[g], xs, axis)


@forward(unstack)
def unstack_forward(y, g, axis=0):
    d[y] = unstack(d[g], axis)


@forward(unvstack)
def unvstack_forward(y, g, xs):
    d[y] = unvstack(d[g], xs)


@forward(unhstack)
def unhstack_forward(y, g, xs):
    d[y] = unhstack(d[g], xs)


@forward(untranspose)
def untranspose_forward(y, g, axes=None):
    d[y] = untranspose(d[g], axes)


@forward(cast_grad)
def cast_grad_forward(y, g, x, dtype):
    d[y] = cast_grad(d[g], x, dtype)


@forward(item)
def item_forward(y, g, key, like):
    d[y] = item(d[g], key, like)


@forward(densify)
def densify_forward(y, g, x):
    d[y] = densify(d[g], x)


@forward(pick)
def pick_forward(y, g, index, like=None):
    d[y] = pick(d[g], index, like)


@forward(owned)
def owned_forward(y, g):
    d[y] = owned(d[g])


@forward(matmul_left_sum)
def matmul_left_sum_forward(z, parts, x):
    d[z] = matmul_left_sum_tangent(parts, d[parts], x)


@forward(outer_sum)
def outer_sum_forward(z, parts):
    d[z] = outer_sum_tangent(parts, d[parts])


@forward(owned_tangent)
def owned_tangent_forward(y, t):
    d[y] = owned_tangent(d[t])


@forward(matmul_left)
def matmul_left_forward(out, g, x, y):
    d[out] = matmul_left(d[g], x, y)
    d[out] = matmul_left(g, x, d[y])


@forward(matmul_right)
def matmul_right_forward(out, g, x, y):
    d[out] = matmul_right(d[g], x, y)
    d[out] = matmul_right(g, d[x], y)


@forward(dot_left)
def dot_left_forward(out, g, x, y):
    d[out] = dot_left(d[g], x, y)
    d[out] = dot_left(g, x, d[y])


@forward(dot_right)
def dot_right_forward(out, g, x, y):
    d[out] = dot_right(d[g], x, y)
    d[out] = dot_right(g, d[x], y)


@forward(inner_left)
def inner_left_forward(out, g, a, b):
    d[out] = inner_left(d[g], a, b)
    d[out] = inner_left(g, a, d[b])


@forward(inner_right)
def inner_right_forward(out, g, a, b):
    d[out] = inner_right(d[g], a, b)
    d[out] = inner_right(g, d[a], b)


@forward(power_log)
def power_log_forward(y, z, x):
    d[y] = power_log(d[z], x)
    d[y] = z * sign_safe_div(d[x], x)


@forward(sign_safe_div)
def sign_safe_div_forward(y, num, den):
    d[y] = sign_safe_div(d[num], den)
    d[y] = -sign_safe_div(num * d[den], den * den)


@forward(prod_grad)
def prod_grad_forward(out, g, x, y, axis=None, keepdims=False):
    d[out] = prod_grad(d[g], x, y, axis, keepdims)
    d[out] = prod_grad_tangent(g, x, y, d[x], axis, keepdims)


@forward(var_grad)
def var_grad_forward(out, g, x, axis=None, ddof=0, keepdims=False):
    d[out] = var_grad(d[g], x, axis, ddof, keepdims)
    d[out] = var_grad(g, d[x], axis, ddof, keepdims)


@forward(norm_grad)
def norm_grad_forward(out, g, x, y, ord=None, axis=None, keepdims=False):
    d[out] = norm_grad(d[g], x, y, ord, axis, keepdims)
    d[out] = norm_grad_tangent(g, x, y, d[x], ord, axis, keepdims)


@forward(extremum_tangent)
def extremum_tangent_forward(out, t, x, y, axis=None, keepdims=False, initial=None):
    d[out] = extremum_tangent(d[t], x, y, axis, keepdims, initial)


@forward(prod_tangent)
def prod_tangent_forward(out, t, x, y, axis=None, keepdims=False):
    d[out] = prod_tangent(d[t], x, y, axis, keepdims)
    d[out] = np.sum(t * prod_grad_tangent(np.ones_like(y), x, y, d[x], axis, keepdims),
                    axis=axis, keepdims=keepdims)


@forward(var_tangent)
def var_tangent_forward(out, t, x, axis=None, ddof=0, keepdims=False):
    d[out] = var_tangent(d[t], x, axis, ddof, keepdims)
    d[out] = var_tangent(t, d[x], axis, ddof, keepdims)


@forward(norm_tangent)
def norm_tangent_forward(out, t, x, y, ord=None, axis=None, keepdims=False):
    d[out] = norm_tangent(d[t], x, y, ord, axis, keepdims)
    d[out] = np.sum(t * norm_grad_tangent(np.ones_like(y), x, y, d[x], ord, axis, keepdims),
                    axis=axis, keepdims=keepdims)


@forward(cast_tangent)
def cast_tangent_forward(out, t, like):
    d[out] = cast_tangent(d[t], like)


@reverse(nested_grad)
def nested_gradient(y, func, x, wrt=0):
    d[x] = nested_hvp(func, x, d[y], wrt)


@forward(nested_grad)
def nested_gradient_forward(y, func, x, wrt=0):
    d[y] = nested_hvp(func, x, d[x], wrt)
