"""Generated code, byte for byte: the readability promise, kept in golden files.

``tests/golden/<name>.py`` holds the text ``sourcegrad.source`` gives for the
function ``<name>`` of ``tests/golden/functions.py``.  After an intended change
to the generated code, rewrite them with::

    SOURCEGRAD_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and review the difference like any other change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sourcegrad
import sourcegrad.api
from tests.golden import functions

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SOURCEGRAD_UPDATE_GOLDEN") == "1"

#: name in functions.py -> wrt
CASES = {
    "matvec_tanh": 0,
    "softmax_cross_entropy": 0,
    "broadcasting": (0, 1, 2),
    "rnn": (0, 1, 3),  # a loop that saves its state on the tape
    "huber": 0,  # an if inside a loop
    "helper_call": (0, 1, 2, 3),  # a helper called twice: a primal/adjoint pair per pattern
    "write_in_a_loop": 0,  # y[i] = y[i - 1] * x[i]: an in-place write in a loop
}


def generated(name: str) -> str:
    return sourcegrad.source(getattr(functions, name), wrt=CASES[name])


def check_golden(path: Path, text: str) -> None:
    """``text`` is the golden file's (which ``SOURCEGRAD_UPDATE_GOLDEN=1`` rewrites)."""
    if UPDATE:
        path.write_text(text)
    assert path.is_file(), f"{path} is missing: run with SOURCEGRAD_UPDATE_GOLDEN=1"
    assert text == path.read_text(), (
        f"the generated code differs from {path}; if the change is intended, rewrite "
        "the golden files with SOURCEGRAD_UPDATE_GOLDEN=1")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    check_golden(GOLDEN / f"{name}.py", generated(name))


#: forward mode: name in functions.py -> wrt (golden file ``<name>_forward.py``)
FORWARD = {"matvec_tanh": (0, 1), "huber": 0}


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_forward_golden(name):
    check_golden(GOLDEN / f"{name}_forward.py",
                 sourcegrad.source(getattr(functions, name), mode="forward", wrt=FORWARD[name]))


def _specialized_inputs():
    rng = np.random.default_rng(2)
    return {
        "matvec_tanh": (rng.standard_normal((3, 4)), rng.standard_normal(4)),
        "softmax_cross_entropy": (rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])),
        "rnn": _golden_inputs()["rnn"],
        "smooth": (rng.standard_normal(6),),
    }


#: grad's own function, specialized to arguments like these (golden file
#: ``<name>_specialized.py``): name -> wrt
SPECIALIZED = {"matvec_tanh": 0, "softmax_cross_entropy": 0, "rnn": (0, 1, 3), "smooth": 0}


def specialized_text(name: str) -> str:
    from sourcegrad.signature import Signature

    args = _specialized_inputs()[name]
    return sourcegrad.api.derivative(getattr(functions, name), SPECIALIZED[name], "gradient",
                                     signature=Signature.of(args)).text


@pytest.mark.parametrize("name", sorted(SPECIALIZED))
def test_specialized_golden(name):
    check_golden(GOLDEN / f"{name}_specialized.py", specialized_text(name))


@pytest.mark.parametrize("name", sorted(SPECIALIZED))
def test_specialized_golden_text_computes_the_gradients(name):
    """The specialized golden text runs on arguments it was made for (and
    raises Unspecialized on others); its gradients match central differences."""
    from sourcegrad.runtime import Unspecialized
    from tests.programs.helpers import numeric_grad

    args = _specialized_inputs()[name]
    namespace = {}
    path = GOLDEN / f"{name}_specialized.py"
    exec(compile(path.read_text(), path.name, "exec"), namespace)
    grads = namespace[f"grad_{name}"](*args)
    f, wrt = getattr(functions, name), SPECIALIZED[name]
    for i, g in zip(*((wrt, grads) if isinstance(wrt, tuple) else ((wrt,), (grads,)))):
        np.testing.assert_allclose(g, numeric_grad(f, args, {}, i), rtol=1e-6, atol=1e-8)
    with pytest.raises(Unspecialized):
        namespace[f"grad_{name}"](*[np.float64(1.5) for _ in args])


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiling_twice_gives_the_same_text(name):
    first = generated(name)
    sourcegrad.api._compiled.clear()
    second = generated(name)
    assert first == second


