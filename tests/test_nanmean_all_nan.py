"""nanmean over a slice that is all NaN: its value is NaN and its entries' gradient is NaN,
as PyTorch's (nansum(x) / count: (g / 0) * 0); NaN entries of other slices get 0."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

NAN = np.nan
CASES = [
    (np.array([[NAN, NAN], [1.0, NAN]]), 1, False),
    (np.array([NAN, NAN]), None, False),
    (np.array([[NAN, 2.0], [NAN, NAN], [NAN, 3.0]]), 0, True),
    (np.array([[NAN, 2.0], [NAN, NAN], [NAN, 3.0]]), (0, 1), False),
    (np.array([[NAN, 2.0], [NAN, NAN], [NAN, 3.0]]), -1, True),
    (np.full((2, 3, 2), NAN), (0, 2), False),
    (np.array([[[NAN, 1.0], [NAN, NAN]], [[NAN, NAN], [NAN, NAN]]]), (1, 2), False),
    (np.zeros((0, 3)), 0, False),
    (np.array([[1.0, 2.0], [3.0, NAN]]), 1, False),
]


def _run(L, a, dim, keepdim, dtype, create_graph, through_log, method):
    x = L.tensor(a.astype(dtype), requires_grad=True)
    with warnings.catch_warnings():  # (log of a negative: a NaN made by an op)
        warnings.simplefilter("ignore")
        v = (x * 2 - 1).log() if through_log else x
    args = () if dim is None else (dim,)
    kw = {} if dim is None else {"keepdim": keepdim}
    y = v.nanmean(*args, **kw) if method else L.nanmean(v, *args, **kw)
    g = L.full_like(y, 3.0)
    gx, = L.autograd.grad(y, x, g, create_graph=create_graph)
    return y.detach().numpy(), gx.detach().numpy(), gx.requires_grad


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("through_log", [False, True])
def test_nanmean_gradient_as_pytorch(case, dtype, create_graph, through_log):
    a, dim, keepdim = CASES[case]
    if through_log:
        a = np.where(np.isnan(a), -1.0, a + 1.0)  # (log(2x - 1) of -1: NaN)
    for method in (False, True):
        got = _run(tg, a, dim, keepdim, dtype, create_graph, through_log, method)
        want = _run(torch, a, dim, keepdim, dtype, create_graph, through_log, method)
        for g, w in zip(got[:2], want[:2]):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=1e-6, equal_nan=True)
        assert got[2] == want[2]


def test_numpy_nanmean_all_nan_slice():
    x = tg.tensor([[NAN, NAN], [1.0, NAN]], requires_grad=True)
    y = np.nanmean(x, axis=1)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [NAN, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [[NAN, NAN], [1.0, 0.0]])
