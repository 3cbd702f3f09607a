"""Folding ``grad``'s seed: the output's adjoint is the number 1.0.

``fold_unit_seed`` rewrites an adjoint sweep for ``grad``'s own generated
function, where the seed is always 1.0: names that only ever hold the seed
read as the number, and ``1.0 * e`` becomes ``e`` wherever that provably
keeps the value and the dtype (see its docstring), so that the gradient of
``np.sum(np.tanh(W @ x))`` starts ``bmatmul = 1.0 - tanh * tanh``.
"""

from __future__ import annotations

import gast

from .emit import to_source  # noqa: F401 - the doctest's
from .trees import in_place


def fold_unit_seed(body: list, seed: str, inexact=frozenset(), primal=frozenset()) -> list:
    """``body`` with the seed ``seed`` set to 1.0 (``grad`` of a scalar always
    seeds 1.0): a name that only ever holds 1.0 (the seed, unless the sweep
    assigns it, and its copies) is read as the number, and ``1.0 * e`` is
    written ``e`` where that keeps the value and the dtype: ``e`` arithmetic
    whose result is floating point (a float constant or a division in it; an
    int constant becomes a float, so ``1.0 * (2 * x)`` is ``2.0 * x``), or a
    name in ``inexact`` (``dtypes.inexact_names``).  The names in ``primal``
    (the function's own) are never taken for the seed's copies.  Another bare name keeps
    its factor: it may hold integers or booleans.

    >>> body = gast.parse("bt = bf * (1.0 - t * t)\\nbx = 2 * x * bf\\nby = bf * y").body
    >>> print(to_source(gast.Module(body=fold_unit_seed(body, "bf"), type_ignores=[])))
    bt = 1.0 - t * t
    bx = 2.0 * x
    by = 1.0 * y
    """
    module = gast.Module(body=body, type_ignores=[])
    stores = {}
    for node in gast.walk(module):
        if isinstance(node, (gast.Assign, gast.AugAssign, gast.For)):
            for target in (node.targets if isinstance(node, gast.Assign) else [node.target]):
                for name in gast.walk(target):
                    if isinstance(name, gast.Name):
                        stores.setdefault(name.id, []).append(
                            node.value if isinstance(node, gast.Assign) and target is name
                            else None)
    # The names that hold 1.0 whenever they are read: each assignment to one
    # assigns 1.0 or another such name (the greatest such set); not the primal's
    # names, which the sweep may read before it assigns them.
    ones = ({seed} | set(stores)) - set(primal) - _subscripted(module)
    while True:
        out = {n for n in ones if not all(_is_one(v) or isinstance(v, gast.Name) and v.id in ones
                                          for v in stores.get(n, ()))}
        if not out:
            break
        ones -= out
    if seed not in ones:  # the sweep reuses the seed's name: it starts at 1.0
        module.body.insert(0, gast.Assign(targets=[gast.Name(
            id=seed, ctx=gast.Store(), annotation=None, type_comment=None)],
            value=gast.Constant(value=1.0, kind=None), type_comment=None))

    mutated = in_place(module)

    class Fold(gast.NodeTransformer):
        def visit_Assign(self, node):
            product = not isinstance(node.value, gast.Name)
            self.generic_visit(node)
            target = node.targets[0]
            if (product and isinstance(node.value, gast.Name) and isinstance(target, gast.Name)
                    and target.id in mutated):  # updated in place: keep it a fresh array
                node.value = gast.BinOp(left=gast.Constant(value=1.0, kind=None),
                                        op=gast.Mult(), right=node.value)
            return node

        def visit_Name(self, node):
            if node.id in ones and isinstance(node.ctx, gast.Load):
                return gast.Constant(value=1.0, kind=None)
            return node

        def visit_BinOp(self, node):
            self.generic_visit(node)
            if isinstance(node.op, gast.Mult):
                for one, other in ((node.left, node.right), (node.right, node.left)):
                    floated = _floated(other, inexact) if _is_one(one) else None
                    if floated is not None:
                        return floated
            return node

    return Fold().visit(module).body


def _subscripted(tree) -> set:
    """Names that ``tree`` indexes or reads an attribute of (``bz[:, None]``):
    they stay names (a number has no items)."""
    return {n.value.id for n in gast.walk(tree) if isinstance(n, (gast.Subscript, gast.Attribute))
            and isinstance(n.value, gast.Name)}


def _is_one(node) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) is float and node.value == 1.0


def _floated(node, inexact=frozenset()):
    """``node``, rewritten if need be so that its result is floating point
    (``1.0 * node``'s value and dtype), or ``None`` if that is not provable."""
    if isinstance(node, gast.Name):
        return node if node.id in inexact else None
    if isinstance(node, gast.Constant) and type(node.value) in (int, float):
        return gast.Constant(value=float(node.value), kind=None)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _floated(node.operand, inexact)
        return None if inner is None else gast.UnaryOp(op=node.op, operand=inner)
    if not (isinstance(node, gast.BinOp) and isinstance(
            node.op, (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow))):
        return None
    if isinstance(node.op, gast.Div):
        return node
    for side in ("left", "right"):
        part = getattr(node, side)
        if isinstance(part, gast.Constant) and type(part.value) in (int, float):
            setattr(node, side, gast.Constant(value=float(part.value), kind=None))
            return node
    for side in ("left", "right"):
        inner = _floated(getattr(node, side), inexact)
        if inner is not None:
            setattr(node, side, inner)
            return node
    return None
