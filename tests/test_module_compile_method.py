"""``Module.compile()`` (PyTorch's in-place compilation of a module's calls) was missing
(AttributeError). It compiles the module's forward with tg.compile and returns None; the module
keeps its state-dict keys, repr and hooks. Values and gradients of a few training steps against
PyTorch's compiled module, and finite differences."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((6, 5))


def _pair():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    gm = tg.nn.Sequential(tg.nn.Linear(5, 4), tg.nn.ReLU(), tg.nn.Linear(4, 2))
    gm.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _count(seen, *args):
    seen.append(1)


def test_compile_in_place_as_torch():
    tm, gm = _pair()
    assert gm.compile() is None and tm.compile(backend="eager") is None
    assert list(gm.state_dict()) == list(tm.state_dict())
    assert repr(gm) == repr(tm)
    seen = []
    gm.register_forward_hook(lambda *a: _count(seen))
    topt = torch.optim.Adam(tm.parameters(), lr=0.01)
    gopt = tg.optim.Adam(gm.parameters(), lr=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (replayed: no eager fallback)
        for i in range(4):
            tx, gx = torch.tensor(X + i, requires_grad=True), tg.tensor(X + i, requires_grad=True)
            topt.zero_grad()
            gopt.zero_grad()
            lt, lg = (tm(tx) ** 2).mean(), (gm(gx) ** 2).mean()
            lt.backward()
            lg.backward()
            topt.step()
            gopt.step()
            np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-12)
            np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    assert seen == [1] * 4  # the module's hooks run on every call
    for (n, a), (_, b) in zip(tm.named_parameters(), gm.named_parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-10, err_msg=n)
    _, fresh = _pair()
    fresh.compile()
    assert tg.autograd.gradcheck(fresh, (tg.tensor(X[:2], requires_grad=True),))


def test_compile_arguments_and_copies():
    _, gm = _pair()
    with pytest.raises(RuntimeError, match="Unrecognized mode=bogus"):
        gm.compile(mode="bogus")
    gm.compile(mode="max-autotune", dynamic=False)
    gm.compile()  # (compiling again compiles the module's own forward)
    assert gm.forward.__wrapped__.__func__ is type(gm).forward
    want = gm(tg.tensor(X)).detach().numpy()
    for other in (copy.deepcopy(gm), pickle.loads(pickle.dumps(gm))):
        assert other.forward.__wrapped__.__self__ is other
        np.testing.assert_allclose(other(tg.tensor(X)).detach().numpy(), want)
