"""The command line: ``sourcegrad build``, ``sourcegrad show``, ``sourcegrad cache``.

``python -m sourcegrad`` is the same program.  Errors are one line on
standard error and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

from .errors import SourceGradError


class CommandError(Exception):
    """A user error on the command line: printed as one line."""


def _load_module(spec: str):
    path = Path(spec)
    if spec.endswith(".py") or path.is_file():
        if not path.is_file():
            raise CommandError(f"no such file: {spec}")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        module_spec.loader.exec_module(module)
        return module
    sys.path.insert(0, ".")
    return importlib.import_module(spec)


def _target(spec: str):
    if ":" not in spec:
        raise CommandError(f"expected MODULE:FUNCTION, got {spec!r}")
    module_name, _, attr = spec.rpartition(":")
    try:
        module = _load_module(module_name)
    except ModuleNotFoundError as exc:
        raise CommandError(f"no module named {exc.name!r}") from None
    except SyntaxError as exc:
        raise CommandError(f"syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise CommandError(f"module {module_name!r} has no function {attr!r}")
        obj = getattr(obj, part)
    return obj


def _wrt(text: str | None):
    if text is None:
        return None
    items = [int(w) if w.lstrip("-").isdigit() else w for w in text.split(",") if w]
    return items[0] if len(items) == 1 else tuple(items)


def cmd_show(args) -> int:
    from .api import Differentiable, source

    func = _target(args.target)
    wrt = _wrt(args.wrt)
    if wrt is None:
        wrt = func.wrt if isinstance(func, Differentiable) else 0
    sys.stdout.write(source(func, mode=args.mode, wrt=wrt))
    return 0


def cmd_build(args) -> int:
    from .build import BuildError, build

    try:
        written = build(args.paths)
    except BuildError as exc:
        raise CommandError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("no @differentiate functions found")
    return 0


def cmd_cache(args) -> int:
    from .cache import cache_dir

    directory = cache_dir()
    files = sorted(directory.glob("*.py")) if directory.is_dir() else []
    if args.action == "info":
        size = sum(f.stat().st_size for f in files)
        print(f"directory: {directory}")
        print(f"modules: {len(files)}")
        print(f"size: {size} bytes")
    else:
        for path in files + sorted(directory.glob(".tmp-*")) if directory.is_dir() else []:
            path.unlink(missing_ok=True)
        print(f"removed {len(files)} modules from {directory}")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="sourcegrad", description="Source-to-source automatic differentiation for NumPy.")
    sub = main.add_subparsers(dest="command", required=True)
    build = sub.add_parser(
        "build", help="generate the derivatives of @differentiate functions ahead of time",
        description="Write the derivative modules of every @differentiate function in the "
                    "given files or packages beside their sources (in __sourcegrad__/), "
                    "so that running them compiles nothing.")
    build.add_argument("paths", metavar="PATH", nargs="+", help="a .py file or a directory")
    build.set_defaults(run=cmd_build)
    show = sub.add_parser("show", help="print the generated derivative code of a function",
                          description="Print the generated derivative code of a function.")
    show.add_argument("target", metavar="MODULE:FUNCTION",
                      help="a module name or .py file, a colon, and the function's name")
    show.add_argument("--mode", choices=("forward", "reverse"), default="reverse")
    show.add_argument("--wrt", help="comma-separated parameter names or positions (default 0)")
    show.set_defaults(run=cmd_show)
    cache = sub.add_parser("cache", help="inspect or clear the cache of generated modules",
                           description="Inspect or clear the cache of generated modules.")
    cache.add_argument("action", choices=("info", "clear"))
    cache.set_defaults(run=cmd_cache)
    return main


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (CommandError, SourceGradError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"sourcegrad: error: {first}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
