"""F.pad in constant mode: a new tensor whatever the amounts (no padding, or only cropping, gave
the input itself or a view of it, so an in-place op on the result wrote into the input), and
one node as PyTorch's (ConstantPadNdBackward0, the input's node its next function) instead of
the concatenation's; values and gradients against PyTorch, and by finite differences."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

PADS = [(0, 0), (-1, 0), (0, 0, -1, 0), (1, -1), (-1, 1, 0, 0), (0, 0, 1, 0), (2, 1, 1, 3),
        (1, 1, 1, 1, 1, 1), (-1, -1, 0, 0, 0, 0)]


def _run(L, pad):
    x = L.tensor(np.arange(24.0).reshape(2, 3, 4))
    y = L.nn.functional.pad(x, pad, value=2.5)
    y.add_(1)
    leaf = L.tensor(np.cos(np.arange(24.0)).reshape(2, 3, 4), requires_grad=True)
    z = L.nn.functional.pad(leaf * 3, pad, value=-1.0)
    node = z.grad_fn
    graph = node.name(), [(f.name() if f else None, i) for f, i in node.next_functions]
    z.backward(L.tensor(np.sin(np.arange(z.numel() * 1.0)).reshape(tuple(z.shape))))
    return x.numpy().copy(), x._version, y.numpy().copy(), graph, z.detach().numpy(), \
        leaf.grad.numpy()


@pytest.mark.parametrize("pad", PADS)
def test_constant_pad_as_torch(pad):
    got, want = _run(tg, pad), _run(torch, pad)
    np.testing.assert_array_equal(got[0], np.arange(24.0).reshape(2, 3, 4))  # input untouched
    assert got[1] == want[1] == 0
    np.testing.assert_array_equal(got[2], want[2])
    assert got[3] == want[3]
    np.testing.assert_allclose(got[4], want[4], rtol=1e-15)
    np.testing.assert_allclose(got[5], want[5], rtol=1e-12)


@pytest.mark.parametrize("pad", [(0, 0), (-1, 0), (1, -1, 2, 0)])
def test_constant_pad_gradcheck(pad):
    x = tg.tensor(np.cos(np.arange(12.0)).reshape(3, 4), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.pad(t, pad, value=0.5) ** 2, (x,))
