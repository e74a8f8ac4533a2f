"""xlogy and special.xlog1py of CUDA tensors with a 0-d CPU tensor among the operands: taken as
PyTorch's binary ops take a CPU scalar (result and gradients on CUDA, the CPU scalar's gradient
on the CPU), values and gradients as PyTorch's on the CPU; a CPU tensor of one dimension still
raises PyTorch's error; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

torch = pytest.importorskip("torch")

MIXED = "Expected all tensors to be on the same device, but found at least two devices"
X = [0.0, 0.5, 2.0, 0.0]


def _fn(L, name):
    return L.xlogy if name == "xlogy" else L.special.xlog1py


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
@pytest.mark.parametrize("scalar_first", [False, True])
def test_a_cpu_scalar_tensor_meets_cuda_tensors_as_in_torch(name, scalar_first):
    x = tg.tensor(X, dtype=tg.float64).cuda().requires_grad_()
    s = tg.tensor(1.5, dtype=tg.float64, requires_grad=True)
    out = _fn(tg, name)(*((s, x) if scalar_first else (x, s)))
    assert out.device == "cuda"
    out.sum().backward()
    assert x.grad.device == "cuda" and s.grad.device == "cpu"

    tx = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    ts = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    want = _fn(torch, name)(*((ts, tx) if scalar_first else (tx, ts)))
    want.sum().backward()
    np.testing.assert_allclose(out.detach().cpu().numpy(), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_a_cpu_vector_with_cuda_tensors_raises_torchs_error(name):
    with pytest.raises(RuntimeError, match=MIXED):
        _fn(tg, name)(tg.ones(3).cuda(), tg.ones(3))
