"""An index on the CPU for a CUDA input: gather, index_select, scatter, scatter_add and
index_add (their methods and in-place forms) refuse it with PyTorch's same-device error, as
PyTorch 2.x does, while advanced indexing ``x[i]`` takes it, as PyTorch does; the ops
tapegrad builds on the index ops with indices made on the host (pad, interpolate, embedding
bags) keep working. On numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn.functional as F

MIXED = ("Expected all tensors to be on the same device, but found at least two devices, "
         "cuda:0 and cpu! (when checking argument for argument index in method ")
A = np.arange(12.0).reshape(3, 4) / 7.0
I2 = [[0, 1], [2, 0]]

CALLS = {  # (x, index on the CPU or the device) -> result; PyTorch's wrapper in its error
    "gather": (lambda x, i: tg.gather(x, 1, i), "wrapper_CUDA_gather"),
    "gather_method": (lambda x, i: x.gather(1, i), "wrapper_CUDA_gather"),
    "index_select": (lambda x, i: tg.index_select(x, 0, i[0]), "wrapper_CUDA__index_select"),
    "index_select_method": (lambda x, i: x.index_select(1, i[1]),
                            "wrapper_CUDA__index_select"),
    "scatter": (lambda x, i: tg.scatter(x, 1, i, x[:2, :2] * 3.0), "wrapper_CUDA_scatter_src"),
    "scatter_value": (lambda x, i: tg.scatter(x, 1, i, value=2.0),
                      "wrapper_CUDA_scatter_value"),
    "scatter_": (lambda x, i: x.clone().scatter_(1, i, x[:2, :2] * 3.0),
                 "wrapper_CUDA_scatter__src"),
    "scatter_value_": (lambda x, i: x.clone().scatter_(0, i, -1.0),
                       "wrapper_CUDA_scatter__value"),
    "scatter_add": (lambda x, i: tg.scatter_add(x, 1, i, x[:2, :2]), "wrapper_CUDA_scatter_add"),
    "scatter_add_": (lambda x, i: x.clone().scatter_add_(0, i, x[:2, :2]),
                     "wrapper_CUDA_scatter_add_"),
    "index_add": (lambda x, i: tg.index_add(x, 0, i[0], x[:2]), "wrapper_CUDA_index_add"),
    "index_add_method": (lambda x, i: x.index_add(0, i[0], x[:2]), "wrapper_CUDA_index_add"),
    "index_add_": (lambda x, i: x.clone().index_add_(1, i[1], x[:, :2], alpha=2.0),
                   "wrapper_CUDA_index_add_"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_cpu_index_is_refused_and_a_device_index_matches_the_cpu(name):
    fn, wrapper = CALLS[name]
    x = tg.tensor(A, device="cuda")
    with pytest.raises(RuntimeError) as e:
        fn(x, tg.tensor(I2))
    assert str(e.value) == MIXED + wrapper + ")"
    d = fn(x, tg.tensor(I2, device="cuda"))
    c = fn(tg.tensor(A), tg.tensor(I2))
    assert d.device == "cuda"
    np.testing.assert_allclose(d.cpu().numpy(), c.numpy(), rtol=1e-12)


def test_advanced_indexing_takes_a_cpu_index_as_pytorch():
    x = tg.tensor(A, device="cuda")
    i, m = tg.tensor([2, 0, 2]), tg.tensor(A > 0.6)
    np.testing.assert_array_equal(x[i].cpu().numpy(), A[[2, 0, 2]])
    np.testing.assert_array_equal(x[m].cpu().numpy(), A[A > 0.6])
    x[i] = 0.0
    assert not x.cpu().numpy()[[0, 2]].any()


def test_ops_built_on_index_ops_keep_their_host_indices():
    a = np.arange(8.0).reshape(1, 2, 4)
    for fn in (lambda x: F.pad(x, (2, 1), mode="reflect"),
               lambda x: F.interpolate(x, scale_factor=2, mode="linear"),
               lambda x: F.embedding_bag(tg.tensor([1, 0, 1], device=x.device),
                                         x.reshape(4, 2), tg.tensor([0, 2], device=x.device))):
        c = fn(tg.tensor(a))
        d = fn(tg.tensor(a, device="cuda"))
        assert d.device == "cuda"
        np.testing.assert_allclose(d.cpu().numpy(), c.numpy(), rtol=1e-12)


def test_scatter_of_a_tensor_has_the_cpus_gradients():
    grads = []
    for dev in ("cpu", "cuda"):
        x = tg.tensor(A, device=dev, requires_grad=True)
        s = tg.tensor(A[:2, :3] * 2.0, device=dev, requires_grad=True)
        y = tg.scatter(x, 1, tg.tensor([[3, 0, 3], [1, 2, 1]], device=dev), s)
        (y * tg.tensor(A + 1.0, device=dev)).sum().backward()
        grads.append((y, x.grad, s.grad))
    for c, d in zip(*grads):
        assert d.device == "cuda"
        np.testing.assert_allclose(d.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-12)
