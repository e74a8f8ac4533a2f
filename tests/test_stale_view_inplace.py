"""An in-place op on a view made before its base last changed (through another view) must
build on the base's current history: v1 = b[1]; v2 = b[:, 2]; v1.mul_(3); v2.add_(...) gave
d/db[1, 2] from the value before v1.mul_ (the value itself was right)."""
import numpy as np
import pytest

import tapegrad as tg

D = np.arange(24.0).reshape(4, 6) / 7 + 0.3
W = np.cos(np.arange(24) + 0.5).reshape(4, 6)

OPS = {
    "mul_": lambda v, L: v.mul_(2.5),
    "add_view_operand": lambda v, L: v.add_(v[:1] * 2),
    "clamp_": lambda v, L: v.clamp_(0.5, 3.0),
    "pow_": lambda v, L: v.pow_(2),
    "exp_": lambda v, L: v.exp_(),
    "iadd_slice": lambda v, L: v[1:3].__iadd__(1.0),
    "addcmul_": lambda v, L: v.addcmul_(v[:1] * 1, v[1:2] * 2),
    "masked_fill_": lambda v, L: v.masked_fill_(v.detach() > 2, 0.0),
    "div_": lambda v, L: v.div_(3.0),
}


def _program(L, op):
    def f(x):
        b = x * 1
        v1, v2 = b[1], b[:, 2]  # two views, v2 made before v1 changes the base
        v1.mul_(3.0)
        OPS[op](v2, L)
        return (b * L.tensor(W)).sum()
    return f


@pytest.mark.parametrize("op", list(OPS))
def test_stale_view_in_place_gradient_is_right(op):
    x = tg.tensor(D, requires_grad=True)
    assert tg.autograd.gradcheck(_program(tg, op), (x,))
    assert tg.autograd.gradgradcheck(_program(tg, op), (x,))


@pytest.mark.parametrize("op", list(OPS))
def test_stale_view_in_place_matches_torch(op):
    torch = pytest.importorskip("torch")
    grads = []
    for L in (tg, torch):
        x = L.tensor(D, dtype=L.float64, requires_grad=True)
        _program(L, op)(x).backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.parametrize("make", ["select", "t", "slice", "view", "diagonal", "unsqueeze"])
def test_regenerated_view_node_is_as_strided(make):
    # PyTorch regenerates a view changed in place (or whose base was) as an as_strided of its
    # base: that node's name, with the base's node after it
    mk = {"select": lambda b: b[0], "t": lambda b: b.t(), "slice": lambda b: b[:, 1:],
          "view": lambda b: b.view(-1), "diagonal": lambda b: b.diagonal(),
          "unsqueeze": lambda b: b.unsqueeze(0)}[make]
    x = tg.ones(2, 3, dtype=tg.float64, requires_grad=True)
    b = x * 1
    v = mk(b)
    v.mul_(3)
    assert v.grad_fn.name() == "AsStridedBackward0"
    copy_slices = "torch::autograd::CopySlices"  # (PyTorch's name())
    assert v.grad_fn.next_functions[0][0].name() == b.grad_fn.name() == copy_slices
    c = x * 1
    w = mk(c)
    c.mul_(3)
    assert (w * 1).grad_fn.next_functions[0][0].name() == "AsStridedBackward0"
