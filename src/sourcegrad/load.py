"""Stage 8, load: write generated text to a file and import it.

Invariant established: the generated function is defined by a real ``.py``
file, named by the hash of its text, in the cache directory
(``SOURCEGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/sourcegrad``, else
``~/.cache/sourcegrad``), so tracebacks, ``inspect.getsource`` and ``pdb``
show the generated lines.  Writes are atomic (a temporary file, then a
rename).  Where the directory cannot be written, the module lives in memory
and one warning says so.
"""

from __future__ import annotations

import hashlib
import importlib.util
import linecache
import os
import sys
import tempfile
import types
import warnings
from pathlib import Path

_warned = []


def cache_dir() -> Path:
    """The directory generated modules are written to."""
    explicit = os.environ.get("SOURCEGRAD_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sourcegrad"


def load(text: str, stem: str, free: dict) -> types.ModuleType:
    """Import the module whose source is ``text``; bind the ``free`` names in it."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    name = f"{stem}_{digest}"
    path = _write(cache_dir(), name + ".py", text)
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


def _write(directory: Path, filename: str, text: str):
    """Write ``text`` to ``directory/filename`` unless it holds it already."""
    path = directory / filename
    try:
        if path.is_file() and path.read_text() == text:
            return path
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        return path
    except OSError as exc:
        if not _warned:
            _warned.append(True)
            warnings.warn(
                f"sourcegrad cannot write to its cache directory {directory} ({exc}); "
                "generated code is kept in memory",
                RuntimeWarning, stacklevel=3,
            )
        return None
