"""tg.utils.checkpoint: gradients equal the plain ones (first and second order), only the
inputs are kept, keyword arguments and non-tensor arguments pass through."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.utils.checkpoint import checkpoint, checkpoint_sequential


def _mlp(ws, x, every=0):
    def block(h, *chunk):
        for w in chunk:
            h = tg.tanh(h @ w)
        return h

    if not every:
        return block(x, *ws).sum()
    h = x
    for i in range(0, len(ws), every):
        h = checkpoint(block, h, *ws[i:i + every], use_reentrant=False)
    return h.sum()


def _params(n=12, d=8, seed=0):
    rng = np.random.default_rng(seed)
    ws = [tg.tensor(rng.standard_normal((d, d)) / np.sqrt(d), requires_grad=True)
          for _ in range(n)]
    x = tg.tensor(rng.standard_normal((4, d)), requires_grad=True)
    return ws, x


def test_checkpoint_gradients_equal_plain():
    ws, x = _params()
    plain = tg.autograd.grad(_mlp(ws, x), ws + [x])
    ckpt = tg.autograd.grad(_mlp(ws, x, every=4), ws + [x])
    for a, b in zip(plain, ckpt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
    ws[0].grad = None
    _mlp(ws, x, every=3).backward()
    np.testing.assert_allclose(ws[0].grad.numpy(), plain[0].numpy(), rtol=1e-12)


def test_checkpoint_second_order_and_kwargs():
    x = tg.tensor([0.3, -0.7, 1.1], requires_grad=True)

    def f(a, scale=1.0, power=2):
        return (tg.sin(a) * scale) ** power

    g, = tg.autograd.grad(checkpoint(f, x, scale=2.0, power=3, use_reentrant=False).sum(), x,
                          create_graph=True)
    h, = tg.autograd.grad(g.sum(), x)
    g0, = tg.autograd.grad(f(x, scale=2.0, power=3).sum(), x, create_graph=True)
    h0, = tg.autograd.grad(g0.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), g0.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), h0.numpy(), rtol=1e-12)


def test_checkpoint_keeps_fewer_saved_bytes():
    ws, x = _params(n=20, d=32)

    def held(every):
        before = tg.autograd.tape_stats()["bytes"]
        loss = _mlp(ws, x, every)
        grown = tg.autograd.tape_stats()["bytes"] - before
        loss.backward()
        return grown

    plain, ckpt = held(0), held(5)
    assert ckpt * 5 < plain, (ckpt, plain)


def test_checkpoint_sequential_and_warning():
    net = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.Tanh(), tg.nn.Linear(4, 2))
    x = tg.randn(5, 3)
    ref = tg.autograd.grad(net(x).sum(), list(net.parameters()))
    got = tg.autograd.grad(checkpoint_sequential(net, 2, x, use_reentrant=False).sum(),
                           list(net.parameters()))
    for a, b in zip(ref, got):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="use_reentrant"):
        checkpoint(lambda a: a * 2, tg.ones(2, requires_grad=True))


def test_checkpoint_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as tcp

    rng = np.random.default_rng(3)
    w = rng.standard_normal((3, 3))
    x = rng.standard_normal((2, 3))
    tw, tx = torch.tensor(w, requires_grad=True), torch.tensor(x, requires_grad=True)
    gw, gx = tg.tensor(w, requires_grad=True), tg.tensor(x, requires_grad=True)
    tcp(lambda a, b: torch.tanh(a @ b).pow(2), tx, tw, use_reentrant=False).sum().backward()
    checkpoint(lambda a, b: tg.tanh(a @ b) ** 2, gx, gw, use_reentrant=False).sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def _grads(params):
    out = [p.grad.numpy().copy() for p in params]
    for p in params:
        p.grad = None
    return out


def test_gradients_reach_tensors_the_function_captures():
    """Parameters of a module, leaves and earlier results read from a closure get their
    gradients through a checkpoint, also when its explicit input needs none (data): the
    checkpoint finds what the function reads (they were silently dropped before)."""
    rng = np.random.default_rng(3)
    model = tg.nn.Sequential(tg.nn.Linear(5, 7), tg.nn.Tanh(), tg.nn.Linear(7, 7), tg.nn.Tanh(),
                             tg.nn.Linear(7, 2))
    params = list(model.parameters())
    x = tg.tensor(rng.standard_normal((3, 5)))  # data: no gradient of its own
    (model(x) ** 2).sum().backward()
    want = _grads(params)
    (checkpoint(model, x, use_reentrant=False) ** 2).sum().backward()
    for g, w in zip(_grads(params), want):
        np.testing.assert_allclose(g, w, rtol=1e-13)
    (checkpoint_sequential(model, 2, x, use_reentrant=False) ** 2).sum().backward()
    for g, w in zip(_grads(params), want):
        np.testing.assert_allclose(g, w, rtol=1e-13)

    a = tg.tensor(rng.standard_normal(4), requires_grad=True)
    c = tg.tensor(rng.standard_normal(4), requires_grad=True)
    h = c.exp()  # an earlier result: its gradient must flow on to c
    y = checkpoint(lambda v: (v.sin() * h + c).sum(), a, use_reentrant=False)
    ga, gc = tg.autograd.grad(y, (a, c))
    np.testing.assert_allclose(ga.numpy(), np.cos(a.detach().numpy()) * h.detach().numpy())
    np.testing.assert_allclose(gc.numpy(), np.sin(a.detach().numpy()) * h.detach().numpy() + 1)

    # second order through a captured parameter
    w = tg.tensor(rng.standard_normal(4), requires_grad=True)
    y = checkpoint(lambda v: ((v * w) ** 3).sum(), a, use_reentrant=False)
    gw, = tg.autograd.grad(y, w, create_graph=True)
    hw, = tg.autograd.grad(gw.sum(), w)
    av, wv = a.detach().numpy(), w.detach().numpy()
    np.testing.assert_allclose(gw.detach().numpy(), 3 * av ** 3 * wv ** 2, rtol=1e-12)
    np.testing.assert_allclose(hw.numpy(), 6 * av ** 3 * wv, rtol=1e-12)


def test_captured_parameters_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    W0, x0 = rng.standard_normal((6, 6)), rng.standard_normal((2, 6))
    W = tg.tensor(W0, requires_grad=True)
    Wt = torch.tensor(W0, requires_grad=True)
    x, xt = tg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    out = checkpoint(lambda h: tg.tanh(h @ W) @ W, x, use_reentrant=False)
    outt = torch.utils.checkpoint.checkpoint(lambda h: torch.tanh(h @ Wt) @ Wt, xt,
                                             use_reentrant=False)
    (out ** 2).sum().backward()
    (outt ** 2).sum().backward()
    np.testing.assert_allclose(W.grad.numpy(), Wt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_nested_checkpoints_and_keyword_tensors_match_plain():
    """A checkpoint inside a checkpointed function recomputes inside the outer recomputation
    (the stand-ins compose); a tensor passed by keyword is an input like the others."""
    rng = np.random.default_rng(5)
    W = tg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    params = [W, b, x]

    def inner(h, bias=None):
        return tg.tanh(h @ W + bias)

    ((inner(x, bias=b) * b) ** 2).sum().backward()
    want = _grads(params)
    outer = checkpoint(lambda h: checkpoint(inner, h, bias=b, use_reentrant=False) * b, x,
                       use_reentrant=False)
    (outer ** 2).sum().backward()
    for g, w in zip(_grads(params), want):
        np.testing.assert_allclose(g, w, rtol=1e-13)


def test_leaves_in_a_plain_backward_and_in_every_other_kind():
    """In a plain ``backward()`` the recomputation adds into its leaves' ``.grad`` itself; the
    result must equal the plain backward's on top of an existing ``.grad``, for a parameter
    shared by two checkpoints and used outside them, while ``backward(inputs=...)``,
    ``autograd.grad`` and hooks (which must see the total once) see no difference."""
    rng = np.random.default_rng(6)
    W = tg.tensor(rng.standard_normal((4, 4)) / 2, requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    params = [W, b, x]

    def block(h):
        return tg.tanh(h @ W + b)

    def loss(ck):
        h = ck(block, x) if ck else block(x)
        h = ck(block, h) if ck else block(h)
        return ((h @ W) ** 2).sum()  # W also outside the checkpoints

    def run(ck):
        return loss((lambda f, h: checkpoint(f, h, use_reentrant=False)) if ck else None)

    for p in params:
        p.grad = tg.ones_like(p)  # accumulated on top of
    run(False).backward()
    want = _grads(params)
    for p in params:
        p.grad = tg.ones_like(p)
    run(True).backward()
    for g, w in zip(_grads(params), want):
        np.testing.assert_allclose(g, w, rtol=1e-13)

    # backward(inputs=...): only W gets a gradient, b and x keep none
    run(True).backward(inputs=[W])
    assert b.grad is None and x.grad is None
    np.testing.assert_allclose(W.grad.numpy(), want[0] - 1, rtol=1e-12)
    W.grad = None
    # autograd.grad: nothing accumulated anywhere
    gW, gb = tg.autograd.grad(run(True), [W, b])
    assert all(p.grad is None for p in params)
    np.testing.assert_allclose(gW.numpy(), want[0] - 1, rtol=1e-12)
    np.testing.assert_allclose(gb.numpy(), want[1] - 1, rtol=1e-12)

    # hooks see the total once: a leaf hook and a post-accumulate hook on W
    seen, after = [], []
    W.register_hook(lambda g: seen.append(g.numpy().copy()))
    W.register_post_accumulate_grad_hook(lambda p: after.append(p.grad.numpy().copy()))
    run(True).backward()
    assert len(seen) == 1 and len(after) == 1
    np.testing.assert_allclose(seen[0], want[0] - 1, rtol=1e-12)
    np.testing.assert_allclose(after[0], want[0] - 1, rtol=1e-12)


def test_consecutive_checkpoints_record_on_one_segment():
    # the discovering run has a segment of its own; the caller's stays current, so a loop of
    # checkpoints keeps its custom records together (one sweep), with the plain gradients
    ws, x = _params(n=4)
    h, outs = x, []
    for w in ws:
        h = checkpoint(lambda a, b: tg.tanh(a @ b), h, w, use_reentrant=False)
        outs.append(h)
    assert outs[1]._seg is outs[2]._seg is outs[3]._seg
    got = tg.autograd.grad(h.sum(), ws + [x])
    h = x
    for w in ws:
        h = tg.tanh(h @ w)
    want = tg.autograd.grad(h.sum(), ws + [x])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


def test_function_that_backpropagates_through_the_callers_graph():
    # fn sweeps the caller's segment itself (which retires it): that segment is not made
    # current again, and the records made afterwards go to a fresh one
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * x  # on the caller's segment

    def fn(a):
        (g,) = tg.autograd.grad(y.sum(), x, retain_graph=True)  # sweeps y's segment
        return a * g.detach()

    z = checkpoint(fn, x, use_reentrant=False)
    assert y._seg.retired and z._seg is not y._seg
    np.testing.assert_allclose(z.detach().numpy(), 2 * x.detach().numpy() ** 2)
    w = checkpoint(lambda a: a.sin(), z, use_reentrant=False)
    assert w._seg is z._seg and not z._seg.retired  # the fresh segment is resumed in turn
