"""A retained non-leaf gradient is PyTorch's retains_grad hook's: the first gradient a copy
(``CloneBackward0`` under ``create_graph``), later ones added out of place. tapegrad kept the
double backward's own gradient tensor as ``.grad`` and added the next backward into it in
place, bumping a tensor that graph saved: ``(ga * ga).sum().backward()`` after
``ga, = grad(tanh(h), a, create_graph=True)`` with ``h.retain_grad()`` raised "modified by an
inplace operation" where PyTorch computes."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _program(lib, x, first_cg):
    a = lib.tensor(x, requires_grad=True)
    h = lib.sigmoid(a) + 0.0
    h.retain_grad()
    y = lib.tanh(h)
    ga, = lib.autograd.grad(y, a, lib.ones(len(x), dtype=a.dtype), create_graph=first_cg,
                             retain_graph=True)
    first = h.grad
    seen = (first.detach().numpy().copy(), first.grad_fn is None, first.requires_grad)
    out = [seen]
    try:
        (ga * ga).sum().backward() if first_cg else y.sum().backward()
    except RuntimeError as e:
        return out + [str(e)]
    out.append((h.grad.numpy().copy(), h.grad is first, first.detach().numpy().copy(),
                a.grad.numpy().copy()))
    return out


@pytest.mark.parametrize("n", [3, 70000])
@pytest.mark.parametrize("first_cg", [True, False])
def test_retained_grad_is_copied_then_added_out_of_place_as_pytorch(n, first_cg):
    x = np.random.default_rng(n).standard_normal(n) * 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = _program(tg, x, first_cg), _program(torch, x, first_cg)
    assert len(got) == len(want) == 2
    assert isinstance(want[1], tuple) and isinstance(got[1], tuple), (got[1], want[1])
    np.testing.assert_allclose(got[0][0], want[0][0], rtol=1e-12)
    assert got[0][1:] == want[0][1:]
    for g, w in zip(got[1], want[1]):
        if isinstance(w, np.ndarray):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-14)
        else:
            assert g == w
