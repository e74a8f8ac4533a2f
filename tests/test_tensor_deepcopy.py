"""copy.deepcopy of tensors, as PyTorch's: leaves only, .grad and user attributes copied,
memory shared between a tensor and its views shared between their copies."""

import copy

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(tg), fn(torch)


def test_non_leaf_refused_with_torch_message():
    for make in (lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) * 2,
                 lambda lib: lib.tensor([1.0, 2.0], requires_grad=True)[:1]):
        with pytest.raises(RuntimeError) as theirs:
            copy.deepcopy(make(torch))
        with pytest.raises(RuntimeError) as ours:
            copy.deepcopy(make(tg))
        assert str(ours.value) == str(theirs.value)


def test_grad_copied_and_independent():
    def run(lib):
        p = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (p * p).sum().backward()
        q = copy.deepcopy(p)
        q.grad.add_(5.0)
        q.add_(1.0) if not q.requires_grad else q.data.add_(1.0)
        return (q.requires_grad, q.is_leaf, q.grad.numpy().tolist(), p.grad.numpy().tolist(),
                p.detach().numpy().tolist())
    ours, theirs = _both(run)
    assert ours == theirs


def test_views_keep_sharing_inside_one_deepcopy():
    def run(lib):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)
        a, b, c, d = copy.deepcopy([x, x[:, 1:], x.t(), x])
        a.add_(10.0)
        return (b.numpy().tolist(), c.numpy().tolist(), a is d, x.numpy().tolist(), c.stride())
    ours, theirs = _both(run)
    assert ours == theirs


def test_user_attributes_copied():
    def run(lib):
        x = lib.tensor([1.0])
        x.tag = {"k": [1, 2]}
        y = copy.deepcopy(x)
        y.tag["k"].append(3)
        return y.tag, x.tag
    ours, theirs = _both(run)
    assert ours == theirs


def test_module_with_tied_weights_and_its_optimizer():
    lin = tg.nn.Linear(3, 3)
    net = tg.nn.Sequential(lin, tg.nn.Linear(3, 3))
    net[1].weight = lin.weight
    opt = tg.optim.SGD(net.parameters(), lr=0.1)
    net2, opt2 = copy.deepcopy((net, opt))
    assert net2[0].weight is net2[1].weight
    assert opt2.param_groups[0]["params"][0] is net2[0].weight
    with tg.no_grad():
        net2[0].weight.add_(1.0)
    assert not np.allclose(net2[0].weight.detach().numpy(), lin.weight.detach().numpy())
