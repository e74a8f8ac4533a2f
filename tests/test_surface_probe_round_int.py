"""``round`` of integer and bool tensors against PyTorch's CPU kernels: without ``decimals`` an
integer tensor is its own rounding; with ``decimals`` (even 0), and for bools, PyTorch raises
NotImplementedError ("round_cpu"/"round_vml_cpu" not implemented for 'Long') where tapegrad
returned values (``tensor([1, 15]).round(decimals=-1)`` gave ``[0, 20]``). Float rounding and
its zero gradient are unchanged."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def outcome(M, dtype, kw, inplace):
    x = M.tensor([1, 15, -26], dtype=getattr(M, dtype)) if dtype != "bool" else \
        M.tensor([True, False])
    try:
        r = x.round_(**kw) if inplace else M.round(x, **kw)
    except NotImplementedError as e:
        return str(e)
    return str(r.dtype).replace("torch.", ""), r.tolist()


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("kw", [{}, {"decimals": 0}, {"decimals": 1}, {"decimals": -1}])
@pytest.mark.parametrize("inplace", [False, True])
def test_round_as_torch(dtype, kw, inplace):
    assert outcome(tg, dtype, kw, inplace) == outcome(torch, dtype, kw, inplace)


@pytest.mark.parametrize("kw", [{}, {"decimals": 0}, {"decimals": 2}, {"decimals": -1}])
def test_float_round_values_and_gradient(kw):
    a = np.array([1.005, -2.5, 0.5, 1234.5678, -0.125])
    x = tg.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y, yt = tg.round(x, **kw), torch.round(xt, **kw)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
