"""The peers measured in the main process: autograd, tangent, PyTorch.

Each ``build_<peer>(name, args)`` returns a zero-argument callable that
computes the gradient (the Hessian for "hessian") of workload ``name`` at
``args`` in that system's idiom, and a function that turns its result into
NumPy arrays for the correctness check.  Each raises ``Unsupported`` for a
workload the system cannot run, with the reason.  The functions below are
textually parallel to ``workloads.py``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import warnings

import numpy as np

import workloads


class Unsupported(Exception):
    """The system cannot run this workload; the message says why."""


def version(module_name: str, distribution: str):
    """The installed version of ``distribution``, or None when ``module_name``
    cannot be imported."""
    try:
        module = importlib.import_module(module_name)
    except Exception:
        return None
    try:
        return importlib.metadata.version(distribution)
    except Exception:
        return getattr(module, "__version__", "?")


def _tuple(g):
    return tuple(g) if isinstance(g, (tuple, list)) else g


# --- autograd ----------------------------------------------------------------


def build_autograd(name, args):
    import autograd
    import autograd.numpy as anp

    def matvec(W, x):
        return anp.sum(anp.tanh(W @ x))

    def mlp(W1, b1, W2, b2, X, Y):
        h = anp.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - anp.max(z, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.sum(Y * logp) / X.shape[0]

    def rnn(W, U, b, xs, h0):
        h = h0
        loss = 0.0
        for t in range(xs.shape[0]):
            h = anp.tanh(W @ h + U @ xs[t] + b)
            loss = loss + anp.sum(h * h)
        return loss

    def scalar_loop(x):
        for i in range(100):
            x = anp.sin(x) * x
        return x

    def elementwise(x):
        return anp.sum(anp.sin(x) * anp.exp(-x * x) + x ** 2)

    def rosenbrock(x):
        return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    if name == "hessian":
        h = autograd.hessian(rosenbrock)
        return (lambda: h(*args)), np.asarray
    f = locals()[name]
    wrt = workloads.WORKLOADS[name][1]
    g = autograd.grad(f, wrt)
    return (lambda: g(*args)), _tuple


# --- tangent -----------------------------------------------------------------


def build_tangent(name, args):
    import tangent

    if name == "hessian":
        raise Unsupported("tangent has no Hessian")
    f, wrt, _ = workloads.WORKLOADS[name]
    if name == "scalar_loop":
        f = workloads.scalar_loop_np  # tangent has no adjoint for math.sin
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # its generated code has `1 is None`
        g = tangent.grad(f, wrt=wrt, verbose=0)
    return (lambda: g(*args)), _tuple


# --- PyTorch -----------------------------------------------------------------


def build_torch(name, args):
    import torch

    def matvec(W, x):
        return torch.sum(torch.tanh(W @ x))

    def mlp(W1, b1, W2, b2, X, Y):
        h = torch.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - torch.amax(z, dim=1, keepdim=True)
        logp = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
        return -torch.sum(Y * logp) / X.shape[0]

    def rnn(W, U, b, xs, h0):
        h = h0
        loss = 0.0
        for t in range(xs.shape[0]):
            h = torch.tanh(W @ h + U @ xs[t] + b)
            loss = loss + torch.sum(h * h)
        return loss

    def scalar_loop(x):
        for i in range(100):
            x = torch.sin(x) * x
        return x

    def elementwise(x):
        return torch.sum(torch.sin(x) * torch.exp(-x * x) + x ** 2)

    def rosenbrock(x):
        return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    if name == "hessian":
        x = torch.tensor(args[0], dtype=torch.float64)
        h = torch.func.hessian(rosenbrock)
        return (lambda: h(x)), lambda r: r.numpy()
    f = locals()[name]
    wrt = workloads.WORKLOADS[name][1]
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=(i in wrt))
               for i, a in enumerate(args)]
    params = [tensors[i] for i in wrt]

    def run():
        return torch.autograd.grad(f(*tensors), params)

    def to_numpy(r):
        out = tuple(t.detach().numpy() for t in r)
        return out if len(out) > 1 else out[0]

    return run, to_numpy


BUILDERS = {"autograd": build_autograd, "tangent": build_tangent, "torch": build_torch}
#: system -> (module, distribution)
MODULES = {"autograd": ("autograd", "autograd"), "tangent": ("tangent", "tangent-ad"),
           "torch": ("torch", "torch")}
