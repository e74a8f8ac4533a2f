"""A compiled function called under no_grad that reads a view of a parameter (``weight.t()`` in
``linear``, ``w[0]``, ``w.view``) ran eagerly with a warning ('t: requires_grad differs from
eager'): such a view reports requires_grad=True, as PyTorch's. It is now replayed; a function
returning such a view still runs eagerly (its output would not be the same kind of tensor).
Values against PyTorch's eager module, and gradients of the same compiled module with grad."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((8, 5))


def _pair():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    gm = tg.nn.Sequential(tg.nn.Linear(5, 6), tg.nn.Tanh(), tg.nn.Linear(6, 2))
    gm.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _replayed(f, *args):
    """Call ``f`` three times (recording, replays) under no_grad, failing on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tg.no_grad():
            return [f(*a) for a in args]


def test_module_under_no_grad_is_replayed():
    tm, gm = _pair()
    compiled = tg.compile(gm)
    xs = [X + i for i in range(3)]
    outs = _replayed(compiled, *[(tg.tensor(x),) for x in xs])
    for x, o in zip(xs, outs):
        with torch.no_grad():
            want = tm(torch.tensor(x))
        assert o.requires_grad is want.requires_grad is False
        np.testing.assert_allclose(o.numpy(), want.numpy(), rtol=1e-12)
    # the same compiled module with grad: its own program, gradients as PyTorch's
    tx, gx = torch.tensor(X, requires_grad=True), tg.tensor(X, requires_grad=True)
    (tm(tx) ** 2).sum().backward()
    (compiled(gx) ** 2).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    for (n, a), (_, b) in zip(tm.named_parameters(), gm.named_parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-10, err_msg=n)
    assert tg.autograd.gradcheck(compiled, (tg.tensor(X[:2], requires_grad=True),))


def test_views_of_a_parameter_under_no_grad():
    w = tg.tensor(np.arange(1.0, 16.0).reshape(3, 5), requires_grad=True)
    tw = torch.tensor(np.arange(1.0, 16.0).reshape(3, 5), requires_grad=True)

    def f(lib, weight, x):
        return (x @ weight.t()).tanh() * weight[0].sum() + x.view(-1)[:3].sum() * weight.view(-1)[4]

    compiled = tg.compile(lambda x: f(tg, w, x))
    outs = _replayed(compiled, *[(tg.tensor(X + i),) for i in range(3)])
    for i, o in enumerate(outs):
        with torch.no_grad():
            want = f(torch, tw, torch.tensor(X + i))
        assert o.requires_grad is False
        np.testing.assert_allclose(o.numpy(), want.numpy(), rtol=1e-12)


def test_returning_such_a_view_runs_eagerly():
    w = tg.tensor(np.arange(6.0), requires_grad=True)
    compiled = tg.compile(lambda x: (w[1:], x * 2))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with tg.no_grad():
            outs = [compiled(tg.tensor(X)) for _ in range(2)]
    assert any("a view made under no_grad" in str(m.message) for m in seen)
    for v, y in outs:  # eager's: a view that requires grad, without history
        assert v.requires_grad and v.grad_fn is None and not y.requires_grad
        np.testing.assert_allclose(v.detach().numpy(), np.arange(1.0, 6.0))
