"""Stage 4, activity: the variables that need derivative code.

An analysis: a variable is *active* when it depends on a ``wrt`` input
through differentiable operations and the output depends on it the same way.
Only active variables get adjoints; everything else is a constant to the
reverse pass.

>>> import gast
>>> fn = gast.parse('''
... def f(x, n):
...     k = n * 2
...     y = x * k
...     z = x + 1.0
...     return y
... ''').body[0]
>>> from sourcegrad.primitives import primitives
>>> from sourcegrad.parse import Namespace
>>> ops = primitives(fn, Namespace({}), None)
>>> sorted(activity(fn, ops, {"x"}))
['x', 'y']
"""

from __future__ import annotations

import gast


def activity(fn: gast.FunctionDef, ops: list, wrt) -> frozenset:
    """The names that are both varied (by ``wrt``) and useful (to the output)."""
    varied = set(wrt)
    for stmt, op in zip(fn.body, ops):
        if op is not None and any(name in varied for name in op.inputs()):
            varied.add(stmt.targets[0].id)
    ret = fn.body[-1]
    useful = {ret.value.id} if isinstance(ret, gast.Return) else set()
    for stmt, op in reversed(list(zip(fn.body, ops))):
        if op is not None and stmt.targets[0].id in useful:
            useful.update(op.inputs())
    return frozenset(varied & useful)
