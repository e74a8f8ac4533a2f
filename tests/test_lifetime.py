"""Memory and lifetime of the tape: loops, what a backward frees, backward through freed buffers.

Python's reference counting frees a tape segment nobody can reach; these tests pin that the tape
does not grow in loops, that a backward releases what it swept, and that segments chain.
"""

import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _config, tape

FREED = "Trying to backward through the graph a second time"


def _fresh_segment():
    """Make the next record start a new segment (after a monkeypatched cap, for example)."""
    if tape._local.seg is not None:
        tape.retire(tape._local.seg)


def _live_records():
    gc.collect()
    return tg.autograd.tape_stats()["records"]


# ---- loops ----------------------------------------------------------------------------------

def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_training_loop_runs_in_bounded_memory():
    """10^4 SGD steps: RSS and Python objects flat from step 1000 on; no traced growth at the end.

    RSS (cheap) covers the whole loop; tracemalloc (slow) a final window of 1000 steps, where a
    leak of 64 bytes per step would show.
    """
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((16, 4)))
    y = tg.tensor(np.tanh(x.numpy() @ np.array([0.5, -1.0, 0.25, 2.0])))
    w = tg.zeros(4, requires_grad=True)
    tape.close_current()  # iteration 0 starts a segment (not one an earlier test left open)
    kept = None
    rss, objs = [], []
    for i in range(10_000):
        if i == 9000:
            gc.collect()
            tracemalloc.start()
            traced0 = tracemalloc.get_traced_memory()[0]
        loss = ((tg.tanh(x @ w) - y) ** 2).mean()
        loss.backward()
        with tg.no_grad():
            w -= 0.2 * w.grad
        w.grad = None
        if i == 0:
            kept = loss  # one tensor from iteration 0 must not pin every later record
            first = loss.item()
        if i % 1000 == 0 and i >= 1000:
            rss.append(_rss())
            objs.append(len(gc.get_objects()))
    gc.collect()  # a full collection also empties CPython's free lists, which tracemalloc sees
    traced = tracemalloc.get_traced_memory()[0] - traced0
    tracemalloc.stop()
    assert w.is_leaf and loss.item() < 1e-3 < first  # it trained
    assert traced < 64_000, traced  # NumPy's own small caches settle within this
    assert max(rss) - rss[0] < 8 << 20, rss  # a leaked record per step would be ~10 MB
    assert max(objs) - objs[0] < 200, objs
    stats = tg.autograd.tape_stats()
    assert stats["segments"] <= 2 and stats["records"] < 64, stats  # iteration 0's segment only
    assert kept.requires_grad and kept.grad_fn is not None


def test_sgd_step_forms_keep_the_leaf():
    """Both SGD spellings users write update the leaf in place and keep it a leaf."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    w0 = w
    for _ in range(3):
        (w * w).sum().backward()
        with tg.no_grad():
            w -= 0.25 * w.grad
        w.grad = None
        (w * w).sum().backward()
        w.data -= 0.25 * w.grad
        w.grad = None
    assert w is w0 and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * 0.5 ** 6)


def test_eval_loop_without_no_grad_is_bounded():
    """Forgetting no_grad: outputs are dropped each step, so the tape must not grow."""
    w = tg.randn(8, 8, requires_grad=True)
    x = tg.randn(4, 8)
    counts = []
    for i in range(20_000):
        out = tg.tanh(x @ w).sum()  # the previous `out` is alive while this one records
        if i % 2000 == 1999:
            counts.append(_live_records())
    assert max(counts) <= 40_000, counts  # of 80_000 recorded
    assert tg.autograd.tape_stats()["segments"] <= 2
    del out


def test_eval_loop_keeping_old_outputs_stays_bounded():
    """Keeping iteration 0's output (and the last few) pins a segment, not the whole history."""
    w = tg.randn(3, requires_grad=True)
    first = None
    recent = []
    for i in range(30_000):
        out = (w * 2.0).exp().sum()
        if first is None:
            first = out
        recent = (recent + [out])[-3:]
    assert _live_records() <= 60_000  # of 120_000 recorded
    first.backward()  # the kept tensors still backprop correctly
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.exp(2 * w.detach().numpy()))
    w.grad = None
    recent[0].backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.exp(2 * w.detach().numpy()))


def test_unreachable_segment_is_freed():
    x = tg.randn(1000, requires_grad=True)
    y = (x * 2.0).sin()
    seg = weakref.ref(y._seg)
    del y
    _fresh_segment()  # what the next periodic check does for a segment nobody refers to
    gc.collect()
    assert seg() is None
    assert tg.autograd.tape_stats()["records"] == 0


