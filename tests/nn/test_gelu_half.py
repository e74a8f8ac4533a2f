"""GELU of float16 (function and module, exact form) stays float16, computed in float32 and
rounded as PyTorch's opmath; it came back float64 and promoted the rest of a half network."""

import numpy as np

import tapegrad as tg

XS = np.linspace(-6, 6, 401).astype(np.float16)


def test_half_gelu_keeps_its_dtype():
    x = tg.tensor(XS, requires_grad=True)
    y = tg.nn.functional.gelu(x)
    assert y.dtype == np.float16 and tg.nn.GELU()(x).dtype == np.float16
    wide = tg.nn.functional.gelu(tg.tensor(XS.astype(np.float32))).numpy()
    np.testing.assert_array_equal(y.detach().numpy(), wide.astype(np.float16))
    y.sum().backward()
    assert x.grad.dtype == np.float16
    net = tg.nn.Sequential(tg.nn.Linear(4, 3), tg.nn.GELU(), tg.nn.Linear(3, 2)).half()
    assert net(tg.ones(2, 4, dtype=tg.float16)).dtype == np.float16


def test_half_gelu_matches_torch(torch):
    ours = tg.nn.functional.gelu(tg.tensor(XS)).numpy()
    theirs = torch.nn.functional.gelu(torch.tensor(XS)).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=1e-3,
                               atol=2e-5)
