"""What a training loop calls besides layers and optimizers, on CUDA against the CPU:
gradient clipping, dropout, argmax/argmin, sort/topk, masked_fill, erf and gelu (numba-cuda's
simulator, see conftest.py).
"""

import math

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from test_cuda_sim import check

RNG = np.random.default_rng(5)
A = RNG.standard_normal((3, 4))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, np.nan, -1.0, np.nan], [0.0, 0.0, 0.0, 0.0]])


def leaves_with_grads(device, scale):
    ps = [tg.tensor(A, device=device, requires_grad=True),
          tg.tensor(A[0], device=device, requires_grad=True)]
    for p in ps:
        p.grad = tg.tensor(scale * np.asarray(p.detach().cpu().numpy()), device=device)
    return ps


@pytest.mark.parametrize("norm_type,scale", [(2.0, 1.0), (math.inf, 0.1), (1.5, 1.0)])
def test_clip_grad_norm_on_cuda_matches_cpu(norm_type, scale):
    cpu, dev = leaves_with_grads("cpu", scale), leaves_with_grads("cuda", scale)
    total_cpu = nn.utils.clip_grad_norm_(cpu, 1.0, norm_type)
    total_dev = nn.utils.clip_grad_norm_(dev, 1.0, norm_type)
    assert total_dev.device == "cuda" and total_dev.shape == ()  # on the device, as PyTorch
    np.testing.assert_allclose(total_dev.item(), total_cpu.item(), rtol=1e-12)
    for c, d in zip(cpu, dev):
        assert d.grad.device == "cuda"
        np.testing.assert_allclose(d.grad.cpu().numpy(), c.grad.numpy(), rtol=1e-12, atol=0)


def test_clip_grad_value_and_nonfinite_norm_on_cuda():
    dev = leaves_with_grads("cuda", 1.0)
    nn.utils.clip_grad_value_(dev, 0.5)
    np.testing.assert_array_equal(dev[0].grad.cpu().numpy(), np.clip(A, -0.5, 0.5))
    dev[1].grad = tg.tensor([np.inf, 1.0, 0.0, 0.0], device="cuda")
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(dev, 1.0, error_if_nonfinite=True)


def test_vector_to_parameters_on_cuda():
    m = nn.Linear(3, 2).cuda()
    v = nn.utils.parameters_to_vector(m.parameters())
    assert v.device == "cuda" and v.shape == (8,)
    nn.utils.vector_to_parameters(v * 2.0, m.parameters())
    np.testing.assert_allclose(nn.utils.parameters_to_vector(m.parameters()).detach().cpu()
                               .numpy(), 2.0 * v.detach().cpu().numpy())


def test_dropout_on_cuda_draws_the_cpu_mask():
    def run(device):
        tg.manual_seed(3)
        x = tg.tensor(A, device=device, requires_grad=True)
        y = nn.Dropout(0.4)(x)
        (y * y).sum().backward()
        return y, x.grad

    (yc, gc), (yd, gd) = run("cpu"), run("cuda")
    assert yd.device == "cuda" and gd.device == "cuda"
    np.testing.assert_array_equal(yd.detach().cpu().numpy(), yc.detach().numpy())
    np.testing.assert_array_equal(gd.cpu().numpy(), gc.numpy())
    x = tg.tensor(A, device="cuda")
    assert F.dropout(x, 0.4, training=False) is x


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
def test_argmax_argmin_on_cuda(fn):
    for a in (A, TIES):
        xc, xd = tg.tensor(a), tg.tensor(a, device="cuda")
        for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
            rc, rd = getattr(xc, fn)(**kw), getattr(xd, fn)(**kw)
            assert rd.device == "cuda" and rd.dtype == np.int64 and rd.shape == rc.shape
            np.testing.assert_array_equal(rd.cpu().numpy(), rc.numpy())
    with pytest.raises(IndexError, match=f"{fn}\\(\\): Expected reduction dim"):
        getattr(tg.zeros(0, 2, device="cuda"), fn)(0)


@pytest.mark.parametrize("name", ["sort", "sort_desc", "topk", "topk_smallest"])
def test_sort_topk_on_cuda(name):
    fn = {"sort": lambda x: tg.sort(x, 1),
          "sort_desc": lambda x: tg.sort(x, 0, descending=True),
          "topk": lambda x: tg.topk(x, 2),
          "topk_smallest": lambda x: tg.topk(x, 2, dim=0, largest=False)}[name]
    check(lambda x: fn(x).values * 2.0, A)  # values and gradients against the CPU
    xc, xd = tg.tensor(TIES[:, :3]), tg.tensor(TIES[:, :3], device="cuda")
    ic, id_ = fn(xc).indices, fn(xd).indices
    assert id_.device == "cuda" and id_.dtype == np.int64
    np.testing.assert_array_equal(id_.cpu().numpy(), ic.numpy())


def test_masked_fill_with_a_device_mask():
    check(lambda x: x.masked_fill(x > 0.5, 0.0) * 2.0, A)
    check(lambda x: x.masked_fill(x[0] < 0, tg.tensor(-1.0)), A)  # broadcast, CPU 0-d value
    x = tg.tensor(A[0], device="cuda")  # a mask of more dims broadcasts x, as PyTorch's
    np.testing.assert_array_equal(x.masked_fill(tg.tensor(A > 0, device="cuda"), 0.0).cpu()
                                  .numpy(), tg.tensor(A[0]).masked_fill(tg.tensor(A > 0), 0.0)
                                  .numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["erf", "erfc", "gelu", "gelu_tanh"])
def test_erf_and_gelu_on_cuda(name, dtype):
    fn = {"erf": tg.erf, "erfc": tg.erfc, "gelu": F.gelu,
          "gelu_tanh": lambda x: F.gelu(x, approximate="tanh")}[name]
    check(fn, 2.0 * A, dtype=dtype)


def test_erf_second_order_on_cuda():
    def second(device):
        x = tg.tensor(A, device=device, requires_grad=True)
        (g,) = tg.autograd.grad(tg.erf(x).sum(), x, create_graph=True)
        (h,) = tg.autograd.grad((g * g).sum(), x)
        return h

    hd = second("cuda")
    assert hd.device == "cuda"
    np.testing.assert_allclose(hd.cpu().numpy(), second("cpu").numpy(), rtol=1e-10, atol=1e-12)


ZERO_ROW = A.copy()
ZERO_ROW[0] = 0.0  # a zero vector: gradient 0, not nan (the device masks without a host read)


@pytest.mark.parametrize("name", ["p2", "p0", "p0.5", "p3", "normalize"])
def test_vector_norms_on_cuda(name):
    fn = {"p2": lambda x: tg.norm(x, dim=1), "p0": lambda x: tg.norm(x, 0, dim=1) + x.sum(),
          "p0.5": lambda x: tg.norm(x, 0.5, dim=1), "p3": lambda x: x.norm(3, dim=0),
          "normalize": F.normalize}[name]
    check(fn, ZERO_ROW)
