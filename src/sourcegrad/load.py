"""Stage 8, load: find or write the generated module's file, and import it.

Invariant established: the generated functions are defined by a real ``.py``
file, imported with ``importlib``, so tracebacks, ``inspect.getsource``,
``pdb`` and coverage see the generated lines; their free names are bound to
what the source's namespace holds now.  The file is looked for, in order:

1. a module written by ``sourcegrad build`` beside the source
   (``__sourcegrad__/<file>.<kind>_<function>_<options>.py``), used as it is
   when its key matches; a stale one is ignored with a warning;
2. the cache directory (``SOURCEGRAD_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/sourcegrad``, else ``~/.cache/sourcegrad``), under a
   content-addressed name ``<kind>_<function>_<key>.py``;
3. neither holds a valid module: the compiler runs and the cache file is
   written atomically (a temporary file, then a rename).

A hit compiles nothing and writes nothing.  A truncated or corrupted file
fails its manifest's checksum and is regenerated.  Where the directory
cannot be written, or other users can write to it, the module lives in
memory and one warning says so.

>>> import numpy as np
>>> def f(x):
...     return np.sum(x * x)
>>> from sourcegrad.pipeline import compile_reverse
>>> loaded = load(f, ("reverse", 0, False), "grad_f", lambda: compile_reverse(f))
>>> loaded.module.grad_f(np.ones(2))[1]
array([2., 2.])
"""

from __future__ import annotations

import hashlib
import importlib.util
import linecache
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from . import cache


@dataclass
class Loaded:
    """An imported generated module and how it is bound."""

    module: types.ModuleType
    text: str  # the module's code (its file, less the manifest line)
    manifest: dict
    restored: cache.Restored
    compiled: object = None  # the compiler's record, when this process compiled it
    path: Path | None = None


def load(func, options: tuple, stem: str, compile) -> Loaded:
    """The module ``stem`` of the derivative of ``func`` with ``options``,
    from a built module, the cache, or ``compile()``."""
    key = cache.key(func, options)
    if key is not None:
        found = _built(func, options, stem, key) or _cached(func, stem, key)
        if found is not None:
            return found
    return _store(func, compile(), stem, key)


def is_built(func, options: tuple, stem: str) -> bool:
    """Whether ``sourcegrad build`` wrote the module ``stem`` of ``func``."""
    path = cache.built_path(func, built_name(func, options, stem))
    return path is not None and path.is_file()


def built_name(func, options: tuple, stem: str) -> str:
    """The file stem ``sourcegrad build`` gives the module ``stem`` of ``func``."""
    digest = hashlib.sha256(repr((func.__qualname__, options)).encode()).hexdigest()[:12]
    return f"{stem}_{digest}"


def _built(func, options, stem, key) -> Loaded | None:
    path = cache.built_path(func, built_name(func, options, stem))
    if path is None or not path.is_file():
        return None
    found = _from_file(func, path, key)
    if found is None:
        cache.warn_once(path, f"sourcegrad: ignoring the built module {path}: it is stale "
                              "(its sources changed since `sourcegrad build`); run the build "
                              "again")
    return found


def _cached(func, stem, key) -> Loaded | None:
    directory = cache.cache_dir()
    path = directory / f"{stem}_{key[:20]}.py"
    if not path.is_file() or not cache.usable(directory):
        return None
    return _from_file(func, path, key)


def _from_file(func, path: Path, key: str) -> Loaded | None:
    read = cache.read(path)
    if read is None or read[1].get("key") != key:
        return None
    text, found = read
    restored = cache.restore(func, found)
    if restored is None:
        return None
    return Loaded(_import(text, path.stem, path, restored.free), text, found, restored, path=path)


def _store(func, compiled, stem: str, key: str | None) -> Loaded:
    found = dict(compiled.manifest, key=key)
    path = None
    directory = cache.cache_dir()
    if key is not None and cache.usable(directory):
        content = cache.file_content(compiled.text, found)
        path = cache.write(directory / f"{stem}_{key[:20]}.py", content)
    restored = cache.restore(func, found) or _unrestorable(compiled)
    name = path.stem if path else f"{stem}_{hashlib.sha256(compiled.text.encode()).hexdigest()[:20]}"
    module = _import(compiled.text, name, path, restored.free)
    return Loaded(module, compiled.text, found, restored, compiled, path)


def _unrestorable(compiled) -> cache.Restored:
    """Bindings for a module that a later process cannot rebind (it compiles
    again): the values the compiler saw, watched in the source's namespace."""
    namespace = compiled.source.namespace
    watches = [(namespace, name, value, (name,) if name in compiled.free else ())
               for name, value in namespace.seen.items()]
    return cache.Restored(dict(compiled.free), dict(compiled.defaults), watches)


def _import(text: str, name: str, path: Path | None, free: dict) -> types.ModuleType:
    modname = f"sourcegrad_generated.{name}"
    if path is None:
        module = types.ModuleType(modname)
        filename = f"<sourcegrad {name}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        module.__dict__.update(free)
        exec(compile(text, filename, "exec"), module.__dict__)
        return module
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(free)
    spec.loader.exec_module(module)
    sys.modules[modname] = module
    return module


def write_built(func, options: tuple, stem: str, compiled) -> Path:
    """Write the module ``stem`` of ``func`` beside its source (``sourcegrad
    build``); the path written."""
    key = cache.key(func, options)
    path = cache.built_path(func, built_name(func, options, stem))
    content = cache.file_content(compiled.text, dict(compiled.manifest, key=key))
    if cache.write(path, content, quiet=False) is None:
        raise OSError(f"cannot write {path}")
    return path

