"""Views that change nothing (``v.t()`` and ``v.T`` of a 1-D or 0-d tensor, a 0-d transpose,
``expand`` to the tensor's own shape) are new view tensors, as PyTorch's: they returned the
tensor itself, so the result was a leaf without a node and shared its hooks and grad state.
``flatten`` with nothing to merge returns the tensor itself, as PyTorch's; ``mH``/``adjoint``
of a 0-d tensor are its conjugate (PyTorch warns) where they raised."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

CASES = {  # fn(lib, v 1-D, s 0-d, x 2-D) -> the view
    "1d_t": lambda L, v, s, x: v.t(),
    "1d_torch_t": lambda L, v, s, x: L.t(v),
    "1d_T": lambda L, v, s, x: v.T,
    "0d_t": lambda L, v, s, x: s.t(),
    "0d_T": lambda L, v, s, x: s.T,
    "0d_transpose": lambda L, v, s, x: s.transpose(0, -1),
    "1d_transpose_same": lambda L, v, s, x: v.transpose(0, 0),
    "expand_same": lambda L, v, s, x: v.expand(3),
    "expand_as_same": lambda L, v, s, x: x.expand_as(x),
    "expand_0d": lambda L, v, s, x: s.expand(()),
    "flatten_same_dim": lambda L, v, s, x: x.flatten(1, 1),
    "flatten_1d": lambda L, v, s, x: v.flatten(),
    "ravel_1d": lambda L, v, s, x: v.ravel(),
    "mH_0d": lambda L, v, s, x: s.mH,
    "H_0d": lambda L, v, s, x: s.H,
    "adjoint_0d": lambda L, v, s, x: L.adjoint(s),
}


def _state(L, name):
    v = L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)
    s = L.tensor(2.0, dtype=L.float64, requires_grad=True)
    x = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = CASES[name](L, v, s, x)
    node = y.grad_fn
    node = None if node is None else (type(node).__name__ if L is not tg else node.name())
    src = next(t for t in (v, s, x) if t.shape == y.shape and (y is t or y._base is t))
    (y * y * 3).sum().backward()
    return [y is src, y._base is src, y.is_leaf, node, src.grad.numpy().tolist()]


@pytest.mark.parametrize("name", sorted(CASES))
def test_identity_views_as_pytorch(name):
    torch = pytest.importorskip("torch")
    assert _state(tg, name) == _state(torch, name)


def test_a_view_of_a_leaf_is_no_leaf_and_shares_storage():
    v = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for y in (v.t(), v.T, v.expand(3)):
        assert y is not v and not y.is_leaf and y._base is v
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            y.mul_(2)
    w = v.detach().clone()
    u = w.t()
    u[0] = 9.0
    assert w.tolist() == [9.0, 2.0, 3.0] and u._version == w._version == 1
    s = tg.tensor(2.0, requires_grad=True)
    (g,) = tg.autograd.grad((s.t() * s.T * s.transpose(0, -1)).sum(), s)
    assert g.item() == pytest.approx(12.0)
    with pytest.raises(IndexError, match="expected to be in range of \\[-1, 0\\], but got 1"):
        s.transpose(0, 1)
    with pytest.warns(UserWarning, match="Tensor.mH is deprecated on 0-D tensors"):
        assert s.mH is s
    c = tg.tensor(1 + 2j)
    with pytest.warns(UserWarning, match="adjoint\\(\\) is deprecated on 0-D tensors"):
        assert c.adjoint().item() == 1 - 2j
