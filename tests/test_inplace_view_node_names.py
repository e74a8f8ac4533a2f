"""The in-place shape ops are PyTorch's in-place nodes: t_ TBackward1, unsqueeze_
UnsqueezeBackward1, transpose_/swapdims_/swapaxes_ TransposeBackward1, squeeze_ SqueezeBackward3
(4 with a dim, 5 with dims), where tapegrad named them as the out-of-place views (TBackward0,
...); next functions, shapes, versions and gradients unchanged. Against PyTorch, and by
finite differences."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CALLS = [("squeeze_", ()), ("squeeze_", (1,)), ("squeeze_", ((1,),)), ("squeeze_", (0,)),
         ("unsqueeze_", (-1,)), ("transpose_", (0, 2)), ("swapdims_", (0, 1)),
         ("swapaxes_", (0, 1))]


def _outcome(L, op, args):
    x = L.tensor(np.arange(6.0).reshape(2, 1, 3), requires_grad=True)
    y = x * 1
    getattr(y, op)(*args)
    node = y.grad_fn
    out = (node.name(), [f.name() if f else None for f, _ in node.next_functions],
           tuple(y.shape), y._version)
    (y * L.tensor(np.arange(1.0, 7.0).reshape(tuple(y.shape)))).sum().backward()
    return out, x.grad.numpy()


@pytest.mark.parametrize("op,args", CALLS, ids=str)
def test_as_torch(op, args):
    got, want = _outcome(tg, op, args), _outcome(torch, op, args)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])


def test_t_twice_and_no_history():
    for L in (tg, torch):
        y = L.tensor(np.ones((2, 3)), requires_grad=True) * 2
        y.t_()
        y.t_()
        assert y.grad_fn.name() == "TBackward1"
        assert y.grad_fn.next_functions[0][0].name() == "TBackward1"
        z = L.tensor(np.ones((2, 3)))
        z.t_()
        assert z.grad_fn is None


def test_gradcheck():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

    def f(t):
        y = t * t
        y.t_()
        y.unsqueeze_(0)
        return y * tg.tensor(np.arange(6.0).reshape(1, 3, 2))
    assert tg.autograd.gradcheck(f, (x,))
