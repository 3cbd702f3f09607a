"""The derivative-rule registry: template functions keyed by the primitive.

A reverse rule is a template function whose first parameter is the output of
the primitive and whose other parameters mirror the primitive's own
signature.  In its body ``d[x]`` names the adjoint of ``x``; ``d[x] = e``
adds the contribution ``e`` to it.  Templates are parsed once; the reverse
pass replaces their names with the caller's variables and inlines them.

A forward rule is the same kind of template: ``d[x]`` names the tangent of
``x``, and each statement ``d[y] = e`` adds to the output's tangent a term
``e`` that reads the tangent of at most one input.  A term reading the
tangent of an inactive input is zero, and is dropped.  Both rules of a
primitive sit side by side in their family's module.

An ``if`` in a template is a compile-time specialisation: its test may only
read parameters (and ``ndim(x)``, a parameter's rank where the shapes
analysis knows it), and it is decided when every parameter it reads is bound
to a constant.  When it cannot be decided the ``else`` branch is taken, so the
``else`` branch must be correct in every case.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from dataclasses import dataclass

import gast
from ..trees import clone


class _Derivative:
    """The ``d`` of templates: ``d[x]`` is only meaningful to the compiler."""

    def __getitem__(self, name):  # pragma: no cover - never executed
        raise RuntimeError("d[...] only has a meaning inside a rule template")

    def __setitem__(self, name, value):  # pragma: no cover - never executed
        raise RuntimeError("d[...] only has a meaning inside a rule template")


d = _Derivative()


def ndim(x):  # pragma: no cover - never executed
    """In a template's static ``if``: the rank of the parameter ``x`` that the
    shapes analysis knows where the rule is inlined (unknown: the test is not
    decided, and the ``else`` branch is taken)."""
    raise RuntimeError("ndim(...) only has a meaning inside a rule template's test")


@dataclass(frozen=True)
class Template:
    """A parsed rule template."""

    name: str
    node: gast.FunctionDef
    signature: inspect.Signature  # the primitive's side: without the output
    output: str
    diff_params: frozenset  # the inputs whose derivatives the rule reads or sets

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
#: primitive object -> forward Template
FORWARD: dict = {}
#: primitives whose derivative is zero everywhere it exists
ZERO: set = set()


def _key(primitive):
    return primitive


def reverse(*primitives):
    """Register the decorated template as the reverse rule of ``primitives``."""

    def register(func):
        template = parse_template(func)
        for primitive in primitives:
            REVERSE[_key(primitive)] = _for(primitive, template)
        return func

    return register


def forward(*primitives):
    """Register the decorated template as the forward rule of ``primitives``."""

    def register(func):
        template = parse_template(func)
        for primitive in primitives:
            FORWARD[_key(primitive)] = _for(primitive, template)
        return func

    return register


#: NumPy functions and their ``math`` twins, for the rules of ``math`` functions
MATH_TWINS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "exp": "exp",
    "expm1": "expm1", "log": "log", "log1p": "log1p", "sqrt": "sqrt", "cbrt": "cbrt",
}


def _for(primitive, template: Template) -> Template:
    """``template`` as the rule of ``primitive``: for a ``math`` function, whose
    argument is a number, the NumPy calls on numbers in it call ``math``
    (``math.cos(x)`` costs a twentieth of ``np.cos(x)`` on a float)."""
    if getattr(primitive, "__module__", None) != "math":
        return template
    node = clone(template.node)
    for sub in gast.walk(node):
        if (isinstance(sub, gast.Call) and isinstance(sub.func, gast.Attribute)
                and isinstance(sub.func.value, gast.Name) and sub.func.value.id == "np"
                and sub.func.attr in MATH_TWINS and not any(is_d(n) for n in gast.walk(sub))):
            sub.func = gast.Attribute(value=gast.Name(id="math", ctx=gast.Load(), annotation=None,
                                                      type_comment=None),
                                      attr=MATH_TWINS[sub.func.attr], ctx=gast.Load())
    return dataclasses.replace(template, node=node)


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
    diff = {sub.slice.id for sub in gast.walk(node) if is_d(sub)} - {output}
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


def lookup(primitive, mode="reverse"):
    """The ``mode`` template of ``primitive``, the ``ZERO`` marker, or ``None``."""
    try:
        if primitive in ZERO:
            return ZERO
        return (REVERSE if mode == "reverse" else FORWARD).get(primitive)
    except TypeError:  # unhashable object
        return None
