"""tg.compile takes torch.compile's arguments and compiles a module into a module, as PyTorch's
``OptimizedModule``: the module's attributes, parameters under ``_orig_mod.``, training mode and
state dict shared with it; values and gradients of a training loop against PyTorch's eager
module."""

import copy
import pickle

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _distribution_checks_kept():
    """torch.compile's first call turns PyTorch's distribution argument checks off for the whole
    process (torch._dynamo's patching): restored, so later tests compare against them."""
    default = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(default)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 5))
Y = RNG.standard_normal((8, 2))


def _pair():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    gm = tg.nn.Sequential(tg.nn.Linear(5, 6), tg.nn.Tanh(), tg.nn.Linear(6, 2))
    gm.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _error(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return type(e), str(e)
    return None


@pytest.mark.parametrize("kw", [dict(mode="reduce-overhead"), dict(mode="max-autotune", fullgraph=True),
                                dict(dynamic=True), dict(dynamic=False, backend="eager"),
                                dict(backend="inductor", options={}), dict(mode="default")])
def test_arguments_taken(kw):
    f = tg.compile(lambda x: (x * 2).sin().sum(), **kw)
    x = tg.tensor(X, requires_grad=True)
    f(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(2 * X))
    deco = tg.compile(**kw)(lambda x: x.exp())
    np.testing.assert_allclose(deco(tg.tensor(X)).numpy(), np.exp(X))


@pytest.mark.parametrize("model, kw", [(lambda x: x, dict(mode="bogus")),
                                       (lambda x: x, dict(mode="default", options={"a": 1})),
                                       (3, {})])
def test_arguments_refused_as_torch(model, kw):
    want = _error(lambda: torch.compile(model, **kw))
    got = _error(lambda: tg.compile(model, **kw))
    assert want is not None and got == want
    # the decorator form checks them when applied
    deco = tg.compile(**kw)
    assert torch.compile(**kw) is not None
    if callable(model):
        assert _error(lambda: deco(model)) == _error(lambda: torch.compile(**kw)(model)) == want


def test_disable_returns_the_function():
    def f(x):
        return x
    assert tg.compile(f, disable=True) is f
    m = tg.nn.Linear(2, 2)
    assert tg.compile(m, disable=True) is m
    assert tg.compile(disable=True)(f) is f


def test_compiled_module_is_a_module():
    tm, gm = _pair()
    tc, gc = torch.compile(tm), tg.compile(gm)
    assert type(gc).__name__ == type(tc).__name__ == "OptimizedModule"
    assert isinstance(gc, tg.nn.Module)
    assert repr(gc) == repr(tc)
    assert list(gc.state_dict()) == list(tc.state_dict())
    assert [n for n, _ in gc.named_parameters()] == [n for n, _ in tc.named_parameters()]
    assert gc._orig_mod is gm and len(gc) == len(tc) == 3
    assert gc._orig_mod[0] is gm[0]
    gc.eval()
    tc.eval()
    assert (gc.training, gm.training, gm[0].training) == (tc.training, tm.training, tm[0].training) == (False,) * 3
    gm.train()
    tm.train()
    assert gc.training is tc.training is True
    gc.note = 3
    tc.note = 3
    assert gm.note == tm.note == 3
    del gc.note
    assert not hasattr(gm, "note")
    with pytest.raises(AttributeError):
        gc.missing


def test_compiled_module_trains_as_torch():
    tm, gm = _pair()
    tc, gc = torch.compile(tm, backend="eager"), tg.compile(gm)
    topt = torch.optim.SGD(tc.parameters(), lr=0.1, momentum=0.9)
    gopt = tg.optim.SGD(gc.parameters(), lr=0.1, momentum=0.9)
    for i in range(5):
        topt.zero_grad()
        gopt.zero_grad()
        x = X + 0.1 * i
        lt = torch.nn.functional.mse_loss(tc(torch.tensor(x)), torch.tensor(Y))
        lg = tg.nn.functional.mse_loss(gc(tg.tensor(x)), tg.tensor(Y))
        lt.backward()
        lg.backward()
        topt.step()
        gopt.step()
        np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-12)
    for (n, a), (_, b) in zip(tm.named_parameters(), gm.named_parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-11, err_msg=n)
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-10, err_msg=n)
    sd = {k: tg.tensor(v.detach().numpy()) for k, v in tc.state_dict().items()}
    assert repr(gc.load_state_dict(sd)) == repr(tc.load_state_dict(tc.state_dict()))


def test_compiled_module_copies_and_gradcheck():
    _, gm = _pair()
    gc = tg.compile(gm)
    x = tg.tensor(X)
    for other in (copy.deepcopy(gc), pickle.loads(pickle.dumps(gc))):
        assert type(other).__name__ == "OptimizedModule"
        assert other._orig_mod[0].weight is not gm[0].weight
        np.testing.assert_allclose(other(x).detach().numpy(), gc(x).detach().numpy())
    assert tg.autograd.gradcheck(lambda v: gc(v), (tg.tensor(X[:2], requires_grad=True),))
