"""Hooks on every module's calls (``nn.modules.module.register_module_forward_pre_hook``,
``register_module_forward_hook`` with ``with_kwargs``/``always_call``,
``register_module_full_backward_pre_hook``, ``register_module_full_backward_hook``) were
missing. They run before each module's own hooks of the same kind, as PyTorch's: the calls,
their order, what they see and what their return values replace, against PyTorch's; the
gradients with hooks against PyTorch and finite differences."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((3, 4))


def _pair():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    gm = tg.nn.Sequential(tg.nn.Linear(4, 3), tg.nn.Tanh(), tg.nn.Linear(3, 2))
    gm.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _np(t):
    return None if t is None else np.round(t.detach().numpy(), 10).tolist()


def _log(lib, m):
    M = lib.nn.modules.module
    log = []
    handles = [
        M.register_module_forward_pre_hook(lambda mod, a: log.append(("pre", type(mod).__name__, _np(a[0])))),
        M.register_module_forward_hook(lambda mod, a, o: log.append(("fwd", type(mod).__name__, _np(o)))),
        M.register_module_forward_hook(lambda mod, a, k, o: log.append(("kw", sorted(k))), with_kwargs=True),
        M.register_module_full_backward_pre_hook(
            lambda mod, go: log.append(("bpre", type(mod).__name__, [_np(g) for g in go]))),
        M.register_module_full_backward_hook(
            lambda mod, gi, go: log.append(("bwd", type(mod).__name__, [_np(g) for g in gi]))),
        m[2].register_forward_pre_hook(lambda mod, a: log.append(("own pre",))),
        m[2].register_forward_hook(lambda mod, a, o: log.append(("own fwd",))),
        m[2].register_full_backward_pre_hook(lambda mod, go: log.append(("own bpre",))),
        m[2].register_full_backward_hook(lambda mod, gi, go: log.append(("own bwd",))),
    ]
    x = lib.tensor(X, requires_grad=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m(x).sum().backward()
    finally:
        for h in handles:
            h.remove()
    log.append(("grad", _np(x.grad)))
    m(lib.tensor(X))  # (removed: nothing more logged)
    log.append(("end",))
    return log


def test_calls_order_and_values_as_torch():
    tm, gm = _pair()
    assert _log(tg, gm) == _log(torch, tm)


def _replaced(lib, m):
    M = lib.nn.modules.module
    h1 = M.register_module_forward_pre_hook(
        lambda mod, a: (a[0] * 2,) if isinstance(mod, lib.nn.Linear) else None)
    h2 = M.register_module_forward_hook(lambda mod, a, o: o + 1 if isinstance(mod, lib.nn.Tanh) else None)
    h3 = M.register_module_full_backward_hook(
        lambda mod, gi, go: (gi[0] * 3,) if isinstance(mod, lib.nn.Tanh) else None)
    x = lib.tensor(X, requires_grad=True)
    try:
        out = m(x)
        (out ** 2).sum().backward()
    finally:
        for h in (h1, h2, h3):
            h.remove()
    return out.detach().numpy(), x.grad.numpy(), [p.grad.numpy() for p in m.parameters()]


def test_returned_values_replace_as_torch():
    tm, gm = _pair()
    got, want = _replaced(tg, gm), _replaced(torch, tm)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    for a, b in zip(got[2], want[2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_always_call_on_error_and_gradcheck():
    for lib, m in zip((torch, tg), _pair()):
        seen = []
        h = lib.nn.modules.module.register_module_forward_hook(
            lambda mod, a, o: seen.append(o is None), always_call=True)
        try:
            with pytest.raises(RuntimeError):
                m(lib.tensor(np.ones((3, 5))))
        finally:
            h.remove()
        assert seen == [True, True]  # (the failing Linear, then the Sequential)
    _, gm = _pair()
    calls = []
    h = tg.nn.modules.module.register_module_forward_hook(lambda mod, a, o: calls.append(1))
    try:
        assert tg.autograd.gradcheck(gm, (tg.tensor(X, requires_grad=True),))
    finally:
        h.remove()
    assert calls
