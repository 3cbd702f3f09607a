"""The derivative-rule registry: template functions keyed by the primitive.

A reverse rule is a template function whose first parameter is the output of
the primitive and whose other parameters mirror the primitive's own
signature.  In its body ``d[x]`` names the adjoint of ``x``; ``d[x] = e``
adds the contribution ``e`` to it.  Templates are parsed once; the reverse
pass replaces their names with the caller's variables and inlines them.

An ``if`` in a template is a compile-time specialisation: its test may only
read parameters, and it is decided when every parameter it reads is bound to
a constant.  When it cannot be decided the ``else`` branch is taken, so the
``else`` branch must be correct in every case.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass

import gast


class _Derivative:
    """The ``d`` of templates: ``d[x]`` is only meaningful to the compiler."""

    def __getitem__(self, name):  # pragma: no cover - never executed
        raise RuntimeError("d[...] only has a meaning inside a rule template")

    def __setitem__(self, name, value):  # pragma: no cover - never executed
        raise RuntimeError("d[...] only has a meaning inside a rule template")


d = _Derivative()


@dataclass(frozen=True)
class Template:
    """A parsed rule template."""

    name: str
    node: gast.FunctionDef
    signature: inspect.Signature  # the primitive's side: without the output
    output: str
    diff_params: frozenset  # parameters whose adjoint the rule sets

    def bind(self, args, keywords):
        """Bind call arguments (tree nodes) to the template's parameters."""
        bound = self.signature.bind(*args, **keywords)
        return dict(bound.arguments)

    def defaults(self) -> dict:
        return {
            name: p.default for name, p in self.signature.parameters.items()
            if p.default is not inspect.Parameter.empty
        }


#: primitive object -> reverse Template
REVERSE: dict = {}
#: primitives whose derivative is zero everywhere it exists
ZERO: set = set()


def _key(primitive):
    return primitive


def reverse(*primitives):
    """Register the decorated template as the reverse rule of ``primitives``."""

    def register(func):
        template = parse_template(func)
        for primitive in primitives:
            REVERSE[_key(primitive)] = template
        return func

    return register


def zero_derivative(*primitives):
    """Declare that ``primitives`` have derivative zero (floor, argmax, ...)."""
    for primitive in primitives:
        ZERO.add(_key(primitive))


def parse_template(func) -> Template:
    source = textwrap.dedent(inspect.getsource(func))
    node = gast.parse(source).body[0]
    node.decorator_list = []
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    output, rest = params[0].name, params[1:]
    diff = set()
    for sub in gast.walk(node):
        if isinstance(sub, gast.Assign):
            for target in sub.targets:
                if is_d(target):
                    diff.add(target.slice.id)
    return Template(
        name=func.__name__, node=node, signature=sig.replace(parameters=rest),
        output=output, diff_params=frozenset(diff),
    )


def is_d(node) -> bool:
    """Whether ``node`` is a ``d[name]`` expression of a template."""
    return (
        isinstance(node, gast.Subscript)
        and isinstance(node.value, gast.Name) and node.value.id == "d"
        and isinstance(node.slice, gast.Name)
    )


def lookup(primitive):
    """The reverse template of ``primitive``, ``ZERO`` marker, or ``None``."""
    try:
        if primitive in ZERO:
            return ZERO
        return REVERSE.get(primitive)
    except TypeError:  # unhashable object
        return None
