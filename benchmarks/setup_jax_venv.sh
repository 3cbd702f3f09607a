#!/usr/bin/env bash
# Create benchmarks/.venv-jax: JAX needs Python >= 3.12, the project's default
# interpreter may be older.  Usage: bash benchmarks/setup_jax_venv.sh [PYTHON]
# (PYTHON: a Python >= 3.12; default: pyenv's newest 3.12 or 3.13, else python3.12).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-}
if [ -z "$python" ] && command -v pyenv >/dev/null 2>&1; then
  for v in 3.12 3.13; do
    found=$(pyenv versions --bare | grep -E "^${v}(\.[0-9]+)?$" | tail -n 1 || true)
    if [ -n "$found" ]; then python=$(pyenv root)/versions/$found/bin/python; break; fi
  done
fi
python=${python:-python3.12}
"$python" -m venv benchmarks/.venv-jax
benchmarks/.venv-jax/bin/pip install numpy gast jax jaxlib
benchmarks/.venv-jax/bin/pip install -e .
benchmarks/.venv-jax/bin/python -c "import jax, sourcegrad; print('jax', jax.__version__)"
