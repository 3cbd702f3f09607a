"""Stage 6, optimize: remove what the generated function does not need.

Invariant established: every assignment in the body is read later (or is
returned); comment lines that no longer head any code are gone.  Passes run
to a fixed point, each returning whether it changed anything.

>>> import gast
>>> from sourcegrad.emit import to_source, comment
>>> fn = gast.parse("def f(x):\\n    a = x * 2\\n    b = np.exp(x)\\n    c = a + 1\\n    return a").body[0]
>>> fn.body.insert(2, comment("grad of: c"))
>>> print(to_source(optimize(fn)))
def f(x):
    a = x * 2
    return a
"""

from __future__ import annotations

import copy

import gast

from .emit import comment_text, is_comment

#: Calls that may have an effect beyond their value: never removed.
EFFECTFUL = {"print"}


def optimize(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A copy of ``fn`` with dead code removed, to a fixed point."""
    fn = copy.deepcopy(fn)
    passes = (eliminate_dead_code, drop_orphan_comments)
    changed = True
    while changed:
        changed = False
        for run in passes:
            changed |= run(fn)
    return fn


def _loads(node) -> set:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def eliminate_dead_code(fn: gast.FunctionDef) -> bool:
    """Remove assignments whose target nobody reads; report a change."""
    live = set()
    kept = []
    for stmt in reversed(fn.body):
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], gast.Name):
            if stmt.targets[0].id not in live:
                continue
            live.discard(stmt.targets[0].id)
        live |= _loads(stmt)
        kept.append(stmt)
    kept.reverse()
    changed = len(kept) != len(fn.body)
    fn.body[:] = kept
    return changed


def drop_orphan_comments(fn: gast.FunctionDef) -> bool:
    """Remove comment lines that head no code; report a change.

    A ``# grad of:`` line heads the statements up to the next comment; a
    section line (``# primal``, ``# adjoint``) heads everything up to the
    next section line.
    """
    body = fn.body
    kept = []
    for i, stmt in enumerate(body):
        if is_comment(stmt):
            rest = body[i + 1:]
            level = _level(stmt)
            heads = False
            for nxt in rest:
                if isinstance(nxt, gast.Return):
                    break
                if is_comment(nxt):
                    if _level(nxt) <= level:
                        break
                    continue
                heads = True
                break
            if not heads:
                continue
        kept.append(stmt)
    changed = len(kept) != len(body)
    fn.body[:] = kept
    return changed


def _level(stmt) -> int:
    """0 for a section comment, 1 for a ``# grad of:`` line."""
    return 1 if comment_text(stmt).startswith("grad of") else 0
