"""The 'modified by an inplace operation' error names the value that PyTorch's backward finds
modified first: the newest node's. Where a value saved as an op's output was also saved as a
later op's input and then changed in place (x = a.exp(); y = x.sin(); x.add_(1)), the error
named the older op's saved output ('output 0 of Exp') where PyTorch's SinBackward0 runs first
and names the input's op now ('output 0 of Add', 'torch::autograd::CopySlices' after a write
through a view). Both sweeps (create_graph too), against PyTorch's words."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _setitem(m, a):
    x = a.exp()
    y = x.sin()
    x[0, 0] = 5.0
    return y, x


def _add(m, a):
    x = a.exp()
    y = x.sin()
    x.add_(1)
    return y, x


def _view_write(m, a):
    x = a * 2
    y = x.cos()
    x[0].mul_(2)
    return y, x


def _pow(m, a):
    x = a.tanh()
    y = x ** 3
    x.add_(1)
    return y, x


def _chain(m, a):
    x = a.exp()
    y = x.exp()
    z = y.log()
    x.mul_(2)
    y.mul_(3)
    return z, (x, y)


def _two_readers(m, a):
    x = a.exp()
    y = x.sin()
    z = x.cos()
    x.add_(1)
    return y + z, x


BUILDS = [_setitem, _add, _view_write, _pow, _chain, _two_readers]


def _message(L, build, create_graph):
    a = L.tensor(np.arange(1.0, 13.0).reshape(3, 4) / 10, requires_grad=True)
    y, keep = build(L, a)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward(create_graph=create_graph)
    return str(e.value).split(" Hint:")[0].replace("tapegrad.", "torch."), keep


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.__name__)
def test_message_as_torch(build, create_graph):
    assert _message(tg, build, create_graph)[0] == _message(torch, build, create_graph)[0]
