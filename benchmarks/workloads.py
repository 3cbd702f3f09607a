"""The benchmarked functions, in plain NumPy, and their inputs.

This is the "user module": sourcegrad and tangent read these functions'
source.  The peers that trace (autograd, PyTorch, JAX) get textually parallel
definitions in their own modules (``peers_*.py``).  Everything is float64.
"""

from __future__ import annotations

import math

import numpy as np


def matvec(W, x):
    return np.sum(np.tanh(W @ x))


def mlp(W1, b1, W2, b2, X, Y):
    """784-256-10, tanh hidden layer, mean softmax cross-entropy (one-hot Y)."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def rnn(W, U, b, xs, h0):
    """Elman RNN: 50 steps, hidden 32, input 16; loss sums h.h over every step."""
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
        loss = loss + np.sum(h * h)
    return loss


def scalar_loop(x):
    for i in range(100):
        x = math.sin(x) * x
    return x


def scalar_loop_np(x):
    """``scalar_loop`` with ``np.sin`` (for tangent, which has no rule for math.sin)."""
    for i in range(100):
        x = np.sin(x) * x
    return x


def elementwise(x):
    return np.sum(np.sin(x) * np.exp(-x * x) + x ** 2)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


# --- inputs -----------------------------------------------------------------


def inputs(name: str) -> tuple:
    """The arguments of workload ``name`` (fixed seed, float64)."""
    rng = np.random.default_rng(0)
    if name == "matvec":
        return rng.standard_normal((10, 10)), rng.standard_normal(10)
    if name == "mlp":
        n, d, hidden, k = 32, 784, 256, 10
        W1 = rng.standard_normal((d, hidden)) / math.sqrt(d)
        b1 = 0.1 * rng.standard_normal(hidden)
        W2 = rng.standard_normal((hidden, k)) / math.sqrt(hidden)
        b2 = 0.1 * rng.standard_normal(k)
        X = rng.standard_normal((n, d))
        Y = np.eye(k)[rng.integers(0, k, n)]
        return W1, b1, W2, b2, X, Y
    if name == "rnn":
        steps, hidden, d = 50, 32, 16
        W = rng.standard_normal((hidden, hidden)) / math.sqrt(hidden)
        U = rng.standard_normal((hidden, d)) / math.sqrt(d)
        b = 0.1 * rng.standard_normal(hidden)
        xs = rng.standard_normal((steps, d))
        h0 = np.zeros(hidden)
        return W, U, b, xs, h0
    if name == "scalar_loop":
        return (1.8,)  # converges slowly towards pi/2: the gradient stays away from 0
    if name == "elementwise":
        return (rng.standard_normal(1_000_000),)
    if name == "hessian":
        return (rng.uniform(-1.5, 1.5, 20),)
    raise KeyError(name)


#: name -> (function, wrt, description).  ``wrt`` is what sg.grad gets.
WORKLOADS = {
    "matvec": (matvec, 0, "grad of sum(tanh(W @ x)) w.r.t. W; W 10x10"),
    "mlp": (mlp, (0, 1, 2, 3),
            "MLP 784-256-10 (tanh), batch 32, softmax cross-entropy; grad w.r.t. W1, b1, W2, b2"),
    "rnn": (rnn, (0, 1, 2),
            "RNN, 50 steps, hidden 32, input 16, loss sum_t h_t.h_t; grad w.r.t. W, U, b"),
    "scalar_loop": (scalar_loop, 0,
                    "100 iterations of x = sin(x) * x on a Python float; grad w.r.t. x"),
    "elementwise": (elementwise, 0,
                    "sum(sin(x) * exp(-x*x) + x**2), x of 1e6 elements; grad w.r.t. x"),
    "hessian": (rosenbrock, 0, "Hessian of the 20-dimensional Rosenbrock function"),
}
