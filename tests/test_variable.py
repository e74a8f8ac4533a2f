"""tg.autograd.Variable, PyTorch's legacy wrapper, as PyTorch 2.13 keeps it: a detached leaf
sharing the data, requiring grad as asked; every tensor is an instance."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import Variable


def test_variable_as_torch():
    torch = pytest.importorskip("torch")
    rows = []
    for lib in (tg, torch):
        V = lib.autograd.Variable
        t = lib.ones(2)
        w = V(t, requires_grad=True)
        y = V(w * 2)
        rows.append((w is t, w.requires_grad, t.requires_grad, w.is_leaf,
                     w.data_ptr() == t.data_ptr(), isinstance(t, V), issubclass(type(t), V),
                     y.requires_grad, y.grad_fn is None, V(t).requires_grad))
        with pytest.warns(UserWarning, match="volatile was removed"):
            V(t, volatile=True)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            V([1.0])
    assert rows[0] == rows[1]


def test_old_style_training_step():
    x = Variable(tg.tensor([1.0, 2.0, 3.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_lr_scheduler_subclass_of_the_old_name():
    """A custom schedule written against _LRScheduler (older tutorials), as in PyTorch."""
    class Halving(tg.optim.lr_scheduler._LRScheduler):
        def get_lr(self):
            return [base / 2 ** self.last_epoch for base in self.base_lrs]

    w = tg.zeros(1, requires_grad=True)
    opt = tg.optim.SGD([w], lr=1.0)
    sched = Halving(opt)
    lrs = []
    for _ in range(3):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [0.5, 0.25, 0.125]
    assert isinstance(sched, tg.optim.lr_scheduler.LRScheduler)
