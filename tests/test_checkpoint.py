"""tg.utils.checkpoint: gradients equal the plain ones (first and second order), only the
inputs are kept, keyword arguments and non-tensor arguments pass through."""

import threading

import numpy as np
import pytest

import tapegrad as tg
from tests.thread_runner import run_threads
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


def test_checkpoint_keeps_records_without_values_until_backward():
    # each checkpoint keeps its function's records on a segment of its own, without the
    # values they saved; the backward recomputes them and sweeps those very records
    ws, x = _params(n=4)
    h, outs = x, []
    for w in ws:
        h = checkpoint(lambda a, b: tg.tanh(a @ b), h, w, use_reentrant=False)
        outs.append(h)
    segs = [o._seg for o in outs]
    assert len({id(s) for s in segs}) == 4
    for s in segs:
        assert s.refill is not None and s.n > 0
        assert all(a is None for a in s.avals)
        assert all(getattr(e, "saved", None) is None for e in s.pyaux)
    assert outs[0].grad_fn.name() == "TanhBackward0"  # the function's own graph, as in PyTorch
    got = tg.autograd.grad(h.sum(), ws + [x])
    assert all(s.refill is None for s in segs)
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
    w = checkpoint(lambda a: a.sin(), z, use_reentrant=False)  # records on a fresh one
    assert w._seg is not z._seg and w._seg is not y._seg
    np.testing.assert_allclose(w.detach().numpy(), np.sin(z.detach().numpy()))


def test_function_differentiating_a_captured_tensor_with_history():
    """The function differentiates with respect to ``h``, a tensor with history it reads
    from the caller (a derivative inside a checkpointed block, as physics-informed losses
    take): it runs a backward itself, so it becomes one custom Function whose recomputation
    reads a stand-in for ``h``; ``grad(y, h)`` there means that stand-in (PyTorch: the same
    numbers, its recomputation reads ``h``)."""
    x0, a0 = np.array([0.5, 1.0, -0.7]), np.array([2.0, 3.0, 0.5])
    x = tg.tensor(x0, requires_grad=True)
    h = x * 2.0

    def fn(a):
        (g,) = tg.autograd.grad((h ** 3).sum(), h, create_graph=True)
        return (g * a).sum()

    a = tg.tensor(a0, requires_grad=True)
    checkpoint(fn, a, use_reentrant=False).backward()
    np.testing.assert_allclose(a.grad.numpy(), 3 * (2 * x0) ** 2)
    np.testing.assert_allclose(x.grad.numpy(), 12 * (2 * x0) * a0)
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    tx = torch.tensor(x0, requires_grad=True)
    th = tx * 2.0
    ta = torch.tensor(a0, requires_grad=True)

    def tfn(b):
        (g,) = torch.autograd.grad((th ** 3).sum(), th, create_graph=True)
        return (g * b).sum()

    torch_checkpoint(tfn, ta, use_reentrant=False).backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)


def _chain(ws, x, every):
    h = x
    for i in range(0, len(ws), every):
        h = checkpoint(lambda a, *c: _block(a, c), h, *ws[i:i + every], use_reentrant=False)
    return h


def _block(h, ws):
    for w in ws:
        h = tg.tanh(h @ w)
    return h


def test_random_numbers_are_drawn_again_for_the_recomputation():
    # dropout inside: the recomputation draws the same mask as the forward did
    rng = np.random.default_rng(7)
    W = tg.tensor(rng.standard_normal((6, 6)), requires_grad=True)
    x = tg.tensor(rng.standard_normal((4, 6)))

    def f(a):
        return tg.nn.functional.dropout(tg.tanh(a @ W), p=0.5) * 3.0

    tg.manual_seed(11)
    ref = f(x)
    (g_ref,) = tg.autograd.grad((ref ** 2).sum(), W)
    tg.manual_seed(11)
    out = checkpoint(f, x, use_reentrant=False)
    tg.randn(3)  # draws in between must not matter
    (g,) = tg.autograd.grad((out ** 2).sum(), W)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_allclose(g.numpy(), g_ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("replayed", [True, False])
def test_random_draws_in_nested_checkpoints(replayed):
    """The state before each function's first draw is what its recomputation starts from,
    whether the draw is its own or a nested checkpoint's, replayed or run again; a function
    that draws nothing leaves the generator alone."""
    rng = np.random.default_rng(8)
    W = tg.tensor(rng.standard_normal((5, 5)), requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 5)))
    tail = (lambda z: z) if replayed else (lambda z: z * 3.0)  # (a product with a number)

    def inner(a):
        return tail(tg.nn.functional.dropout(tg.tanh(a @ W), p=0.4))

    def outer(a, ck):
        b = tg.tanh(a @ W) + tg.randn(3, 5)
        c = checkpoint(inner, b, use_reentrant=False) if ck else inner(b)
        return tail(tg.sigmoid(c @ W))

    tg.manual_seed(5)
    (g_ref,) = tg.autograd.grad((outer(x, False) ** 2).sum(), W)
    tg.manual_seed(5)
    out = checkpoint(outer, x, True, use_reentrant=False)
    tg.randn(4)  # draws in between must not matter
    (g,) = tg.autograd.grad((out ** 2).sum(), W)
    np.testing.assert_allclose(g.numpy(), g_ref.numpy(), rtol=1e-12)

    tg.manual_seed(6)
    state = tg.creation._rng.bit_generator.state
    checkpoint(lambda a: tg.tanh(a @ W), x, use_reentrant=False).sum().backward()
    assert tg.creation._rng.bit_generator.state == state


