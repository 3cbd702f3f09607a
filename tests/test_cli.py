"""The command line: outputs and exit codes."""

import os
import subprocess
import sys
import textwrap

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sourcegrad", *args], capture_output=True,
                          text=True, cwd=cwd, env=dict(os.environ), timeout=120)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "model.py").write_text(textwrap.dedent("""
        import numpy as np

        def loss(W, x):
            return np.sum(np.tanh(W @ x))
    """))
    (tmp_path / "broken.py").write_text("def f(x):\n    return x +\n")
    return tmp_path


def test_show_module_function(project):
    result = run("show", "model:loss", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "def grad_loss(W, x, bloss=1.0):" in result.stdout


def test_show_file_with_wrt(project):
    result = run("show", "model.py:loss", "--wrt", "x", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "with respect to x" in result.stdout
    assert "return (loss, bx)" in result.stdout


@pytest.mark.parametrize("target, words", [
    ("model:nope", "has no function 'nope'"),
    ("nomodule:f", "no module named 'nomodule'"),
    ("broken:f", "syntax error"),
    ("model", "expected MODULE:FUNCTION"),
])
def test_show_errors_are_one_line(project, target, words):
    result = run("show", target, cwd=project)
    assert result.returncode != 0
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [[], ["show"], ["cache"], ["build"]])
def test_help(command):
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "usage:" in result.stdout


def test_cache_info_and_clear(project, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCEGRAD_CACHE_DIR", str(tmp_path / "cache"))
    assert run("show", "model:loss", cwd=project).returncode == 0
    info = run("cache", "info")
    assert "modules: 1" in info.stdout
    assert run("cache", "clear").returncode == 0
    assert "modules: 0" in run("cache", "info").stdout
