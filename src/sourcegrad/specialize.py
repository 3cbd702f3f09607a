"""Stage 6d, specialize: ``grad``'s function checks what it was compiled for.

Invariant established: a function compiled for a ``signature.Signature`` (the
ranks of the first call's arrays, the types of its numbers) starts with one
test of its parameters, the types and ranks it assumed and every equality of
lengths the shapes analysis assumed (``shapes.Shapes.assumptions``), and
raises ``Unspecialized`` where the test fails; ``sourcegrad.grad`` catches it
and runs a version compiled for those arguments, or the general one.  What
the test admits, the code below it computes exactly.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> from sourcegrad.signature import Signature
>>> fn = gast.parse("def grad_f(W, x, s):\\n    return W @ x").body[0]
>>> signature = Signature((("ndarray", 2, ()), ("ndarray", 1, ()), ("float",)))
>>> print(to_source(specialize(fn, signature, ["W.shape[1] == x.shape[0]"])))
def grad_f(W, x, s):
    # the arguments this code was specialized for (others: Unspecialized)
    if W.__class__ is not ndarray or W.ndim != 2:
        raise Unspecialized
    if x.__class__ is not ndarray or x.ndim != 1:
        raise Unspecialized
    if not W.shape[1] == x.shape[0]:
        raise Unspecialized
    return W @ x
"""

from __future__ import annotations

import gast

from .emit import comment
from .trees import allocates, clone

_NUMBERS = {"float": "float", "int": "int", "float64": "np.float64", "float32": "np.float32"}


def specialize(fn: gast.FunctionDef, signature, assumptions: list) -> gast.FunctionDef:
    """A copy of ``fn`` that first tests the parameters it reads against
    ``signature`` and ``assumptions`` (Python tests of the parameters)."""
    fn = clone(fn)
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    read = {n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}
    for test in assumptions:  # the lengths they compare are read too
        read |= {n.id for n in gast.walk(gast.parse(test)) if isinstance(n, gast.Name)}
    tests = []
    for name, entry in zip(params, signature.params):
        if entry is None or name not in read:
            continue
        if entry[0] == "ndarray":
            tests.append(f"{name}.__class__ is not ndarray or {name}.ndim != {entry[1]}")
        else:
            tests.append(f"{name}.__class__ is not {_NUMBERS[entry[0]]}")
    tests += [f"not {test}" for test in assumptions]
    if not tests:
        return fn
    guard = [comment("the arguments this code was specialized for (others: Unspecialized)")]
    guard += [gast.parse(f"if {test}:\n    raise Unspecialized").body[0] for test in tests]
    fn.body[:0] = guard
    return fn


def new_array(fn: gast.FunctionDef) -> bool:
    """Whether ``fn`` returns one name that every assignment to it makes a new
    array (arithmetic, a NumPy ufunc, a sum, a product; or an update in
    place of such an array): never an argument's memory.

    >>> new_array(gast.parse("def g(W, x):\\n    bW = x[:, None] * W\\n    return bW").body[0])
    True
    >>> new_array(gast.parse("def g(W, x):\\n    bW = x\\n    return bW").body[0])
    False
    """
    last = fn.body[-1] if fn.body else None
    if not (isinstance(last, gast.Return) and isinstance(last.value, gast.Name)):
        return False
    name = last.value.id
    params = {a.id for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    stores = [n for n in gast.walk(fn) if isinstance(n, gast.Name) and n.id == name
              and isinstance(n.ctx, gast.Store)]
    values = [node.value for node in gast.walk(fn) if isinstance(node, gast.Assign)
              and isinstance(node.targets[0], gast.Name) and node.targets[0].id == name]
    updates = [node for node in gast.walk(fn) if isinstance(node, gast.AugAssign)
               and isinstance(node.target, gast.Name) and node.target.id == name]
    return (name not in params and bool(values) and len(stores) == len(values) + len(updates)
            and all(allocates(v) for v in values))
