"""Every script in examples/ runs to completion."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_quickstart_prints_gradient_and_code():
    script = Path(__file__).parent.parent / "examples" / "quickstart.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert "gradients agree with finite differences" in out
    assert "def grad_loss(W, b, x, y):" in out and "raise Unspecialized" in out
