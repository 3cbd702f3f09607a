"""Shape and copying: reshape, transpose, joins and splits, ``astype``.

Each forward rule follows its reverse rule: these functions are linear, so a
tangent goes through the same function as its value; a conversion gives the
tangent the output's float type (zero for an integer output).
"""

import numpy as np

from ..runtime import (
    cast_grad, cast_tangent, rebroadcast, unbroadcast, unconcatenate, unhstack, unstack,
    untranspose, unvstack,
)
from .registry import d, forward, reverse


@reverse(np.reshape)
def reshape(y, a, shape=None, order="C", newshape=None, copy=None):
    if order == "C":
        d[a] = np.reshape(d[y], np.shape(a))
    else:
        d[a] = np.reshape(d[y], np.shape(a), order=order)


@forward(np.reshape)
def reshape_forward(y, a, shape=None, order="C", newshape=None, copy=None):
    if order == "C":
        d[y] = np.reshape(d[a], np.shape(y))
    else:
        d[y] = np.reshape(d[a], np.shape(y), order=order)


@reverse(np.ravel)
def ravel(y, a, order="C"):
    if order == "C":
        d[a] = np.reshape(d[y], np.shape(a))
    else:
        d[a] = np.reshape(d[y], np.shape(a), order=order)


@forward(np.ravel)
def ravel_forward(y, a, order="C"):
    if order == "C":
        d[y] = np.ravel(d[a])
    else:
        d[y] = np.ravel(d[a], order=order)


@reverse(np.transpose)
def transpose(y, a, axes=None):
    if axes is None:
        d[a] = np.transpose(d[y])
    else:
        d[a] = untranspose(d[y], axes)


@forward(np.transpose)
def transpose_forward(y, a, axes=None):
    if axes is None:
        d[y] = np.transpose(d[a])
    else:
        d[y] = np.transpose(d[a], axes)


@reverse(np.swapaxes)
def swapaxes(y, a, axis1, axis2):
    d[a] = np.swapaxes(d[y], axis1, axis2)


@forward(np.swapaxes)
def swapaxes_forward(y, a, axis1, axis2):
    d[y] = np.swapaxes(d[a], axis1, axis2)


@reverse(np.moveaxis)
def moveaxis(y, a, source, destination):
    d[a] = np.moveaxis(d[y], destination, source)


@forward(np.moveaxis)
def moveaxis_forward(y, a, source, destination):
    d[y] = np.moveaxis(d[a], source, destination)


@reverse(np.expand_dims)
def expand_dims(y, a, axis):
    d[a] = np.reshape(d[y], np.shape(a))


@forward(np.expand_dims)
def expand_dims_forward(y, a, axis):
    d[y] = np.expand_dims(d[a], axis)


@reverse(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] = np.reshape(d[y], np.shape(a))


@forward(np.squeeze)
def squeeze_forward(y, a, axis=None):
    if axis is None:
        d[y] = np.squeeze(d[a])
    else:
        d[y] = np.squeeze(d[a], axis)


@reverse(np.broadcast_to)
def broadcast_to(y, array, shape):
    d[array] = unbroadcast(d[y], array)


@forward(np.broadcast_to)
def broadcast_to_forward(y, array, shape):
    d[y] = rebroadcast(d[array], y)


@reverse(np.concatenate)
def concatenate(y, arrays, axis=0):
    d[arrays] = unconcatenate(d[y], arrays, axis)


@forward(np.concatenate)
def concatenate_forward(y, arrays, axis=0):
    if axis == 0:
        d[y] = np.concatenate(d[arrays])
    else:
        d[y] = np.concatenate(d[arrays], axis=axis)


@reverse(np.stack)
def stack(y, arrays, axis=0):
    d[arrays] = unstack(d[y], axis)


@forward(np.stack)
def stack_forward(y, arrays, axis=0):
    if axis == 0:
        d[y] = np.stack(d[arrays])
    else:
        d[y] = np.stack(d[arrays], axis=axis)


@reverse(np.hstack)
def hstack(y, tup):
    d[tup] = unhstack(d[y], tup)


@forward(np.hstack)
def hstack_forward(y, tup):
    d[y] = np.hstack(d[tup])


@reverse(np.vstack)
def vstack(y, tup):
    d[tup] = unvstack(d[y], tup)


@forward(np.vstack)
def vstack_forward(y, tup):
    d[y] = np.vstack(d[tup])


@reverse(np.copy)
def copy(y, a, order="K", subok=False):
    d[a] = d[y]


@forward(np.copy)
def copy_forward(y, a, order="K", subok=False):
    d[y] = d[a]


@reverse(np.array, np.asarray)
def array(y, a, dtype=None, order=None, *, copy=None, subok=False, ndmin=0, device=None,
          like=None):
    if dtype is None and ndmin == 0:
        d[a] = d[y]
    else:
        d[a] = cast_grad(np.reshape(d[y], np.shape(a)), a, dtype)


@forward(np.array, np.asarray)
def array_forward(y, a, dtype=None, order=None, *, copy=None, subok=False, ndmin=0, device=None,
                  like=None):
    if dtype is None and ndmin == 0:
        d[y] = np.asarray(d[a])
    else:
        d[y] = cast_tangent(np.reshape(d[a], np.shape(y)), y)


@reverse(np.astype)
def astype(y, x, dtype, copy=True):
    d[x] = cast_grad(d[y], x, dtype)


@forward(np.astype)
def astype_forward(y, x, dtype, copy=True):
    d[y] = cast_tangent(d[x], y)


@reverse(float, np.float64, np.float32)
def to_float(y, x):
    d[x] = d[y]


@forward(float, np.float64, np.float32)
def to_float_forward(y, x):
    d[y] = cast_tangent(d[x], y)


@reverse(np.full)
def full(y, shape, fill_value, dtype=None, order="C"):
    if dtype is None:
        d[fill_value] = unbroadcast(d[y], fill_value)
    else:
        d[fill_value] = cast_grad(unbroadcast(d[y], fill_value), fill_value, dtype)


@forward(np.full)
def full_forward(y, shape, fill_value, dtype=None, order="C"):
    if dtype is None:
        d[y] = rebroadcast(d[fill_value], y)
    else:
        d[y] = cast_tangent(rebroadcast(d[fill_value], y), y)


@reverse(np.full_like)
def full_like(y, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[fill_value] = cast_grad(unbroadcast(d[y], fill_value), fill_value, np.result_type(y))


@forward(np.full_like)
def full_like_forward(y, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[y] = cast_tangent(rebroadcast(d[fill_value], y), y)
