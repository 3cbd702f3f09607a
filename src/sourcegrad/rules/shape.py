"""Shape and copying: reshape, transpose, joins and splits, ``astype``."""

import numpy as np

from ..runtime import unbroadcast, unconcatenate, unstack, unvstack
from .registry import d, reverse


@reverse(np.reshape)
def reshape(y, a, shape=None, order="C", newshape=None, copy=None):
    d[a] = np.reshape(d[y], np.shape(a))


@reverse(np.ravel)
def ravel(y, a, order="C"):
    d[a] = np.reshape(d[y], np.shape(a))


@reverse(np.transpose)
def transpose(y, a, axes=None):
    if axes is None:
        d[a] = np.transpose(d[y])
    else:
        d[a] = np.transpose(d[y], np.argsort(axes))


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
    d[tup] = unconcatenate(d[y], tup, 0 if np.ndim(y) == 1 else 1)


@reverse(np.vstack)
def vstack(y, tup):
    d[tup] = unvstack(d[y], tup)


@reverse(np.copy, np.array, np.asarray)
def copy(y, a):
    d[a] = d[y]


@reverse(np.astype)
def astype(y, x, dtype, copy=True):
    d[x] = np.astype(d[y], np.result_type(x))


@reverse(float)
def to_float(y, x):
    d[x] = d[y]


@reverse(np.full)
def full(y, shape, fill_value, dtype=None):
    d[fill_value] = unbroadcast(d[y], fill_value)


@reverse(np.full_like)
def full_like(y, a, fill_value, dtype=None):
    d[fill_value] = unbroadcast(d[y], fill_value)
