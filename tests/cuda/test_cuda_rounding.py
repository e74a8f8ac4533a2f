"""floor, ceil, trunc, round (also to decimals), frac and sign of CUDA tensors (one device
kernel, engine/cuda/_kernels_movement.round_fwd): the CPU's values bit for bit (signed zeros,
halves to even, inf and nan), a zero gradient (frac: one), in place through views too, on
numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

EDGE = np.array([-np.inf, -2.5, -1.5, -0.7, -0.5, -0.3, -0.0, 0.0, 0.3, 0.5, 0.7, 1.5, 2.5,
                 3.49, 1e17, np.inf, np.nan, 123.456, -0.04, 0.125, -123.55])
FNS = {
    "round": tg.round, "floor": tg.floor, "ceil": tg.ceil, "trunc": tg.trunc, "frac": tg.frac,
    "fix": tg.fix, "sign": tg.sign, "round_1": lambda x: tg.round(x, decimals=1),
    "round_2": lambda x: x.round(decimals=2), "round_-1": lambda x: tg.round(x, decimals=-1),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(FNS))
def test_values_are_the_cpus_bit_for_bit(name, dtype):
    c = FNS[name](tg.tensor(EDGE.astype(dtype))).numpy()
    d = FNS[name](tg.tensor(EDGE.astype(dtype), device="cuda"))
    assert d.device == "cuda" and d.dtype == c.dtype
    np.testing.assert_array_equal(d.cpu().numpy().view(np.uint8), c.view(np.uint8))


def test_against_pytorch_to_decimals():
    torch = pytest.importorskip("torch")
    for decimals in (0, 1, -1):
        t = torch.round(torch.tensor(EDGE), decimals=decimals).numpy()
        d = tg.round(tg.tensor(EDGE, device="cuda"), decimals=decimals).cpu().numpy()
        np.testing.assert_array_equal(d, t)


def test_gradients_are_zero_and_frac_passes_one():
    grads = []
    for dev in ("cpu", "cuda"):
        x = tg.tensor([1.5, -2.7, 0.2, 3.0], device=dev, requires_grad=True)
        y = (tg.floor(x) * x + tg.frac(x) * 3.0 + x.round(decimals=1) + x.ceil() + x.trunc())
        y.sum().backward()
        assert x.grad.device == dev
        grads.append(x.grad.cpu().numpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    np.testing.assert_array_equal(grads[1], np.floor([1.5, -2.7, 0.2, 3.0]) + 3.0)


def test_integers_and_in_place_forms_match_the_cpu():
    out = []
    for dev in ("cpu", "cuda"):
        z = tg.tensor([15, 25, -35, 7], device=dev)
        w = tg.tensor([[0.5, 1.5], [2.5, -0.5]], device=dev)
        w[0].round_()
        w.T[1].floor_()
        w.ceil_()
        out.append((tg.round(z), tg.floor(z), w, w._version))
    for c, d in zip(out[0][:3], out[1][:3]):
        assert d.device == "cuda" and d.dtype == c.dtype
        np.testing.assert_array_equal(d.cpu().numpy(), c.numpy())
    assert out[1][3] == out[0][3]
    # decimals= of an integer tensor: PyTorch's CPU kernel refuses it; the device rounds half
    # to even at the tens, as NumPy's round does
    z = [15, 25, -35, 7]
    with pytest.raises(NotImplementedError, match="round_cpu"):
        tg.round(tg.tensor(z), decimals=-1)
    d = tg.round(tg.tensor(z, device="cuda"), decimals=-1)
    assert d.dtype == tg.int64
    np.testing.assert_array_equal(d.cpu().numpy(), np.round(np.array(z), -1))
