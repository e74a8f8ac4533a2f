"""unique / unique_consecutive of a tensor that requires grad: PyTorch's outputs are on the
graph (requires_grad, a named node) and their backward raises; tapegrad's follow."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

A = np.array([[1., 2., 2.], [1., 2., 2.], [0., 5., 5.]])

CASES = [
    lambda m, x: m.unique(x),
    lambda m, x: x.unique(sorted=False),
    lambda m, x: m.unique(x, return_inverse=True, return_counts=True)[0],
    lambda m, x: m.unique(x, dim=1),
    lambda m, x: x.unique(dim=0, return_counts=True)[0],
    lambda m, x: m.unique_consecutive(x),
    lambda m, x: x.unique_consecutive(dim=1),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_unique_outputs_on_graph_and_backward_raises(case):
    f = CASES[case]
    u = f(tg, tg.tensor(A, requires_grad=True))
    tu = f(torch, torch.tensor(A, requires_grad=True))
    np.testing.assert_array_equal(u.detach().numpy(), tu.detach().numpy())
    assert u.requires_grad is tu.requires_grad is True
    assert u.is_leaf is tu.is_leaf is False
    assert u.grad_fn.name() == tu.grad_fn.name()
    with pytest.raises(NotImplementedError) as e:
        torch.autograd.backward((tu * 2).sum())
    with pytest.raises(NotImplementedError, match=str(e.value).replace(".", r"\.")):
        (u * 2).sum().backward()
    # without a gradient to compute, none: no grad mode, or an input that requires none
    with tg.no_grad():
        assert not f(tg, tg.tensor(A, requires_grad=True)).requires_grad
    assert f(tg, tg.tensor(A)).grad_fn is None


def test_unique_counts_and_inverse_carry_no_grad():
    x = tg.tensor(A, requires_grad=True)
    u, inv, cnt = tg.unique(x, return_inverse=True, return_counts=True)
    assert not inv.requires_grad and not cnt.requires_grad
    _, tinv, tcnt = torch.unique(torch.tensor(A, requires_grad=True), return_inverse=True,
                                 return_counts=True)
    np.testing.assert_array_equal(inv.numpy(), tinv.numpy())
    np.testing.assert_array_equal(cnt.numpy(), tcnt.numpy())