def test_big_saved_arrays_force_a_new_segment(monkeypatch):
    """A loop saving big arrays is bounded by bytes, not only by record counts."""
    monkeypatch.setattr(tape, "_CHECK_BYTES", 1 << 20)
    monkeypatch.setattr(tape, "_ROLL_BYTES", 1 << 20)
    _fresh_segment()
    w = tg.randn(64 * 1024, requires_grad=True)  # 512 KiB per saved array
    keep = []
    for _ in range(40):
        keep.append((w * w).sum())  # all kept: only the bytes rule can close segments
    stats = tg.autograd.tape_stats()
    assert stats["segments"] >= 10, stats
    sum(keep).backward()
    np.testing.assert_allclose(w.grad.numpy(), 80 * w.detach().numpy())


# ---- what a backward frees ------------------------------------------------------------------

def test_backward_releases_saved_arrays():
    # (its records alone on a segment: one an earlier test left open, e.g. by a backward that
    # raised before freeing, keeps that test's unreached saved arrays, as it should)
    _fresh_segment()
    x = tg.randn(10_000, requires_grad=True)
    h = x * 2.0
    saved = weakref.ref(h._arr())  # sin saves its input's array by reference
    z = h.sin().sum()
    del h
    gc.collect()
    assert saved() is not None
    before = tg.autograd.tape_stats()["bytes"]
    assert before >= 80_000
    z.backward()
    gc.collect()
    assert saved() is None
    assert all(a is None for a in z._seg.avals)
    assert tg.autograd.tape_stats()["bytes"] < before - 70_000
    with pytest.raises(RuntimeError, match=FREED):
        z.backward()


def test_retain_graph_keeps_saved_arrays_until_the_last_backward():
    x = tg.randn(100, requires_grad=True)
    h = x * 2.0
    saved = weakref.ref(h._arr())
    z = h.sin().sum()
    del h
    z.backward(retain_graph=True)
    gc.collect()
    assert saved() is not None
    z.backward()
    gc.collect()
    assert saved() is None
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.cos(2 * x.detach().numpy()))


def test_backward_frees_only_the_records_it_reaches():
    _fresh_segment()  # (both graphs on one segment: not one an earlier test left near a check)
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    xv = x.detach().numpy().copy()
    a = (x * 2.0).sin()  # graph 1
    b = (x * 3.0).exp()  # graph 2, recorded in between on the same segment
    c = a.cos()  # graph 1 again, after graph 2
    d = b * b  # graph 2 again
    assert a._seg is b._seg is c._seg is d._seg
    b_saved = weakref.ref(b._arr())
    c.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(np.sin(2 * xv)) * np.cos(2 * xv) * 2)
    gc.collect()
    assert b_saved() is not None  # graph 2's saved values survive graph 1's backward
    x.grad = None
    d.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.exp(6 * xv), rtol=1e-12)
    with pytest.raises(RuntimeError, match=FREED):
        c.sum().backward()
    with pytest.raises(RuntimeError, match=FREED):
        d.sum().backward()


def test_records_after_a_backward_go_to_a_fresh_segment():
    x = tg.tensor(1.5, requires_grad=True)
    y = x.exp()
    y.backward()
    z = x.exp()
    assert z._seg is not y._seg
    z.backward()
    assert x.grad.item() == pytest.approx(2 * np.exp(1.5))


# ---- backward through freed buffers, retain_graph -------------------------------------------

def test_second_backward_through_freed_buffers_raises():
    b = tg.tensor(2.0, requires_grad=True)
    y = b * b
    y.backward()
    with pytest.raises(RuntimeError) as e:
        y.backward()
    assert str(e.value) == (
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
        "to backward through the graph a second time or if you need to access saved tensors "
        "after calling backward.")
    assert b.grad.item() == 4.0  # the failed backward accumulated nothing


def test_autograd_grad_twice_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    tg.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match=FREED):
        tg.autograd.grad(y, x)


def test_retain_graph_then_free():
    b = tg.tensor(2.0, requires_grad=True)
    y = b.exp()
    y.backward(retain_graph=True)
    y.backward()
    assert b.grad.item() == pytest.approx(2 * np.exp(2.0), rel=1e-15)
    with pytest.raises(RuntimeError, match=FREED):
        y.backward()


def test_no_error_when_nothing_was_saved():
    c = tg.tensor(2.0, requires_grad=True)
    y = c + 1
    y.backward()
    y.backward()
    assert c.grad.item() == 2.0
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    s = x.sum()
    s.backward()
    s.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_mul_by_python_scalar_twice():
    """PyTorch raises here (MulBackward0 saves the scalar); tapegrad keeps the constant in the
    tape's side table, saves nothing and gives the correct accumulated gradient instead."""
    c = tg.tensor(2.0, requires_grad=True)
    y = c * 3
    y.backward()
    y.backward()
    assert c.grad.item() == 6.0


