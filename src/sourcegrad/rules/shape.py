"""Shape and copying: reshape, transpose, joins and splits, ``astype``."""

import numpy as np

from ..runtime import (
    cast_grad, unbroadcast, unconcatenate, unhstack, unstack, untranspose, unvstack,
)
from .registry import d, reverse


@reverse(np.reshape)
def reshape(y, a, shape=None, order="C", newshape=None, copy=None):
    if order == "C":
        d[a] = np.reshape(d[y], np.shape(a))
    else:
        d[a] = np.reshape(d[y], np.shape(a), order=order)


@reverse(np.ravel)
def ravel(y, a, order="C"):
    if order == "C":
        d[a] = np.reshape(d[y], np.shape(a))
    else:
        d[a] = np.reshape(d[y], np.shape(a), order=order)


@reverse(np.transpose)
def transpose(y, a, axes=None):
    if axes is None:
        d[a] = np.transpose(d[y])
    else:
        d[a] = untranspose(d[y], axes)


@reverse(np.swapaxes)
def swapaxes(y, a, axis1, axis2):
    d[a] = np.swapaxes(d[y], axis1, axis2)


@reverse(np.moveaxis)
def moveaxis(y, a, source, destination):
    d[a] = np.moveaxis(d[y], destination, source)


@reverse(np.expand_dims)
def expand_dims(y, a, axis):
    d[a] = np.reshape(d[y], np.shape(a))


@reverse(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] = np.reshape(d[y], np.shape(a))


@reverse(np.broadcast_to)
def broadcast_to(y, array, shape):
    d[array] = unbroadcast(d[y], array)


@reverse(np.concatenate)
def concatenate(y, arrays, axis=0):
    d[arrays] = unconcatenate(d[y], arrays, axis)


@reverse(np.stack)
def stack(y, arrays, axis=0):
    d[arrays] = unstack(d[y], axis)


@reverse(np.hstack)
def hstack(y, tup):
    d[tup] = unhstack(d[y], tup)


@reverse(np.vstack)
def vstack(y, tup):
    d[tup] = unvstack(d[y], tup)


@reverse(np.copy)
def copy(y, a, order="K", subok=False):
    d[a] = d[y]


@reverse(np.array, np.asarray)
def array(y, a, dtype=None, order=None, *, copy=None, subok=False, ndmin=0, device=None,
          like=None):
    if dtype is None and ndmin == 0:
        d[a] = d[y]
    else:
        d[a] = cast_grad(np.reshape(d[y], np.shape(a)), a, dtype)


@reverse(np.astype)
def astype(y, x, dtype, copy=True):
    d[x] = cast_grad(d[y], x, dtype)


@reverse(float, np.float64, np.float32)
def to_float(y, x):
    d[x] = d[y]


@reverse(np.full)
def full(y, shape, fill_value, dtype=None, order="C"):
    if dtype is None:
        d[fill_value] = unbroadcast(d[y], fill_value)
    else:
        d[fill_value] = cast_grad(unbroadcast(d[y], fill_value), fill_value, dtype)


@reverse(np.full_like)
def full_like(y, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[fill_value] = cast_grad(unbroadcast(d[y], fill_value), fill_value, np.result_type(y))
