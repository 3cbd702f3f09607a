"""Stage 3b, single assignment: no name is assigned twice.

Invariant established: in the normal-form body every name, parameters
included, is bound once, so every value the adjoint sweep reads is still
there after the primal sweep.  A name assigned again gets a numbered
version, and later reads follow it, as does a local that bears the name
of a global the generated code reads (``np``, ``unbroadcast``).  Once names are unique, an item read
from a tuple literal by a constant index (``a = t[0]`` after ``t = (x, y)``)
reads the element itself (``a = x``), so no adjoint flows through a tuple.

>>> import gast
>>> from sourcegrad.emit import to_source
>>> tree = gast.parse("def f(x):\\n    x = x * 2\\n    y = x + 1\\n    x = y\\n    return x")
>>> print(to_source(single_assignment(tree.body[0])))
def f(x):
    x_1 = x * 2
    y = x_1 + 1
    x_2 = y
    return x_2
>>> tree = gast.parse("def f(x, y):\\n    t = (x, y)\\n    a = t[1]\\n    return a")
>>> print(to_source(single_assignment(tree.body[0])))
def f(x, y):
    t = (x, y)
    a = y
    return a
"""

from __future__ import annotations

import copy

import gast

from .names import GENERATED, Namer, identifiers


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
            clash = name in current or name in GENERATED  # e.g. a local named np
            target.id = namer.fresh(name) if clash else name
            current[name] = target.id
    _forward_items(fn)
    return fn


def _forward_items(fn: gast.FunctionDef) -> None:
    """Replace ``t[k]`` by the element, where ``t`` is a tuple literal and ``k`` an int."""
    literals = {}
    for stmt in fn.body:
        if not isinstance(stmt, gast.Assign):
            continue
        value = stmt.value
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            item = _item(literals.get(value.value.id), value.slice)
            if item is not None:
                stmt.value = copy.deepcopy(item)
        if isinstance(stmt.value, (gast.Tuple, gast.List)):
            literals[stmt.targets[0].id] = stmt.value.elts
        elif isinstance(stmt.value, gast.Name) and stmt.value.id in literals:
            literals[stmt.targets[0].id] = literals[stmt.value.id]  # a copy of a tuple


def _item(elts, index):
    """``elts[index]`` for a constant integer ``index`` in range, else ``None``."""
    if elts is None or not isinstance(index, gast.Constant):
        return None
    k = index.value
    if not isinstance(k, int) or isinstance(k, bool) or not -len(elts) <= k < len(elts):
        return None
    return elts[k]


def _rename_loads(stmt, current) -> None:
    for node in gast.walk(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            node.id = current.get(node.id, node.id)
