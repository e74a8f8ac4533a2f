"""matmul of CUDA tensors beyond the kernel's shapes (batch dims of any rank, broadcast
batches, a matrix times a batch, a vector times a batch) against the CPU path, first and
second order, on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
from test_cuda_sim import check

RNG = np.random.default_rng(4)

SHAPES = [((2, 2, 3, 2), (2, 2, 2, 3)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)),
          ((4,), (2, 4, 3)), ((2, 2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 2)),
          ((2, 3, 4), (1, 4, 2)), ((0, 2, 3), (1, 3, 2))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_broadcast_batches(shapes, dtype):
    a, b = (RNG.uniform(-1.0, 1.0, s) for s in shapes)
    check(lambda x, y: x @ y, a, b, dtype=dtype)


@pytest.mark.parametrize("shapes", SHAPES[:3], ids=str)
def test_second_order(shapes):
    a, b = (RNG.uniform(-1.0, 1.0, s) for s in shapes)
    out = {}
    for dev in ("cpu", "cuda"):
        x, y = (tg.tensor(v, device=dev, requires_grad=True) for v in (a, b))
        gx, gy = tg.autograd.grad(((x @ y) ** 2).sum(), [x, y], create_graph=True)
        (gx.sum() + (gy * gy).sum()).backward()
        out[dev] = [t.detach().cpu().numpy() for t in (gx, gy, x.grad, y.grad)]
    for c, d in zip(out["cpu"], out["cuda"]):
        np.testing.assert_allclose(d, c, rtol=1e-10, atol=1e-12)


def test_mismatched_batches_raise_pytorchs_error():
    x, y = tg.ones(2, 3, 4, device="cuda"), tg.ones(3, 4, 2, device="cuda")
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size "
                       r"of tensor b \(3\) at non-singleton dimension 0"):
        x @ y
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 "
                       r"tensor to be: \[4, 4\] but got: \[4, 5\]\."):
        tg.ones(2, 2, 3, 4, device="cuda") @ tg.ones(2, 5, 2, device="cuda")
