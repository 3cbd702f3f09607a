"""Shared test setup: each test session writes generated code to its own cache."""

import os
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="sourcegrad-test-cache-")
os.environ["SOURCEGRAD_CACHE_DIR"] = _CACHE


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
