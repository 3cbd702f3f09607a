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

from .primitives import appends, assignments


def activity(fn: gast.FunctionDef, ops: dict, wrt) -> frozenset:
    """The names that are both varied (by ``wrt``) and useful (to the output).

    Loops carry values from one iteration to the next, so both sets grow to
    a fixed point over the assignments in source order.
    """
    stmts = [(s.targets[0].id, ops[id(s)].inputs()) for s in assignments(fn.body)]
    stmts += [(w.targets[0].value.id, [n.id for n in gast.walk(w.value) if isinstance(n, gast.Name)])
              for w in assignments(fn.body, writes=True)]
    stmts += [(a.value.func.value.id, [n.id for n in gast.walk(a.value.args[0])
                                       if isinstance(n, gast.Name)]) for a in appends(fn.body)]
    varied = set(wrt)
    while True:
        size = len(varied)
        for target, inputs in stmts:
            if any(name in varied for name in inputs):
                varied.add(target)
        if len(varied) == size:
            break
    ret = fn.body[-1]
    useful = {ret.value.id} if isinstance(ret, gast.Return) else set()
    while True:
        size = len(useful)
        for target, inputs in reversed(stmts):
            if target in useful:
                useful.update(inputs)
        if len(useful) == size:
            break
    return frozenset(varied & useful)
