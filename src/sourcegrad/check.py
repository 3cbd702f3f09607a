"""Stage 2, check: reject what sourcegrad cannot differentiate, up front.

Invariant established: the function body holds only constructs that the later
stages handle; anything else has raised an ``UnsupportedSyntaxError`` that
names the file, the line and the construct, with a caret.  No later stage
meets a construct it does not know.

>>> import gast
>>> from sourcegrad.errors import Where
>>> tree = gast.parse("def f(x):\\n    with open(x) as h:\\n        x = x * 2\\n    return x")
>>> check(tree.body[0], Where("model.py", "f", 0, ["def f(x):", "    with open(x) as h:"]))
Traceback (most recent call last):
...
sourcegrad.errors.UnsupportedSyntaxError: model.py, line 2, in f: a 'with' statement is not supported yet
    with open(x) as h:
    ^^^^^^^^^^^^^^^^^^
"""

from __future__ import annotations

import gast

from .errors import UnsupportedSyntaxError, Where
from .names import GENERATED

#: Constructs rejected wherever they appear, with the words that name them.
UNSUPPORTED = {
    gast.AsyncFor: "an 'async for' loop",
    gast.Try: "a 'try' statement",
    gast.With: "a 'with' statement",
    gast.AsyncWith: "an 'async with' statement",
    gast.Yield: "'yield' (generators)",
    gast.YieldFrom: "'yield from' (generators)",
    gast.Await: "'await'",
    gast.ClassDef: "a class definition",
    gast.Global: "a 'global' statement",
    gast.Nonlocal: "a 'nonlocal' statement",
    gast.AsyncFunctionDef: "a nested function definition",
    gast.SetComp: "a set comprehension",
    gast.DictComp: "a dict comprehension",
    gast.Dict: "a dict literal",
    gast.Set: "a set literal",
    gast.NamedExpr: "an assignment expression (':=')",
    gast.Starred: "star-unpacking ('*args')",
    gast.Delete: "a 'del' statement",
    gast.Import: "an import inside the function",
    gast.ImportFrom: "an import inside the function",
    gast.Raise: "a 'raise' statement",
    gast.Match: "a 'match' statement",
}


def check(node: gast.FunctionDef, where: Where) -> gast.FunctionDef:
    """Return ``node`` unchanged, or raise at the first unsupported construct."""
    _check_arguments(node, where)
    for stmt in node.body:
        for child in gast.walk(stmt):
            message = UNSUPPORTED.get(type(child))
            if message is not None:
                raise where.error(UnsupportedSyntaxError, child, f"{message} is not supported yet")
            _check_node(child, where)
    _check_returns(node, where)
    return node


def _check_arguments(node: gast.FunctionDef, where: Where) -> None:
    args = node.args
    if args.vararg is not None or args.kwarg is not None:
        extra = args.vararg or args.kwarg
        raise where.error(
            UnsupportedSyntaxError, extra or node,
            "functions with *args or **kwargs are not supported; name each argument",
        )
    for param in args.posonlyargs + args.args + args.kwonlyargs:
        if param.id in GENERATED:
            raise where.error(
                UnsupportedSyntaxError, param,
                f"a parameter named '{param.id}' would hide the '{param.id}' that generated "
                "code uses; rename the parameter",
            )


def _check_node(child, where: Where) -> None:
    if isinstance(child, gast.keyword) and child.arg is None:
        raise where.error(
            UnsupportedSyntaxError, child,
            "'**' unpacking in a call is not supported; pass each keyword argument by name",
        )
    if isinstance(child, gast.Compare) and len(child.ops) > 1:
        raise where.error(
            UnsupportedSyntaxError, child,
            "a chained comparison is not supported; compare twice and combine the "
            "results with &, as in (a < b) & (b < c)",
        )
    if isinstance(child, (gast.For, gast.While)) and child.orelse:
        raise where.error(
            UnsupportedSyntaxError, child.orelse[0],
            "the 'else' clause of a loop is not supported; use a flag set before 'break'",
        )
    if isinstance(child, gast.For) and not all(
            isinstance(n, (gast.Name, gast.Tuple, gast.List, gast.Store))
            for n in gast.walk(child.target)):
        raise where.error(UnsupportedSyntaxError, child.target,
                          "a loop target must be a name or a tuple of names")
    if isinstance(child, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
        targets = child.targets if isinstance(child, gast.Assign) else [child.target]
        for target in targets:
            if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
                if isinstance(target.slice, gast.Constant) and isinstance(target.slice.value, str):
                    raise where.error(
                        UnsupportedSyntaxError, target,
                        "changing a dict in place is not supported; build a new dict",
                    )
                continue
            for sub in gast.walk(target):
                if isinstance(sub, gast.Subscript):
                    raise where.error(
                        UnsupportedSyntaxError, sub,
                        "this write is not supported: write into a named array with one "
                        "index, as in 'y[i, j] = v'",
                    )
                if isinstance(sub, gast.Attribute):
                    raise where.error(
                        UnsupportedSyntaxError, sub, "assigning to an attribute is not supported"
                    )


def _check_returns(node: gast.FunctionDef, where: Where) -> None:
    returns = [n for n in gast.walk(node) if isinstance(n, gast.Return)]
    for ret in returns:
        if ret.value is None:
            raise where.error(UnsupportedSyntaxError, ret, "the function returns nothing")
    if not returns:
        raise where.error(UnsupportedSyntaxError, node, "the function has no 'return' statement")
    if not _always_returns(node.body):
        last = node.body[-1]
        raise where.error(
            UnsupportedSyntaxError, last,
            "the function can end without a 'return' here; return a value on every path",
        )


def _always_returns(body) -> bool:
    last = body[-1] if body else None
    if isinstance(last, gast.Return):
        return True
    if isinstance(last, gast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    if (isinstance(last, gast.While) and isinstance(last.test, gast.Constant)
            and last.test.value is True):  # 'while True' left only by a return
        return not any(isinstance(n, gast.Break) for n in _own_nodes(last.body))
    return False


def _own_nodes(body):
    """The nodes of ``body`` outside nested loops and functions."""
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        for child in gast.iter_child_nodes(node):
            if not isinstance(child, (gast.For, gast.While, gast.FunctionDef, gast.Lambda)):
                todo.append(child)
