"""``sourcegrad build PATH...``: derivatives generated ahead of time.

Every ``@differentiate`` function defined in the given files (or in the
``.py`` files under the given directories) gets the derivative modules of
the modes it declares, written beside its source in ``__sourcegrad__/``.
At run time an up-to-date built module is imported as it is: the process
compiles nothing and writes nothing (see ``load``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from .cache import BUILT


class BuildError(Exception):
    """A path that cannot be built: printed as one line."""


def python_files(paths) -> list:
    """The ``.py`` files named by ``paths`` (directories are walked)."""
    found = []
    for spec in paths:
        path = Path(spec)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.py")
                            if not any(part.startswith((".", BUILT)) or part == "__pycache__"
                                       for part in p.relative_to(path).parts[:-1]))
        elif path.is_file() and path.suffix == ".py":
            found.append(path)
        else:
            raise BuildError(f"no such Python file or directory: {spec}")
    return found


def import_file(path: Path):
    """Import the module at ``path`` under its dotted name: the package
    directories above it (those with ``__init__.py``) are part of the name,
    and the directory above them goes on ``sys.path``."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    root = path.parent
    while (root / "__init__.py").is_file():
        parts.insert(0, root.name)
        root = root.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    name = ".".join(parts)
    try:
        return importlib.import_module(name)
    except SyntaxError as exc:
        raise BuildError(f"syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        raise BuildError(f"cannot import {path}: {type(exc).__name__}: {exc}") from None


def differentiable(module) -> list:
    """The ``@differentiate`` functions ``module`` defines, in source order."""
    from .api import Differentiable

    found = [value for value in vars(module).values() if isinstance(value, Differentiable)
             and value.__wrapped__.__module__ == module.__name__]
    return sorted(found, key=lambda d: d.__wrapped__.__code__.co_firstlineno)


def build(paths) -> list:
    """Write the derivative modules of every ``@differentiate`` function in
    ``paths``; the files written."""
    from .api import variant
    from .load import write_built

    written = []
    for path in python_files(paths):
        for target in differentiable(import_file(path)):
            func = target.__wrapped__
            for options in target.variants():
                stem, compile = variant(func, options)
                written.append(write_built(func, options, stem, compile()))
    return written
