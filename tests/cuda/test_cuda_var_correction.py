"""var/std of CUDA tensors with a correction at or past the sample size: the values and
gradients of the CPU path (PyTorch's: 2 / (N - correction) over a dim, negative past N; over
every element g * inf, nan where x is the mean), on numba-cuda's simulator."""

import math
import warnings

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

CASES = [([1.0, 2.0, 4.0], dict(correction=3)), ([1.0, 2.0, 3.0], dict(correction=4)),
         ([2.0, 2.0, 2.0], dict(correction=3)), ([math.nan, 1.0, 2.0], dict(correction=3)),
         ([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], dict(dim=1, correction=4)),
         ([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], dict(dim=1, correction=3)),
         ([[1.0, 2.0, 4.0], [3.0, 3.0, 1.0]], dict(dim=1, correction=1))]


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("values,kw", CASES)
def test_var_past_the_sample_size_as_on_the_cpu(op, values, kw):
    out = []
    for dev in ("cpu", "cuda"):
        x = tg.tensor(values, device=dev, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the degrees-of-freedom warning)
            y = getattr(tg, op)(x, **kw)
        (g,) = tg.autograd.grad((y * 2.0).sum(), x)
        out.append((y.detach().cpu().numpy(), g.cpu().numpy()))
    for a, b in zip(*out):
        np.testing.assert_array_equal(b, a)
