import contextlib
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


@contextlib.contextmanager
def torch_float64_default(torch):
    """PyTorch with float64 as its default dtype (tapegrad's): optimizers such as NAdam and
    ASGD keep scalar state in the default dtype, whose rounding shows in their trajectory."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(default)