def test_input_changed_in_place_before_backward_raises():
    w = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    x = tg.tensor([1.0, 2.0, 3.0])  # data: read, not differentiated
    y = checkpoint(lambda a: (a * w).sin(), x, use_reentrant=False)
    x.add_(1.0)
    for _ in range(2):  # again on a second try: the values were never recomputed
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    # a tensor with history the function reads from a closure, changed in place
    c = w * 2.0
    y = checkpoint(lambda a: (a * c).sin(), x, use_reentrant=False)
    c.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # a leaf it reads from a closure, changed in place under no_grad
    v = tg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = checkpoint(lambda a: (a * v).sin(), x, use_reentrant=False)
    with tg.no_grad():
        v.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_recomputation_that_records_other_operations_raises():
    calls = []

    def f(a):  # (a constant factor: a record the backward runs the function again for)
        calls.append(1)
        return (a * 2.0).sin() if len(calls) == 1 else a.cos().exp()

    x = tg.tensor([0.3, 0.4], requires_grad=True)
    y = checkpoint(f, x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="Recomputed values have different metadata"):
        y.sum().backward()


def test_hooks_retained_graph_and_a_second_backward():
    ws, x = _params(n=6, d=5)
    h = x
    seen, kept = [], []

    def block(a, w1, w2):
        mid = tg.tanh(a @ w1)
        kept.append(mid)  # (a hook lives as long as its tensor, with or without checkpoints)
        mid.register_hook(lambda g: seen.append(g.numpy().copy()))
        return tg.tanh(mid @ w2)

    for i in range(0, 6, 2):
        h = checkpoint(block, h, ws[i], ws[i + 1], use_reentrant=False)
    loss = h.sum()
    g1 = tg.autograd.grad(loss, ws, retain_graph=True)
    g2 = tg.autograd.grad(loss, ws, retain_graph=False)
    want = tg.autograd.grad(_block(x, ws).sum(), ws)
    for a, b, c in zip(g1, g2, want):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-12)
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-12)
    assert len(seen) == 6  # the forward's hooks, once per backward (not the recomputation's)
    with pytest.raises(RuntimeError, match="second time"):
        tg.autograd.grad(loss, ws)


def test_function_larger_than_a_segment_stays_on_one():
    # thousands of records (more than a segment's check interval): still one kept segment
    x = tg.tensor([0.1, 0.2, 0.3], requires_grad=True)

    def f(a):
        for _ in range(1500):
            a = a * 1.0001 + 0.001
        return a

    y = checkpoint(f, x, use_reentrant=False)
    assert y._seg.refill is not None and y._seg.n > 3000
    (g,) = tg.autograd.grad(y.sum(), x)
    (want,) = tg.autograd.grad(f(x).sum(), x)
    np.testing.assert_allclose(g.numpy(), want.numpy(), rtol=1e-12)


