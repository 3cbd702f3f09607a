"""The cache of generated modules: keys, manifests, and checks at load.

A generated module is a ``.py`` file named by a key that covers everything
that changes its text: the function's source (and where it is), the options
(mode, ``wrt``, split), and the compiler itself (a hash of sourcegrad's own
files, rules included).  The file ends with a *manifest*: one comment line of
JSON that says how to rebind the module in a new process without compiling:

- the sha256 of the text above it (a truncated or corrupted file fails it);
- the user's functions the module was generated from, each found by a *path*
  of names from the differentiated function (``["helper"]`` is the global
  ``helper`` of its module), with the sha256 of their source;
- every name the compiler resolved in those functions' namespaces, with what
  it was (a module, a NumPy function, a user function, data), so that a
  rebinding that would change the code is detected;
- where each free name of the module and each default comes from.

``restore`` checks a manifest against the running functions and returns
what loading needs; ``None`` means "compile again".

>>> import numpy as np
>>> def f(x):
...     return np.tanh(x)
>>> describe(np.tanh, set())
['callable', 'numpy:tanh']
>>> len(key(f, ("reverse", 0, False)))
64
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import linecache
import os
import stat
import tempfile
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .parse import Namespace

MARK = "# sourcegrad-manifest: "
BUILT = "__sourcegrad__"
_warned = set()


def cache_dir() -> Path:
    """The directory generated modules are written to."""
    explicit = os.environ.get("SOURCEGRAD_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sourcegrad"


@functools.cache
def compiler_hash() -> str:
    """A hash of sourcegrad's own files: any change to the compiler or its
    rules gives new keys."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def source_text(func) -> str | None:
    """The source of ``func``'s code as ``parse`` reads it, after its first
    line's number (``None`` if unreadable)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    linecache.checkcache(code.co_filename)  # as inspect does: see edits (not its slow search)
    lines = linecache.getlines(code.co_filename)
    first = code.co_firstlineno
    if not lines or first > len(lines):
        return None
    try:
        block = inspect.getblock(lines[first - 1:])
    except (SyntaxError, IndentationError):  # tokenize's errors on a mangled file
        return None
    return f"{first}\n" + "".join(block)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def key(func, options: tuple) -> str | None:
    """The cache key of the derivative of ``func`` with ``options``."""
    text = source_text(func)
    if text is None:
        return None
    code = func.__code__  # the file's name, not its directory: built modules move
    parts = [compiler_hash(), repr(options), os.path.basename(code.co_filename),
             code.co_qualname, text]
    return _sha("\0".join(parts))


def _unwrap(value):
    wrapped = getattr(value, "__wrapped__", None)
    return wrapped if type(value).__name__ == "Differentiable" and wrapped else value


def describe(value, user: set) -> list | None:
    """What a resolved name meant, as far as generated code depends on it
    (``None``: nothing a later process could check)."""
    value = _unwrap(value)
    if id(value) in user:
        return ["function"]
    if type(value).__name__ == "LocalFunction":
        return ["local"]
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if callable(value):
        module = getattr(value, "__module__", None)
        name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        return ["callable", f"{module}:{name}"] if module and name else None
    return ["data"]


@dataclass
class Origins:
    """Where the free names and defaults of a generated module come from."""

    free: dict = field(default_factory=dict)  # module name -> (function, kind, name)
    defaults: dict = field(default_factory=dict)  # generated function -> (function, seed)


def manifest(main, parsed_list, origins: Origins, info: dict) -> dict:
    """The manifest of a module generated from ``main`` and the parsed user
    functions ``parsed_list``; ``info`` holds the loading facts (names of the
    generated functions, wrt, tangents)."""
    paths, spaces, local, complete = _paths(main, parsed_list)
    user = {id(f) for f in paths}
    out = dict(info, warm=complete, functions=[], names=[], free={}, defaults={})
    for func, path in paths.items():
        out["functions"].append([path, _sha(source_text(func) or "")])
        for name, value in sorted(spaces[id(func)].seen.items()):
            what = describe(value, user)
            out["warm"] &= what is not None
            out["names"].append([path, name, what])
    for name, (func, kind, source_name) in sorted(origins.free.items()):
        path = paths.get(func, local.get(id(func)) if kind == "name" else None)
        out["warm"] &= path is not None
        out["free"][name] = [path, kind, source_name]
    for name, (func, seed) in sorted(origins.defaults.items()):  # func None: no defaults
        out["warm"] &= func is None or func in paths
        out["defaults"][name] = [paths.get(func), seed]
    return out


def _paths(main, parsed_list):
    """Each user function of ``parsed_list`` reachable from ``main`` by names,
    with its path; the namespace each was parsed with (by ``id``); the path of
    the function each local function (a nested ``def``) is part of; and
    whether every function was reached."""
    spaces, funcs = {}, {}
    for p in parsed_list:  # one function may be parsed once per activity pattern
        if type(p.func).__name__ != "LocalFunction":
            space = spaces.setdefault(id(p.func), Namespace(p.namespace.globals))
            space.seen.update(p.namespace.seen)
            space.extra.update(p.namespace.extra)
            funcs[id(p.func)] = p.func
    paths, queue = {main: []}, [main]
    while queue:
        func = queue.pop(0)
        for name, value in sorted(spaces[id(func)].seen.items()):
            value = funcs.get(id(_unwrap(value)))
            if value is not None and value not in paths:
                paths[value] = paths[func] + [name]
                queue.append(value)
    local = {id(value): paths[func] for func in paths
             for value in spaces[id(func)].extra.values()}
    return paths, spaces, local, len(paths) == len(funcs)


def _namespace(func) -> Namespace:
    return Namespace(func.__globals__, dict(zip(func.__code__.co_freevars,
                                                func.__closure__ or ())))


@dataclass
class Restored:
    """What loading a module needs, found in the running process."""

    free: dict  # module name -> value
    defaults: dict  # generated function -> (__defaults__, __kwdefaults__)
    watches: list  # (namespace, name, value now, module names bound to it)


def restore(func, found: dict) -> Restored | None:
    """The bindings of a module whose manifest is ``found``, for ``func`` as it
    is now; ``None`` if anything the code depends on has changed."""
    if not found.get("warm"):
        return None
    funcs = {(): func}
    for path, digest in sorted(found["functions"], key=lambda item: len(item[0])):
        try:
            target = funcs[tuple(path)] if not path else _unwrap(
                _namespace(funcs[tuple(path[:-1])]).current(path[-1]))
        except KeyError:
            return None
        if not isinstance(target, types.FunctionType) or _sha(source_text(target) or "") != digest:
            return None
        funcs[tuple(path)] = target
    user = {id(f) for f in funcs.values()}
    spaces = {path: _namespace(f) for path, f in funcs.items()}
    seen = {}
    for path, name, what in found["names"]:
        space = spaces[tuple(path)]
        try:
            value = space.current(name) if what != ["local"] else None
        except KeyError:
            return None
        if what != ["local"] and describe(value, user) != what:
            return None
        if what != ["local"]:
            seen[(tuple(path), name)] = value
    return _bindings(found, funcs, spaces, seen)


def _bindings(found, funcs, spaces, seen) -> Restored:
    free, bound = {}, {}
    for name, (path, kind, source_name) in found["free"].items():
        if kind == "default":
            free[name] = _default_of(funcs[tuple(path)], source_name)
        else:
            free[name] = seen[(tuple(path), source_name)]
            bound.setdefault((tuple(path), source_name), []).append(name)
    defaults = {}
    for name, (path, seed) in found["defaults"].items():
        target = funcs[tuple(path)] if path is not None else None
        defaults[name] = (getattr(target, "__defaults__", None) or ()) + ((1.0,) if seed else ()), \
            getattr(target, "__kwdefaults__", None)
    watches = [(spaces[path], name, value, tuple(bound.get((path, name), ())))
               for (path, name), value in seen.items()]
    return Restored(free, defaults, watches)


def _default_of(func, param: str):
    signature = inspect.signature(func)
    return signature.parameters[param].default


def read(path: Path) -> tuple | None:
    """The text and manifest of the module file at ``path``; ``None`` if it is
    missing, truncated or corrupted."""
    try:
        content = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    text, mark, tail = content.rpartition("\n" + MARK)
    if not mark:
        return None
    try:
        found = json.loads(tail)
    except ValueError:
        return None
    if not isinstance(found, dict) or found.get("sha") != _sha(text + "\n"):
        return None
    return text + "\n", found


def file_content(text: str, found: dict) -> str:
    """What is written: the module's text, then its manifest line."""
    found = dict(found, sha=_sha(text))
    return text + MARK + json.dumps(found, sort_keys=True) + "\n"