def test_shared_subgraph_without_retain_raises():
    x = tg.tensor(1.0, requires_grad=True)
    y = x.exp()
    a = y * 2
    b = y * 3
    a.backward()
    with pytest.raises(RuntimeError, match=FREED):
        b.backward()


def test_retain_zero_then_backward_through_the_shared_node():
    """Retain the graph, zero_ the grad, backward again through the shared node."""
    x = tg.tensor(2.0, requires_grad=True)
    y = x ** 2
    z = tg.sin(y)
    y.backward(retain_graph=True)
    x.grad.zero_()
    z.backward()
    assert x.grad.item() == pytest.approx(np.cos(4.0) * 4.0, rel=1e-12)


# ---- segments chain --------------------------------------------------------------------------

def _long_program(x, w, n):
    """A chain mixing scalar, vector, matmul and indexing records, with long-range reuse."""
    h = x
    acc = None
    for i in range(n):
        h = tg.tanh(h @ w) + 0.1 * h.sin()
        if i % 3 == 0:
            h = h * x.exp()[0] + h[::-1] * 0.5
        acc = h.sum() if acc is None else acc + (h * h).mean()
    return acc + h[1:].sum() * x.sum()


def _grads(x, w, n, create_graph=False):
    out = _long_program(x, w, n)
    gx, gw = tg.autograd.grad(out, (x, w), create_graph=create_graph)
    return out, gx, gw


@pytest.mark.parametrize("cap", [7, 1, 2])
def test_segments_chain_across_the_cap(monkeypatch, cap):
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal(3) * 0.5, requires_grad=True)
    w = tg.tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)
    _fresh_segment()
    out1, gx1, gw1 = _grads(x, w, 30)
    assert out1._seg is not None
    monkeypatch.setattr(_config, "SEGMENT_CAP", cap)
    _fresh_segment()
    out2, gx2, gw2 = _grads(x, w, 30)
    assert out2._seg is not out1._seg
    np.testing.assert_allclose(out2.item(), out1.item(), rtol=1e-14)
    np.testing.assert_allclose(gx2.numpy(), gx1.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw2.numpy(), gw1.numpy(), rtol=1e-12)


def test_second_order_across_many_segments(monkeypatch):
    rng = np.random.default_rng(2)
    x = tg.tensor(rng.standard_normal(3) * 0.5, requires_grad=True)
    w = tg.tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)

    def hvp():
        _, gx, gw = _grads(x, w, 6, create_graph=True)
        v = tg.tensor([0.3, -0.2, 0.1])
        return tg.autograd.grad((gx * v).sum() + gw.sum(), (x, w))

    _fresh_segment()
    ref = hvp()
    monkeypatch.setattr(_config, "SEGMENT_CAP", 7)
    _fresh_segment()
    got = hvp()
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-11)


def test_hooks_retain_grad_and_nonleaf_inputs_across_segments(monkeypatch):
    monkeypatch.setattr(_config, "SEGMENT_CAP", 7)
    _fresh_segment()
    x = tg.tensor([0.2, 0.4, -0.6], requires_grad=True)
    mid = x.sin()
    for _ in range(10):
        mid = mid * 1.1 + 0.01
    mid.retain_grad()
    seen = []
    mid.register_hook(lambda g: seen.append(g.numpy().copy()))
    out = (mid.exp() * 2.0).sum()
    for _ in range(10):
        out = out * 0.5
    (g_mid,) = tg.autograd.grad(out, mid, retain_graph=True)
    out.backward()
    expect = 2.0 * np.exp(mid.detach().numpy()) * 0.5 ** 10
    np.testing.assert_allclose(g_mid.numpy(), expect, rtol=1e-13)
    # autograd.grad also fills a retained .grad (PyTorch does), then backward adds to it
    np.testing.assert_allclose(mid.grad.numpy(), 2 * expect, rtol=1e-13)
    np.testing.assert_allclose(seen[-1], expect, rtol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), expect * 1.1 ** 10 * np.cos(x.detach().numpy()),
                               rtol=1e-12)


def test_many_segments_each_freed_after_backward(monkeypatch):
    monkeypatch.setattr(_config, "SEGMENT_CAP", 5)
    _fresh_segment()
    x = tg.tensor(0.3, requires_grad=True)
    y = x
    for _ in range(100):
        y = y.sin() * 1.1
    segs = tg.autograd.tape_stats()["segments"]
    assert segs >= 20
    y.backward()
    with pytest.raises(RuntimeError, match=FREED):
        y.backward()
    del y
    assert _live_records() == 0


# ---- a plain RNN loop across segment boundaries ------------------------------------------------

def _rnn(lib, W, b, h, steps):
    for _ in range(steps):
        h = lib.tanh(h @ W + b)  # ``+ b`` broadcasts b (4,) against h: a stride-0 gather
    return h


