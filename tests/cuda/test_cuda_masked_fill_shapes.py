"""masked_fill of CUDA tensors with a mask of another shape: PyTorch's (and the CPU path's)
broadcast error, naming the mask first, and a mask of more dims broadcasting the input, as
PyTorch's out-of-place masked_fill; on numba-cuda's simulator (see conftest.py)."""

import re

import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg


def _message(f):
    with pytest.raises(RuntimeError) as info:
        f()
    return str(info.value)


def test_mismatched_mask_message_is_torchs():
    torch = pytest.importorskip("torch")
    want = _message(lambda: torch.zeros(2, 3).masked_fill(
        torch.ones(3, 3, dtype=torch.bool), 1.0))
    for dev in ("cpu", "cuda"):
        got = _message(lambda: tg.zeros(2, 3, device=dev).masked_fill(
            tg.ones(3, 3, dtype=tg.bool, device=dev), 1.0))
        assert got == want
    with pytest.raises(RuntimeError, match=re.escape("output with shape [3] doesn't match the "
                                                     "broadcast shape [2, 3]")):
        tg.zeros(3, device="cuda").masked_fill_(tg.ones(2, 3, dtype=tg.bool, device="cuda"),
                                                1.0)


def test_mask_of_more_dims_broadcasts_the_input():
    torch = pytest.importorskip("torch")
    mask = [[True, False, True], [False, False, True]]
    tx = torch.zeros(3, requires_grad=True)
    ty = tx.masked_fill(torch.tensor(mask), 2.0)
    ty.sum().backward()
    x = tg.zeros(3, device="cuda", requires_grad=True)
    y = x.masked_fill(tg.tensor(mask, device="cuda"), 2.0)
    y.sum().backward()
    assert y.device == "cuda" and y.cpu().tolist() == ty.tolist()
    assert x.grad.cpu().tolist() == tx.grad.tolist()