def test_forward_mode_and_batched_gradients_through_checkpoints():
    ws, x0 = _params(n=4, d=3)
    x = x0.detach()

    def f(v):
        return _chain(ws, v, 2).sum(dim=1)

    def plain(v):
        return _block(v, ws).sum(dim=1)

    t = tg.ones_like(x)
    _, jv = tg.func.jvp(f, (x,), (t,))
    _, jv_ref = tg.func.jvp(plain, (x,), (t,))
    np.testing.assert_allclose(jv.detach().numpy(), jv_ref.detach().numpy(), rtol=1e-12)
    jac = tg.func.jacrev(f)(x).detach()
    jac_ref = tg.func.jacrev(plain)(x).detach()
    np.testing.assert_allclose(jac.numpy(), jac_ref.numpy(), rtol=1e-12, atol=1e-14)
    xr = x.clone().requires_grad_(True)
    out = f(xr)
    (gb,) = tg.autograd.grad(out, xr, tg.eye(4), is_grads_batched=True)
    np.testing.assert_allclose(gb.numpy(), jac_ref.numpy(), rtol=1e-12, atol=1e-14)


def test_checkpoint_chain_matches_torch_with_captured_weights():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as tcp

    rng = np.random.default_rng(8)
    W0 = [rng.standard_normal((5, 5)) / 2 for _ in range(4)]
    x0 = rng.standard_normal((3, 5))
    Wt = [torch.tensor(w, requires_grad=True) for w in W0]
    Wg = [tg.tensor(w, requires_grad=True) for w in W0]
    ht, hg = torch.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True)
    xt, xg = ht, hg
    for i in (0, 2):
        ht = tcp(lambda a, i=i: torch.tanh(torch.tanh(a @ Wt[i]) @ Wt[i + 1]), ht,
                 use_reentrant=False)
        hg = checkpoint(lambda a, i=i: tg.tanh(tg.tanh(a @ Wg[i]) @ Wg[i + 1]), hg,
                        use_reentrant=False)
    (ht ** 3).sum().backward()
    (hg ** 3).sum().backward()
    for a, b in zip(Wg + [xg], Wt + [xt]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


class _Exp(tg.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        out = a.exp()
        ctx.save_for_backward(out)  # its own output: unpacked on the record it was saved with
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


def test_custom_function_inside_a_checkpoint():
    rng = np.random.default_rng(9)
    W = tg.tensor(rng.standard_normal((4, 4)) / 2, requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def f(a):
        return _Exp.apply(tg.tanh(a @ W)) * 2.0

    for create in (False, True):
        y = checkpoint(f, x, use_reentrant=False)
        gW, gx = tg.autograd.grad((y ** 2).sum(), (W, x), create_graph=create)
        wW, wx = tg.autograd.grad((f(x) ** 2).sum(), (W, x), create_graph=create)
        np.testing.assert_allclose(gW.detach().numpy(), wW.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(gx.detach().numpy(), wx.detach().numpy(), rtol=1e-12)
    (hx,) = tg.autograd.grad(gx.sum(), x)
    (hw,) = tg.autograd.grad(wx.sum(), x)
    np.testing.assert_allclose(hx.numpy(), hw.numpy(), rtol=1e-10)


def test_backwards_on_two_threads_share_one_recomputation():
    ws, x = _params(n=6, d=6)
    loss = (_chain(ws, x, 2) ** 2).sum()
    want = tg.autograd.grad((_block(x, ws) ** 2).sum(), ws)
    got = []
    run_threads([lambda: got.append(tg.autograd.grad(loss, ws, retain_graph=True))] * 3)
    assert len(got) == 3
    for g in got:
        for a, b in zip(g, want):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_finite_differences_and_hessian_through_a_checkpoint():
    x = tg.tensor([0.3, -0.7, 1.1], requires_grad=True)

    def ck(a):
        return checkpoint(lambda b: b.sin() * b.exp(), a, use_reentrant=False)

    assert tg.autograd.gradcheck(ck, (x,))
    assert tg.autograd.gradgradcheck(ck, (x,))
    h = tg.func.hessian(lambda a: ck(a).sum())(x.detach())
    h_ref = tg.func.hessian(lambda a: (a.sin() * a.exp()).sum())(x.detach())
    np.testing.assert_allclose(h.detach().numpy(), h_ref.detach().numpy(), rtol=1e-12,
                               atol=1e-14)


def test_nested_checkpoint_read_after_other_records_matches_plain():
    # the outer function records before the inner checkpoint and reads its output after: its
    # records span two segments, so the outer one is the custom Function around the inner
    rng = np.random.default_rng(10)
    W = tg.tensor(rng.standard_normal((4, 4)) / 2, requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def inner(h):
        return tg.tanh(h @ W)

    def outer(h):
        return checkpoint(inner, h.sin(), use_reentrant=False) @ W

    ((inner(x.sin()) @ W) ** 2).sum().backward()
    want = _grads([W, x])
    y = checkpoint(outer, x, use_reentrant=False)
    assert y._seg.refill is None  # (the custom-Function form)
    (y ** 2).sum().backward()
    for g, w in zip(_grads([W, x]), want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


# ---- replay: values recomputed from the kept records, without running the function ----------

def _dense_block(h, w, b, mask):
    """Ops the replay covers: products, a broadcast bias, activations, binary ops with a
    recorded operand and with a constant one (a mask that needs no gradient)."""
    z = h @ w + b
    a = tg.sigmoid(z) * tg.relu(z) - tg.exp(-tg.tanh(z))
    return tg.maximum(a, z / (1.0 + z * z)) * mask


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_replay_gives_the_values_of_running_the_function_again(dtype, monkeypatch):
    """Bit for bit: the same gradients as recomputing by running the function, which runs
    only once."""
    from tapegrad.utils import checkpoint_replay

    rng = np.random.default_rng(3)
    d = 16
    ws = [tg.tensor(rng.standard_normal((d, d)).astype(dtype) / 4, requires_grad=True)
          for _ in range(3)]
    bs = [tg.tensor(rng.standard_normal(d).astype(dtype), requires_grad=True) for _ in range(3)]
    masks = [tg.tensor((rng.random((6, d)) > 0.3).astype(dtype)) for _ in range(3)]
    x = tg.tensor(rng.standard_normal((6, d)).astype(dtype))
    calls = []

    def block(h, w, b, mask):
        calls.append(1)
        return _dense_block(h, w, b, mask)

    def grads():
        h = x
        for w, b, m in zip(ws, bs, masks):
            h = checkpoint(block, h, w, b, m, use_reentrant=False)
        return tg.autograd.grad((h * h).sum(), ws + bs)

    replayed = grads()
    assert len(calls) == 3  # the forward's runs only
    monkeypatch.setattr(checkpoint_replay, "replay", lambda seg, args: False)
    rerun = grads()
    assert len(calls) == 9  # forward and recomputation
    for a, b in zip(replayed, rerun):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    h = x
    for w, b, m in zip(ws, bs, masks):
        h = _dense_block(h, w, b, m)
    plain = tg.autograd.grad((h * h).sum(), ws + bs)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    for a, b in zip(replayed, plain):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


def test_replay_declines_what_it_cannot_recompute():
    """Reductions, reshapes, a product with a number, an integer mask beside float32 values,
    an input captured from another segment: the function runs again, gradients as without
    checkpointing."""
    rng = np.random.default_rng(4)
    w = tg.tensor(rng.standard_normal((5, 5)), requires_grad=True)
    w32 = tg.tensor(rng.standard_normal((5, 5)).astype(np.float32), requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    imask = tg.tensor(rng.integers(0, 2, (3, 5)))
    cases = [
        lambda h, other: tg.tanh(h @ w).sum(0, keepdim=True) * h,
        lambda h, other: tg.tanh(h @ w).reshape(5, 3).t(),
        lambda h, other: tg.tanh(h @ w) / 3.0,
        lambda h, other: tg.tanh(h.float() @ w32) * imask,
        lambda h, other: tg.tanh(h @ w) * other,
    ]
    for f in cases:
        calls = []

        def g(h, f=f):
            calls.append(1)
            return f(h, other)

        other = (x * 1.0).tanh()  # a tensor with history the function captures
        got = tg.autograd.grad((checkpoint(g, x, use_reentrant=False) ** 2).sum(), [w, w32, x],
                               allow_unused=True)
        assert len(calls) == 2
        other = (x * 1.0).tanh()
        want = tg.autograd.grad((f(x, other) ** 2).sum(), [w, w32, x], allow_unused=True)
        for a, b in zip(got, want):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_replay_still_reports_inputs_changed_in_place():
    rng = np.random.default_rng(5)
    w = tg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    x = tg.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    h = (x * 1.0).tanh()
    y = checkpoint(lambda a: tg.tanh(a @ w), h, use_reentrant=False)
    with tg.no_grad():
        w.mul_(2.0)  # a leaf the replay would read
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    w2 = tg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    y = checkpoint(lambda a: tg.tanh(a @ w2), h, use_reentrant=False)
    h.mul_(3.0)  # the argument, recorded in place: another record than the one imported
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("fn", [lambda a: (a * 1.5).sin() * a,  # replayed from the records
                                lambda a: a.sin().sum() * a])  # (a sum: run again)
def test_argument_with_history_changed_in_place_under_no_grad_raises(fn):
    # the change keeps the argument's record: only its version shows it (PyTorch saves its
    # checkpoint's arguments and raises; the recomputation would read the new values)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = checkpoint(fn, h, use_reentrant=False)
    with tg.no_grad():
        h.add_(1.0)
    message = ("one of the variables needed for gradient computation has been modified by an "
               "inplace operation: [tapegrad.DoubleTensor [2]], which is output 0 of Mul, is at "
               "version 1; expected version 0 instead.")
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert str(info.value).startswith(message)
    assert x.grad is None


def test_argument_changed_in_place_with_grad_names_the_in_place_op():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = checkpoint(lambda a: (a + 1.0).sin(), h, use_reentrant=False)
    h.add_(1.0)  # recorded: h's producer is now the addition (PyTorch's AddBackward0)
    with pytest.raises(RuntimeError, match=r"which is output 0 of Add, is at version 1"):
        y.sum().backward()


def test_replay_with_retained_graph_and_second_order():
    ws, x = _params(n=6, d=5)
    loss = _mlp(ws, x, every=2)
    g1 = tg.autograd.grad(loss, ws, retain_graph=True)
    g2 = tg.autograd.grad(loss, ws, create_graph=True)
    want = tg.autograd.grad(_mlp(ws, x), ws, create_graph=True)
    for a, b, c in zip(g1, g2, want):
        np.testing.assert_allclose(a.numpy(), c.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(b.detach().numpy(), c.detach().numpy(), rtol=1e-12)
    v = [tg.ones_like(w) for w in ws]
    hv = tg.autograd.grad(sum((a * u).sum() for a, u in zip(g2, v)), ws)
    hv_want = tg.autograd.grad(sum((a * u).sum() for a, u in zip(want, v)), ws)
    for a, b in zip(hv, hv_want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def _declared_elementwise_ops():
    from tapegrad.ops import backward_ops, elementwise

    return sorted({f.opdef.name: f for mod in (elementwise, backward_ops)
                   for f in vars(mod).values()
                   if getattr(getattr(f, "opdef", None), "array_forward", None) is not None
                   }.items())


@pytest.mark.parametrize("name, fn", _declared_elementwise_ops())
def test_every_replayed_op_matches_running_the_function_again(name, fn, monkeypatch):
    from tapegrad.utils import checkpoint_replay

    rng = np.random.default_rng(6)
    w = tg.tensor(np.abs(rng.standard_normal((4, 4))) + 0.1, requires_grad=True)
    x = tg.tensor(np.abs(rng.standard_normal((3, 4))) + 0.5, requires_grad=True)
    unary = fn.opdef.kind == "unary"
    calls = []

    def f(h):
        calls.append(1)
        z = h @ w
        return fn(z) if unary else fn(z, h)

    def grads():
        return tg.autograd.grad((checkpoint(f, x, use_reentrant=False) ** 2).sum(), [w, x])

    replayed = grads()
    assert len(calls) == 1, name
    monkeypatch.setattr(checkpoint_replay, "replay", lambda seg, args: False)
    rerun = grads()
    assert len(calls) == 3
    for a, b in zip(replayed, rerun):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_recomputation_that_waits_for_a_thread_recomputing_its_own_checkpoint():
    # the function's recomputation waits for a worker whose gradient goes through another
    # checkpoint: the two recomputations must not wait for each other (they shared one lock)
    w = tg.tensor([0.5, 1.5], requires_grad=True)

    def worker(out):
        inner = checkpoint(lambda a: (a * a).sin() * a.sum(), w, use_reentrant=False)
        out.append(tg.autograd.grad(inner.sum(), w)[0])

    def fn(x):
        out = []
        t = threading.Thread(target=worker, args=(out,), daemon=True)
        t.start()
        t.join(5)
        assert out, "the worker's recomputation waited for this one"
        return (x * out[0]).sin() * x.sum()

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    checkpoint(fn, x, use_reentrant=False).sum().backward()
    wv, xv = np.array([0.5, 1.5]), np.array([1.0, 2.0])
    g = 2 * wv * np.cos(wv * wv) * wv.sum() + np.sin(wv * wv).sum()
    expected = g * np.cos(xv * g) * xv.sum() + np.sin(xv * g).sum()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
