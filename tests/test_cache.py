"""The on-disk cache, warm starts and ``sourcegrad build``: each in fresh
processes, as a user meets them."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

MODEL = """
import numpy as np
import sourcegrad as sg

SCALE = 2.0

def helper(h):
    return np.tanh(h) * SCALE

@sg.differentiate(modes=("reverse", "forward"))
def loss(W, x):
    return np.sum(helper(W @ x) ** 2)
"""

#: A child process: differentiate ``model.loss``, report the gradient and
#: whether the compiler was imported (a warm start never imports it).
CHILD = """
import json, sys, warnings
import numpy as np
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import model
    W, x = np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.3, -0.2, 0.5])
    g = model.loss.grad(W, x)
    _, t = model.loss.jvp((W, x), (np.ones_like(W), None))
print(json.dumps({"grad": g.tolist(), "jvp": float(t),
                  "compiled": "sourcegrad.pipeline" in sys.modules,
                  "warnings": [str(w.message) for w in caught]}))
"""


def expected(W, x, scale=2.0):
    h = np.tanh(W @ x)
    return np.outer(2.0 * scale * scale * h * (1.0 - h * h), x)


W0, X0 = np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.3, -0.2, 0.5])


@pytest.fixture
def project(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "child.py").write_text(CHILD)
    return tmp_path


def run(project, cache, script="child.py"):
    env = dict(os.environ, SOURCEGRAD_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, script], cwd=project, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def snapshot(directory: Path) -> dict:
    """Every file under ``directory`` with its modification time and content."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_second_process_compiles_and_writes_nothing(project, tmp_path):
    cache = tmp_path / "cache"
    first = run(project, cache)
    assert first["compiled"] and np.allclose(first["grad"], expected(W0, X0))
    files = snapshot(cache)
    assert len(files) == 2  # the gradient and the tangent module
    second = run(project, cache)
    assert not second["compiled"]
    assert second["grad"] == first["grad"] and second["jvp"] == first["jvp"]
    assert snapshot(cache) == files  # nothing rewritten, no temporary file left
    assert not second["warnings"]


def test_editing_a_helper_invalidates(project, tmp_path):
    cache = tmp_path / "cache"
    run(project, cache)
    model = project / "model.py"
    model.write_text(MODEL.replace("np.tanh(h) * SCALE", "np.tanh(h) * SCALE * 1.5"))
    after = run(project, cache)
    assert after["compiled"]
    assert np.allclose(after["grad"], expected(W0, X0, scale=3.0))


