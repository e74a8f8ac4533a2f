"""Results and gradients of CUDA inputs stay on the device, or are refused as PyTorch refuses
them; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

COND = np.array([[True, False, True], [False, False, True]])


@pytest.mark.parametrize("cond", [COND, np.array(True), np.zeros((2, 0), bool)])
def test_where_of_a_condition_alone_gives_indices_on_its_device(cond, torch):
    expected = torch.where(torch.tensor(cond))
    got = tg.where(tg.tensor(cond, device="cuda"))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.device == "cuda" and g.dtype == tg.int64
        np.testing.assert_array_equal(g.cpu().numpy(), e.numpy())