@pytest.mark.parametrize("hshape", [(1, 4), (4,)])
@pytest.mark.parametrize("cap", [7, 13, 50])
def test_rnn_loop_across_segment_boundaries_matches_torch(monkeypatch, torch, cap, hshape):
    """The broadcast of ``b`` and the add that reads it land on one segment, whatever the cap:
    a boundary between them used to import a value-less placeholder ('NoneType' has no
    attribute 'size')."""
    rng = np.random.default_rng(3)
    W0, b0 = rng.standard_normal((4, 4)) * 0.4, rng.standard_normal(4) * 0.2
    h0 = rng.standard_normal(hshape)
    monkeypatch.setattr(_config, "SEGMENT_CAP", cap)
    _fresh_segment()
    W = tg.tensor(W0, requires_grad=True)
    b = tg.tensor(b0, requires_grad=True)
    h = tg.tensor(h0, requires_grad=True)
    seg0 = tg.autograd.tape_stats()["segment_order"]
    out = _rnn(tg, W, b, h, 300).sum()
    assert tg.autograd.tape_stats()["segment_order"] - seg0 > 10  # many boundaries crossed
    out.backward()
    tW = torch.tensor(W0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    th = torch.tensor(h0, requires_grad=True)
    _rnn(torch, tW, tb, th, 300).sum().backward()
    for mine, ref in ((W, tW), (b, tb), (h, th)):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_rnn_loop_longer_than_a_default_segment():
    """5000 steps at the default cap: the segment renews mid-loop (it crashed at step 4095)."""
    rng = np.random.default_rng(4)
    W = tg.tensor(rng.standard_normal((4, 4)) * 0.3, requires_grad=True)
    b = tg.tensor(rng.standard_normal(4) * 0.1, requires_grad=True)
    h = tg.tensor(rng.standard_normal((1, 4)))
    order0 = tg.autograd.tape_stats()["segment_order"]
    h = _rnn(tg, W, b, h, 5000)
    assert tg.autograd.tape_stats()["segment_order"] > order0
    h.sum().backward()
    assert np.isfinite(W.grad.numpy()).all() and np.isfinite(b.grad.numpy()).all()


def test_custom_function_calls_leave_no_reference_cycles():
    """A recorded custom Function call is freed by reference counting alone (the ctx refers to
    its node weakly), so a loop of them never waits for the cyclic garbage collector."""
    class Double(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2.0 + 0.0 * x

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    Double.apply(w).sum().backward()  # compile and load what the loop uses
    gc.collect()
    gc.disable()
    try:
        for _ in range(200):
            Double.apply(w).sum().backward()
            Double.apply(w)  # recorded, never swept
        assert gc.collect() < 50  # was ~12 objects per call
    finally:
        gc.enable()
    np.testing.assert_allclose(w.grad.numpy(), [402.0, 402.0])


def test_transforms_and_compiled_calls_leave_no_reference_cycles():
    """Function transforms, pytrees and tg.compile free what they touch by reference counting:
    a recursive helper defined as a closure would be a cycle holding the tensors (and their
    tape segments) until the cyclic collector ran."""
    x = tg.tensor([0.5, -1.0, 2.0])
    xs = tg.tensor(np.arange(12.0).reshape(4, 3) / 10.0)
    step = tg.compile(lambda v: {"y": (v.sin() * v, [v.sum()])})
    calls = [lambda: tg.func.jacrev(lambda v: v.sin() * v)(x),
             lambda: tg.vmap(tg.func.grad(lambda v: (v ** 2).sum()), in_dims=(0,))(xs),
             lambda: tg.func.hessian(lambda v: (v ** 3).sum())(x),
             lambda: np.block([[xs, xs], [xs, xs]]),
             lambda: tg.linalg.multi_dot([xs.T, xs, xs.T]),
             lambda: step(x)]
    for f in calls:
        for _ in range(3):
            f()  # traces, compiles, warms caches
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                f()
            assert gc.collect() == 0
        finally:
            gc.enable()


def test_node_hook_keeping_its_grad_inputs_is_collected():
    """A grad_fn hook that keeps the gradients it sees (which, under create_graph, hold the
    node's segment) makes a reference cycle through the segment: freed by the collector."""
    assert _live_records() == 0

    def second_order_through_a_hook():
        seen = []
        x = tg.tensor(np.linspace(-1.0, 1.0, 12), requires_grad=True)
        y = x.exp()
        y.grad_fn.register_hook(lambda gi, go: seen.append(gi))
        c = tg.tensor(np.linspace(0.5, 1.5, 12))
        (g,) = tg.autograd.grad((y * c).sum(), x, create_graph=True)
        tg.autograd.grad((g * g).sum(), x)
        return len(seen)

    assert second_order_through_a_hook() == 2
    assert _live_records() == 0