def test_broadcasting_golden_text_computes_the_gradients():
    """The golden text is working code: load it and compare with finite differences."""
    rng = np.random.default_rng(0)
    X, b, s = rng.standard_normal((4, 3)), rng.standard_normal(3), 1.7
    namespace = {}
    exec(compile((GOLDEN / "broadcasting.py").read_text(), "broadcasting.py", "exec"), namespace)
    value, (gX, gb, gs) = namespace["grad_broadcasting"](X, b, s)
    assert value == pytest.approx(functions.broadcasting(X, b, s))
    assert gX.shape == X.shape and gb.shape == b.shape and np.shape(gs) == ()
    sourcegrad.check_grads(functions.broadcasting, (X, b, s))


def _golden_inputs():
    rng = np.random.default_rng(1)
    rnn = (0.5 * rng.standard_normal((3, 3)), rng.standard_normal((3, 2)),
           rng.standard_normal((4, 2)), rng.standard_normal(3))
    huber = (np.array([0.3, -1.7, 0.9, 2.4, -0.2]), 1.0)  # both branches, away from |v| = 1
    return {"rnn": rnn, "huber": huber}


def _golden_inputs_of(name):
    inputs = {**_golden_inputs(), **_function_golden_inputs()}
    return inputs[name]


@pytest.mark.parametrize("name", ["rnn", "huber", "helper_call", "write_in_a_loop"])
def test_golden_text_computes_the_gradients(name):
    """The golden text of the loops, a helper call and a write in a loop runs:
    its gradients match central differences."""
    from tests.programs.helpers import numeric_grad

    args = _golden_inputs_of(name)
    namespace = {}
    exec(compile((GOLDEN / f"{name}.py").read_text(), f"{name}.py", "exec"), namespace)
    value, grads = namespace[f"grad_{name}"](*args)
    f = getattr(functions, name)
    assert value == pytest.approx(f(*args))
    wrt = CASES[name] if isinstance(CASES[name], tuple) else (CASES[name],)
    grads = grads if isinstance(CASES[name], tuple) else (grads,)
    for i, g in zip(wrt, grads):
        np.testing.assert_allclose(g, numeric_grad(f, args, {}, i), rtol=1e-6, atol=1e-8)


def test_header_names_the_source():
    text = generated("matvec_tanh")
    assert text.startswith("# Reverse-mode derivative of matvec_tanh with respect to W.\n")
    line = functions.matvec_tanh.__code__.co_firstlineno
    assert f"from functions.py, line {line} (source sha256 " in text


def test_text_does_not_depend_on_hash_randomization(tmp_path):
    """Set and dict orders vary with PYTHONHASHSEED between processes; the text may not."""
    script = (
        "import sourcegrad\n"
        "from tests.golden import functions\n"
        f"cases = {CASES!r}\n"
        "for name in sorted(cases):\n"
        "    print(sourcegrad.source(getattr(functions, name), wrt=cases[name]), end='')\n"
    )
    root = Path(__file__).parent.parent
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, SOURCEGRAD_CACHE_DIR=str(tmp_path / seed))
        done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                              capture_output=True, text=True, check=True)
        outputs.append(done.stdout)
    expected = "".join(generated(name) for name in sorted(CASES))
    assert outputs[0] == outputs[1] == expected


def _function_golden_inputs():
    rng = np.random.default_rng(2)
    helper_call = (0.5 * rng.standard_normal((4, 3)), rng.standard_normal(4),
                   0.5 * rng.standard_normal((2, 4)), rng.standard_normal(2),
                   rng.standard_normal(3))
    write_in_a_loop = (rng.uniform(0.5, 1.5, 5),)
    return {"helper_call": helper_call, "write_in_a_loop": write_in_a_loop}


