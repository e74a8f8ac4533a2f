"""Functions without a device kernel that read values on the host (index results, sampling,
statistics, special functions) on CUDA tensors: a differentiable round trip through the host
(torch_names.THROUGH_HOST; xlogy, nan_to_num, isclose and allclose with ``on_host``), so
values and gradients (any order) are the CPU's and results stay on the device; against the
CPU path, on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
from test_cuda_sim import check_exact

A = np.array([[1.5, -2.5, 0.25, 3.0], [2.0, -0.5, 4.5, -1.25]])
P = np.abs(A) + 0.5


VALUES = {
    "nonzero": lambda t: tg.nonzero(t(A) > 0),
    "nonzero_as_tuple": lambda t: tg.nonzero(t(A) > 0, as_tuple=True)[1],
    "argwhere": lambda t: (t(A) > 0).argwhere(),
    "unique_counts": lambda t: tg.unique(t(np.array([3, 1, 3])), return_counts=True)[1],
    "bincount": lambda t: tg.bincount(t(np.array([1, 1, 3]))),
    "searchsorted": lambda t: tg.searchsorted(t([1.0, 2.0, 3.0]), t([2.5, 0.0])),
    "bucketize": lambda t: tg.bucketize(t([2.5, 0.1]), t([1.0, 2.0, 3.0])),
    "histc": lambda t: tg.histc(t(A), 4),
    "mode": lambda t: tg.mode(t(np.array([[1, 2, 2], [3, 3, 1]])), 1).values,
    "scatter_reduce": lambda t: tg.zeros(3, device=t(0.0).device).scatter_reduce(
        0, t(np.array([0, 0, 2])), t(A[0, :3]), "amax"),
    "index_fill_": lambda t: tg.zeros(5, device=t(0.0).device).index_fill_(
        0, t(np.array([1, 3])), 2.0),
    "fmod_": lambda t: t(A).fmod_(1.5),
    "floor_divide": lambda t: t(np.array([7, -7, 5])) // 2,
    "heaviside": lambda t: tg.heaviside(t(A), t(0.5)),
    "nextafter": lambda t: tg.nextafter(t(A), t(P)),
    "logical_xor": lambda t: tg.logical_xor(t(A) > 0, t(A) > 1),
    "isclose": lambda t: tg.isclose(t(A), t(A) + 1e-9),
    "nan_to_num": lambda t: t(np.array([np.nan, np.inf, -np.inf, 1.0])).nan_to_num(posinf=9.0),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values(name):
    check_exact(VALUES[name])


def test_equal_answers_a_python_bool():
    x = tg.tensor(A, device="cuda")
    assert tg.equal(x, x) is True and tg.equal(x, x + 1) is False
    assert tg.allclose(x, x + 1e-9) is True and tg.allclose(x, x + 1) is False


GRADS = {
    "lgamma": lambda x, p: tg.lgamma(p), "digamma": lambda x, p: p.digamma(),
    "erfinv": lambda x, p: tg.erfinv(x / 5), "logit": lambda x, p: tg.logit(p / 6),
    "sinc": lambda x, p: tg.sinc(x), "logaddexp": lambda x, p: tg.logaddexp(x, p),
    "logaddexp2": lambda x, p: tg.logaddexp2(x, p), "polygamma": lambda x, p: tg.polygamma(1, p),
    "fmod": lambda x, p: tg.fmod(x, 1.5), "remainder": lambda x, p: tg.remainder(x, p),
    "quantile": lambda x, p: tg.quantile(x, 0.3, dim=1),
    "nanquantile": lambda x, p: tg.nanquantile(x, 0.7),
    "nanmedian": lambda x, p: tg.nanmedian(x), "median": lambda x, p: tg.median(x),
    "cummax": lambda x, p: tg.cummax(x, 1).values, "cummin": lambda x, p: x.cummin(0).values,
    "masked_select": lambda x, p: tg.masked_select(x, x > 0),
    "xlogy": lambda x, p: tg.xlogy(x, p), "nan_to_num": lambda x, p: tg.nan_to_num(x / p),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_values_and_gradients_to_second_order(name):
    out = {}
    for dev in ("cpu", "cuda"):
        x = tg.tensor(A, device=dev, requires_grad=True)
        p = tg.tensor(P, device=dev, requires_grad=True)
        y = GRADS[name](x, p)
        gx, gp = tg.autograd.grad((y * y).sum(), [x, p], create_graph=True, allow_unused=True)
        gs = [g if g is not None else tg.zeros_like(x) for g in (gx, gp)]
        (gs[0].sum() + gs[1].sum()).backward()
        assert y.device == dev
        out[dev] = [t.detach().cpu().numpy() for t in [y] + gs] + [
            (t.grad if t.grad is not None else tg.zeros_like(t)).cpu().numpy() for t in (x, p)]
    for c, d in zip(out["cpu"], out["cuda"]):
        np.testing.assert_allclose(d, c, rtol=1e-11, atol=1e-12)


def test_multinomial_samples_on_the_device_from_the_default_generator():
    probs = [0.1, 0.0, 0.9]
    tg.manual_seed(0)
    a = tg.multinomial(tg.tensor(probs, device="cuda"), 4, replacement=True)
    tg.manual_seed(0)
    b = tg.multinomial(tg.tensor(probs), 4, replacement=True)
    assert a.device == "cuda" and a.dtype == np.int64
    np.testing.assert_array_equal(a.cpu().numpy(), b.numpy())


def test_a_cpu_operand_is_pytorchs_mixed_device_error():
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        tg.searchsorted(tg.tensor([1.0, 2.0], device="cuda"), tg.tensor([1.5]))
