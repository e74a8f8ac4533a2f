"""fftn-family with s= of more sizes than the input has dims (and no dim=): PyTorch raises 'Got
shape with 3 values but input tensor only has 2 dimensions.'; the transform ran over wrapped
axes instead (fftn(ones(4, 4), s=(2, 2, 2)) gave a 2x2 result)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CALLS = {
    "fftn": lambda L, x, c: L.fft.fftn(x, s=(2, 2, 2)),
    "ifftn": lambda L, x, c: L.fft.ifftn(x, s=(2, 2, 2)),
    "rfftn": lambda L, x, c: L.fft.rfftn(x, s=(2, 2, 2)),
    "irfftn": lambda L, x, c: L.fft.irfftn(c, s=(2, 2, 2)),
    "hfftn": lambda L, x, c: L.fft.hfftn(c, s=(2, 2, 2)),
    "ihfftn": lambda L, x, c: L.fft.ihfftn(x, s=(2, 2, 2)),
    "fftn of 1-d": lambda L, x, c: L.fft.fftn(x[0], s=(2, 2)),
    "fftn of 0-d": lambda L, x, c: L.fft.fftn(x[0, 0], s=(1,)),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_refused_as_torch(call):
    got = []
    for lib in (tg, torch):
        x, c = lib.ones(4, 4), lib.ones(4, 3, dtype=lib.complex64)
        with pytest.raises(RuntimeError) as e:
            CALLS[call](lib, x, c)
        got.append(str(e.value))
    assert got[0] == got[1]


def test_shorter_s_still_transforms_the_last_dims_with_torch_gradients():
    a = np.arange(12.0).reshape(3, 4) / 5
    got = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.fft.fftn(x, s=(3,)).abs() + lib.fft.rfftn(x, s=(2, 6)).abs().sum()
        y.sum().backward()
        got.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-12)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-10, atol=1e-12)
