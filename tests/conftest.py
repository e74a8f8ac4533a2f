import os

import numpy as np
import pytest

# Index errors inside compiled kernels become Python exceptions in the test run.
os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch
