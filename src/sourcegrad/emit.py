"""Stage 7, emit: a ``gast`` tree to Python source text.

Invariant established: the text is what ``ast.unparse`` prints for the tree,
with comment markers (``comment("...")`` statements) turned into ``#``
comment lines and a module header naming the source function and its hash.

>>> import gast
>>> tree = gast.parse("def f(x):\\n    y = x\\n    return y")
>>> tree.body[0].body.insert(0, comment("primal"))
>>> print(to_source(tree.body[0]))
def f(x):
    # primal
    y = x
    return y
"""

from __future__ import annotations

import ast
import re

import gast

_MARK = "__sourcegrad_comment__"
_LINE = re.compile(r"^(\s*)__sourcegrad_comment__\((.*)\)$")


def comment(text: str) -> gast.Expr:
    """A statement that emits as the comment line ``# text``."""
    call = gast.Call(func=gast.Name(id=_MARK, ctx=gast.Load(), annotation=None,
                                    type_comment=None),
                     args=[gast.Constant(value=text, kind=None)], keywords=[])
    return gast.Expr(value=call)


def is_comment(stmt) -> bool:
    return (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Name) and stmt.value.func.id == _MARK)


def comment_text(stmt) -> str:
    """The text of a comment marker statement."""
    return stmt.value.args[0].value


def to_source(tree) -> str:
    """Python source for a ``gast`` tree (a module, function or statement)."""
    node = gast.gast_to_ast(tree)
    ast.fix_missing_locations(node)
    lines = []
    for line in ast.unparse(node).splitlines():
        match = _LINE.match(line)
        if match:
            indent, text = match.groups()
            lines.append(f"{indent}# {ast.literal_eval(text)}")
        else:
            lines.append(line)
    return "\n".join(lines)


def emit(module: gast.Module, header: str) -> str:
    """The text of a generated module: a header comment block, then the code."""
    head = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return head + "\n" + to_source(module) + "\n"