def usable(directory: Path) -> bool:
    """Whether modules may be imported from ``directory``: it is not writable
    by other users (we import code from it).  Warns once when it is."""
    try:
        mode = directory.stat().st_mode
    except OSError:
        return True  # not there yet: it is created private
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        warn_once(directory, f"sourcegrad does not use the cache directory {directory}: "
                              "other users can write to it, and it imports code from it. "
                              "Generated code is kept in memory")
        return False
    return True


def write(path: Path, content: str, quiet: bool = True) -> Path | None:
    """Write ``content`` to ``path`` atomically (a temporary file, then a
    rename); ``None`` with one warning if the directory cannot be written
    (with ``quiet=False``, the error is raised)."""
    directory = path.parent
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        return path
    except OSError as exc:
        if not quiet:
            raise
        warn_once(directory, f"sourcegrad cannot write to its cache directory {directory} "
                              f"({exc}); generated code is kept in memory")
        return None


def warn_once(directory: Path, message: str) -> None:
    """Warn with ``message``, once per process for ``directory``."""
    if str(directory) not in _warned:
        _warned.add(str(directory))
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def built_path(func, stem: str) -> Path | None:
    """Where ``sourcegrad build`` writes the module ``stem`` of ``func``:
    ``__sourcegrad__/`` beside the source file."""
    filename = getattr(getattr(func, "__code__", None), "co_filename", "")
    if not filename or filename.startswith("<"):
        return None
    source = Path(filename)
    return source.parent / BUILT / f"{source.stem}.{stem}.py"
