"""Stage 3b, single assignment: no name is assigned twice.

Invariant established: in the normal-form body every name, parameters
included, is bound once, so every value the adjoint sweep reads is still
there after the primal sweep.  A name assigned again gets a numbered
version, and later reads follow it.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> tree = gast.parse("def f(x):\\n    x = x * 2\\n    y = x + 1\\n    x = y\\n    return x")
>>> print(to_source(single_assignment(tree.body[0])))
def f(x):
    x_1 = x * 2
    y = x_1 + 1
    x_2 = y
    return x_2
"""

from __future__ import annotations

import copy

import gast

from .names import Namer, identifiers


def single_assignment(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of ``fn`` in which every name is assigned once."""
    fn = copy.deepcopy(fn)
    namer = Namer(identifiers(fn))
    params = fn.args.args + fn.args.posonlyargs + fn.args.kwonlyargs
    current = {p.id: p.id for p in params}
    for stmt in fn.body:
        _rename_loads(stmt, current)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            name = target.id
            target.id = namer.fresh(name) if name in current else name
            current[name] = target.id
    return fn


def _rename_loads(stmt, current) -> None:
    for node in gast.walk(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            node.id = current.get(node.id, node.id)
