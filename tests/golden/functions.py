"""The functions whose generated derivatives are kept as golden files.

Do not edit: the golden files record the line numbers and the hash of this
file's source.  Change a function, then rewrite the golden files with
``SOURCEGRAD_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``.
"""

import numpy as np


def matvec_tanh(W, x):
    h = np.tanh(W @ x)
    return np.sum(h * h)


def softmax_cross_entropy(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = logits.shape[0]
    return -np.mean(logp[np.arange(n), labels])


def broadcasting(X, b, s):
    z = (X - b) / s
    return np.mean(z ** 2)


def rnn(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + U @ x[t])
    return np.sum(h)


def huber(r, delta):
    total = 0.0
    for v in r:
        if np.abs(v) <= delta:
            total = total + 0.5 * v * v
        else:
            total = total + delta * (np.abs(v) - 0.5 * delta)
    return total


def layer(W, b, x):
    return np.tanh(W @ x + b)


def helper_call(W1, b1, W2, b2, x):
    h = layer(W1, b1, x)
    return np.sum(layer(W2, b2, h) ** 2)


def write_in_a_loop(x):
    y = np.zeros_like(x)
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        y[i] = y[i - 1] * x[i]
    return np.sum(y)


def smooth(x):
    return np.sum(np.sin(x) * np.exp(-x * x) + x ** 2)
