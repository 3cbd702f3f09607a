"""Names: fresh deterministic identifiers, and where a written name resolves.

``Namer`` hands out readable names with a numeric suffix only on a clash.
``resolve`` finds the object an expression such as ``np.linalg.norm`` refers
to, and ``canonical`` writes it back the way generated modules spell it
(``np.`` for NumPy, ``math.`` for the math module).

>>> namer = Namer({"x", "bx"})
>>> namer.fresh("bx"), namer.fresh("bx"), namer.fresh("t")
('bx_1', 'bx_2', 't')
"""

from __future__ import annotations

import builtins
import keyword
import math
import types

import gast
import numpy as np

from . import runtime

#: Names generated code may use without a clash: modules and builtins.
RESERVED = frozenset(
    {"np", "math", "d"} | set(dir(builtins)) | set(keyword.kwlist) | set(runtime.__all__)
)

#: Modules that generated code imports under a fixed name.
MODULES = {"np": np, "math": math}

#: The globals generated code reads: a user's local of the same name is renamed.
GENERATED = frozenset(MODULES) | frozenset(runtime.__all__)


class Namer:
    """Deterministic fresh names that avoid every name already taken."""

    def __init__(self, taken=()):
        self.taken = set(taken) | RESERVED

    def fresh(self, base: str) -> str:
        base = base or "t"
        if base not in self.taken:
            self.taken.add(base)
            return base
        i = 1
        while f"{base}_{i}" in self.taken:
            i += 1
        name = f"{base}_{i}"
        self.taken.add(name)
        return name


def identifiers(tree) -> set:
    """Every identifier that appears in ``tree`` (names and parameters)."""
    out = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.Name):
            out.add(node.id)
        elif isinstance(node, gast.FunctionDef):
            out.add(node.name)
    return out


def dotted(node):
    """``['np', 'linalg', 'norm']`` for ``np.linalg.norm``; ``None`` otherwise."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def attribute_chain(parts) -> gast.expr:
    """The expression ``a.b.c`` for ``['a', 'b', 'c']``."""
    node = gast.Name(id=parts[0], ctx=gast.Load(), annotation=None, type_comment=None)
    for attr in parts[1:]:
        node = gast.Attribute(value=node, attr=attr, ctx=gast.Load())
    return node


def resolve(parts, namespace):
    """The object that the dotted name ``parts`` refers to, or raise ``KeyError``."""
    obj = namespace.lookup(parts[0])
    for attr in parts[1:]:
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise KeyError(".".join(parts)) from None
    return obj


def canonical(parts, namespace) -> list:
    """How generated code spells what the user wrote as the dotted name ``parts``.

    NumPy and ``math`` are spelled ``np.`` and ``math.`` whatever the user
    imported them as; other names are kept as written.
    """
    head = namespace.lookup(parts[0])
    for alias, module in MODULES.items():
        path = _submodule_path(module, head)
        if path is not None:
            return [alias] + path + list(parts[1:])
    obj = resolve(parts, namespace)
    if obj is runtime.stop_gradient or (
        getattr(obj, "__name__", None) == "stop_gradient"
        and str(getattr(obj, "__module__", "")).startswith("sourcegrad")
    ):
        return ["stop_gradient"]
    if len(parts) == 1 and getattr(builtins, parts[0], None) is obj:
        return list(parts)
    for alias, module in MODULES.items():
        found = _find_in(module, obj)
        if found is not None:
            return [alias] + found
    return list(parts)


_SUBMODULES = ([], ["linalg"], ["fft"], ["random"])


def _submodule_path(module, obj):
    """``['linalg']`` when ``obj`` is ``module.linalg``; ``[]`` for the module."""
    if not isinstance(obj, types.ModuleType):
        return None
    for path in _SUBMODULES:
        owner = module
        for attr in path:
            owner = getattr(owner, attr, None)
        if owner is obj:
            return list(path)
    return None


def _find_in(module, obj):
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str) or isinstance(obj, types.ModuleType):
        return None
    for path in _SUBMODULES:
        owner = module
        for attr in path:
            owner = getattr(owner, attr, None)
        if owner is not None and getattr(owner, name, None) is obj:
            return path + [name]
    return None