def test_rebinding_a_global_that_a_helper_reads(project, tmp_path, monkeypatch):
    """Module globals are not frozen when the code is generated (nor when it is
    loaded from the cache), even when only a called helper reads them."""
    script = CHILD.replace("    g = model.loss.grad(W, x)",
                           "    model.loss.grad(W, x)\n    model.SCALE = 3.0\n"
                           "    g = model.loss.grad(W, x)")
    (project / "rebind.py").write_text(script)
    cache = tmp_path / "cache"
    for _ in range(2):  # cold, then warm
        assert np.allclose(run(project, cache, "rebind.py")["grad"], expected(W0, X0, 3.0))


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_corrupted_file_is_regenerated(project, tmp_path, damage):
    cache = tmp_path / "cache"
    run(project, cache)
    (path,) = [p for p in cache.glob("grad_*.py")]
    text = path.read_text()
    path.write_text({"truncate": text[: len(text) // 2],
                     "flip": text.replace("1.0 -", "2.0 -"),
                     "garbage": "raise SystemExit('imported a broken file')\n"}[damage])
    again = run(project, cache)
    assert again["compiled"] and np.allclose(again["grad"], expected(W0, X0))
    assert path.read_text() == text


def test_an_unwritable_directory_falls_back_to_memory(project, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run(project, blocker / "cache")
    assert np.allclose(result["grad"], expected(W0, X0))
    assert len(result["warnings"]) == 1 and "cannot write" in result["warnings"][0]


def test_a_directory_others_can_write_is_refused(project, tmp_path):
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    result = run(project, cache)
    assert np.allclose(result["grad"], expected(W0, X0))
    assert len(result["warnings"]) == 1 and "other users can write" in result["warnings"][0]
    assert list(cache.iterdir()) == []


def cli(*args, cwd, cache):
    env = dict(os.environ, SOURCEGRAD_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "sourcegrad", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_build_then_run_with_an_empty_cache(project, tmp_path):
    cache = tmp_path / "cache"
    built = cli("build", "model.py", cwd=project, cache=cache)
    assert built.returncode == 0, built.stderr
    assert built.stdout.count("wrote ") == 3  # grad's, value_and_grad's, jvp's
    assert not cache.exists()  # build writes beside the sources only
    modules = sorted((project / "__sourcegrad__").glob("*.py"))
    assert len(modules) == 3
    for module in modules:  # a built module imports numpy and sourcegrad.runtime only
        imports = [line for line in module.read_text().splitlines()
                   if line.startswith(("import ", "from "))]
        assert all(line == "import numpy as np" or line.startswith("from sourcegrad.runtime ")
                   for line in imports), imports
    result = run(project, cache)
    assert not result["compiled"] and not result["warnings"]
    assert np.allclose(result["grad"], expected(W0, X0))
    assert not cache.exists()  # nothing written to the cache either


def test_a_stale_built_module_is_ignored_with_a_warning(project, tmp_path):
    cache = tmp_path / "cache"
    assert cli("build", str(project), cwd=tmp_path, cache=cache).returncode == 0
    model = project / "model.py"
    model.write_text(MODEL.replace("** 2)", "** 3)"))
    result = run(project, cache)
    assert result["compiled"]
    assert any("stale" in w for w in result["warnings"])
    h = np.tanh(W0 @ X0)
    assert np.allclose(result["grad"], np.outer(3 * 8 * h * h * (1 - h * h), X0))


def test_build_a_package(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "shapes.py").write_text("import numpy as np\n\nSIZE = 3\n")
    (package / "model.py").write_text(textwrap.dedent("""
        import numpy as np
        import sourcegrad as sg
        from .shapes import SIZE

        @sg.differentiate(wrt="b")
        def loss(a, b):
            return np.sum(np.sin(a * b)) * SIZE
    """))
    result = cli("build", "pkg", cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (package / "__sourcegrad__").glob("*.py"))
    assert len(written) == 2
    assert written[0].startswith("model.grad_loss_")
    assert written[1].startswith("model.value_and_grad_loss_")


@pytest.mark.parametrize("args, words", [
    (["build", "nowhere.py"], "no such Python file or directory"),
    (["build", "broken.py"], "syntax error"),
])
def test_build_errors_are_one_line(project, tmp_path, args, words):
    (project / "broken.py").write_text("def f(x):\n    return x +\n")
    result = cli(*args, cwd=project, cache=tmp_path / "cache")
    assert result.returncode != 0
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_concurrent_compiles_leave_one_valid_file(project, tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, SOURCEGRAD_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    children = [subprocess.Popen([sys.executable, "child.py"], cwd=project, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    for child in children:
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err
        assert np.allclose(json.loads(out.splitlines()[-1])["grad"], expected(W0, X0))
    names = sorted(p.name for p in cache.iterdir())
    assert len(names) == 2 and not any(n.startswith(".tmp") for n in names)
    assert not run(project, cache)["compiled"]  # and the files are valid


def test_generated_code_is_a_real_module(tmp_path, monkeypatch):
    """Tracebacks, ``inspect.getsource`` and coverage see the generated file."""
    import inspect
    import traceback

    import sourcegrad as sg
    from sourcegrad.api import derivative

    monkeypatch.setenv("SOURCEGRAD_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "userfn.py").write_text("import numpy as np\n\ndef f(x):\n"
                                        "    return np.sum(np.log(x))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import userfn

    function = derivative(userfn.f).function
    assert Path(function.__code__.co_filename).parent == tmp_path / "cache"
    assert inspect.getsource(function).startswith("def grad_f(x, bf=1.0):")
    assert sg.grad(userfn.f)(np.array([2.0])) == 0.5
    try:
        function("not an array")
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        assert any(f.filename == function.__code__.co_filename for f in frames)
    else:
        raise AssertionError("expected an error")
