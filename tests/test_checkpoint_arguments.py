"""checkpoint's and checkpoint_sequential's arguments as PyTorch takes them: keyword arguments
(and ``context_fn``/``debug``) refused by the reentrant variant, which is the default;
checkpoint_sequential's chunks of ``len // segments`` with the rest run unchecked, its unknown
keywords refused, its own warning. Values and gradients against PyTorch and finite
differences."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")
from torch.utils import checkpoint as tcheck  # noqa: E402

X = np.random.default_rng(0).standard_normal((3, 4))


def _fn(a, b, scale=1.0):
    return (a * b).sin() * scale


def _error(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return type(e), str(e)
    return None


@pytest.mark.parametrize("kw", [dict(use_reentrant=True, scale=2.0),
                                dict(scale=2.0, other=1),
                                dict(use_reentrant=True, debug=True),
                                dict(use_reentrant=True, context_fn=lambda: (None, None))])
def test_reentrant_refuses_keywords(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _error(lambda: tcheck.checkpoint(_fn, torch.tensor(X, requires_grad=True),
                                                torch.tensor(X), **kw))
        got = _error(lambda: checkpoint(_fn, tg.tensor(X, requires_grad=True), tg.tensor(X),
                                        **kw))
    assert want is not None and got == want


def test_non_reentrant_takes_keywords():
    ta, tb = torch.tensor(X, requires_grad=True), torch.tensor(X + 1, requires_grad=True)
    ga, gb = tg.tensor(X, requires_grad=True), tg.tensor(X + 1, requires_grad=True)
    to = tcheck.checkpoint(_fn, ta, tb, scale=2.0, use_reentrant=False)
    go = checkpoint(_fn, ga, gb, scale=2.0, use_reentrant=False)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    to.sum().backward()
    go.sum().backward()
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    assert tg.autograd.gradcheck(lambda a, b: checkpoint(_fn, a, b, scale=2.0, use_reentrant=False),
                                 (tg.tensor(X, requires_grad=True), tg.tensor(X + 1, requires_grad=True)))


@pytest.mark.parametrize("n, segments", [(5, 2), (4, 2), (4, 4), (6, 4), (3, 1), (2, 3)])
@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_sequential_chunks(n, segments, reentrant):
    torch.manual_seed(0)
    tl = [torch.nn.Linear(4, 4, dtype=torch.float64) for _ in range(n)]
    gl = [tg.nn.Linear(4, 4) for _ in range(n)]
    calls = {"torch": [], "tg": []}
    for i, (t, g) in enumerate(zip(tl, gl)):
        g.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
        t.register_forward_hook(lambda *a, i=i: calls["torch"].append(i))
        g.register_forward_hook(lambda *a, i=i: calls["tg"].append(i))
    tx, gx = torch.tensor(X, requires_grad=True), tg.tensor(X, requires_grad=True)
    tseq, gseq = torch.nn.Sequential(*tl), tg.nn.Sequential(*gl)
    want = _error(lambda: tcheck.checkpoint_sequential(tseq, segments, tx, use_reentrant=reentrant))
    got = _error(lambda: checkpoint_sequential(gseq, segments, gx, use_reentrant=reentrant))
    assert got == want
    if want is not None:
        return
    calls["torch"].clear(), calls["tg"].clear()
    to = tcheck.checkpoint_sequential(tseq, segments, tx, use_reentrant=reentrant)
    go = checkpoint_sequential(gseq, segments, gx, use_reentrant=reentrant)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    (to ** 2).sum().backward()
    (go ** 2).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    for t, g in zip(tl, gl):
        np.testing.assert_allclose(g.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-10)
    # the forward of the checkpointed layers runs again in backward, the last chunk's once
    assert sorted(set(calls["tg"])) == sorted(set(calls["torch"]))
    last = set(range((n // segments) * (segments - 1), n))
    assert [i for i in calls["tg"] if i in last] == sorted(last)


def test_checkpoint_sequential_keywords_and_warning():
    seq = tg.nn.Sequential(tg.nn.Linear(4, 4), tg.nn.Tanh())
    tseq = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh())
    x = tg.tensor(X, requires_grad=True)
    got = _error(lambda: checkpoint_sequential(seq, 2, x, use_reentrant=False, scale=1))
    want = _error(lambda: tcheck.checkpoint_sequential(tseq, 2, torch.tensor(X), use_reentrant=False, scale=1))
    assert got == want == (ValueError, "Unexpected keyword arguments: scale")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = checkpoint_sequential(seq, 2, x, preserve_rng_state=False)
    assert [str(w.message).split(":")[0] for w in seen] == \
        ["torch.utils.checkpoint.checkpoint_sequential"]
    np.testing.assert_allclose(out.detach().numpy(), seq(x).detach().numpy())
