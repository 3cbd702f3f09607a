"""Hand-written gradients: the reference every ratio is taken against.

Each computes what ``sg.grad(f, wrt)`` returns (the gradient only, not the
value), the way a careful NumPy user would write it: the forward quantities
the gradient needs, no more, vectorized where the math allows (the RNN's
weight gradients are one matrix product over all steps, not 50 outer
products).  The runner checks each against sourcegrad's gradient with
``np.allclose`` before timing anything.
"""

from __future__ import annotations

import math

import numpy as np


def matvec(W, x):
    t = np.tanh(W @ x)
    return (1.0 - t * t)[:, None] * x  # np.outer(1 - t*t, x), without its overhead


def mlp(W1, b1, W2, b2, X, Y):
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    dz = (p - Y) / n  # softmax cross-entropy with one-hot rows of Y
    dW2 = h.T @ dz
    db2 = dz.sum(axis=0)
    da = (dz @ W2.T) * (1.0 - h * h)
    dW1 = X.T @ da
    db1 = da.sum(axis=0)
    return dW1, db1, dW2, db2


def rnn(W, U, b, xs, h0):
    steps = xs.shape[0]
    hs = np.empty((steps + 1, h0.shape[0]))
    hs[0] = h0
    inputs = xs @ U.T + b  # every step's input term at once
    for t in range(steps):
        hs[t + 1] = np.tanh(W @ hs[t] + inputs[t])
    da = np.empty((steps, h0.shape[0]))
    dh = np.zeros_like(h0)
    WT = W.T
    for t in range(steps - 1, -1, -1):
        h = hs[t + 1]
        dh += 2.0 * h
        da[t] = dh * (1.0 - h * h)
        dh = WT @ da[t]
    return da.T @ hs[:-1], da.T @ xs, da.sum(axis=0)


def scalar_loop(x):
    tape = []
    for _ in range(100):
        s = math.sin(x)
        tape.append((x, s))
        x = s * x
    g = 1.0
    for x, s in reversed(tape):
        g *= math.cos(x) * x + s
    return g


def elementwise(x):
    s = np.sin(x)
    e = np.exp(-x * x)
    return (np.cos(x) - 2.0 * x * s) * e + 2.0 * x


def rosenbrock_hessian(x):
    n = x.shape[0]
    H = np.zeros((n, n))
    diag = np.zeros(n)
    diag[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    diag[1:] += 200.0
    off = -400.0 * x[:-1]
    H.flat[:: n + 1] = diag
    H.flat[1 :: n + 1] = off
    H.flat[n :: n + 1] = off
    return H


def close(a, b, rtol=1e-6) -> bool:
    """Whether the gradients ``a`` and ``b`` (arrays, floats or tuples of them)
    agree: np.allclose with ``rtol`` and an absolute tolerance of 1e-9 times
    the largest entry of ``b``."""
    a = tuple(a) if isinstance(a, (tuple, list)) else (a,)
    b = tuple(b) if isinstance(b, (tuple, list)) else (b,)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        scale = max(1.0, float(np.max(np.abs(y)))) if y.size else 1.0
        if x.shape != y.shape or not np.allclose(x, y, rtol=rtol, atol=1e-9 * scale):
            return False
    return True


#: workload name -> hand-written gradient (Hessian for "hessian")
GRADIENTS = {
    "matvec": matvec,
    "mlp": mlp,
    "rnn": rnn,
    "scalar_loop": scalar_loop,
    "elementwise": elementwise,
    "hessian": rosenbrock_hessian,
}
