"""Checkpointing's import watches are counted (``tape.watching``) so that a first import skips
the thread-local watch state while none is on: the count must be up whenever a watch is, in
any thread, and back to 0 however a watch ends."""

import threading

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape, tape_watch
from tapegrad.utils.checkpoint import checkpoint


def _captured_leaf_grads(lib, cp):
    # ``fn`` takes a derivative itself, so its checkpoint is the custom-Function form, whose
    # forward runs under ``watch_imports`` and recomputation under ``substitute_imports``:
    # ``W`` is read from the closure and must be found as a captured input
    rng = np.random.default_rng(3)
    W = lib.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    x0 = rng.standard_normal(3)
    x = lib.tensor(x0, requires_grad=True)
    h = x * 2.0

    def fn(a):
        (g,) = lib.autograd.grad((h ** 3).sum(), h, create_graph=True)
        return lib.tanh((g * a) @ W).sum() + (h * W).sum()

    a = lib.tensor(x0[::-1].copy(), requires_grad=True)
    y = cp(fn, a, use_reentrant=False)
    gW, gx = lib.autograd.grad(y, [W, x], create_graph=True)
    second = lib.autograd.grad((gW ** 2).sum() + (gx ** 2).sum(), [W, x, a])
    return [g.detach().numpy() for g in (gW, gx, *second)], W.grad is None


def test_grad_of_a_captured_leaf_through_a_watched_checkpoint_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    got, untouched = _captured_leaf_grads(tg, checkpoint)
    want, _ = _captured_leaf_grads(torch, torch_checkpoint)
    assert untouched  # autograd.grad accumulates into no .grad
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    assert tape.watching[0] == 0


def test_the_count_is_back_to_zero_after_errors_in_forward_and_recomputation():
    w0 = np.array([0.5, -1.0, 2.0])
    w = tg.tensor(w0, requires_grad=True)
    fail = [None]  # where the function raises: under the forward's watch, or its recomputation

    def fn(a):
        (g,) = tg.autograd.grad((w * w * a).sum(), a, create_graph=True)  # the watched form
        if fail[0] == "watch" and tape._local.seen is not None:
            raise ValueError("inside the watched function")
        if fail[0] == "recompute" and tape._local.subs is not None:
            raise ValueError("inside the recomputation")
        return (g * w).sum()

    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    fail[0] = "watch"
    with pytest.raises(ValueError, match="watched"):
        checkpoint(fn, x, use_reentrant=False)
    assert tape.watching[0] == 0
    fail[0] = "recompute"
    y = checkpoint(fn, x, use_reentrant=False)
    assert tape.watching[0] == 0
    with pytest.raises(ValueError, match="recomputation"):
        y.backward()
    assert tape.watching[0] == 0
    fail[0] = None
    checkpoint(fn, x, use_reentrant=False).backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * w0 ** 2)  # d/dw of sum(w**3)
    assert tape.watching[0] == 0


def test_a_watch_in_another_thread_neither_misses_nor_adds_imports():
    started, release, seen_there = threading.Event(), threading.Event(), []

    def watcher():
        mine = tg.tensor([1.0, 2.0], requires_grad=True)
        with tape_watch.watch_imports() as seen:
            started.set()
            release.wait(60)
            (mine * 3.0).sum()
        seen_there.extend(seen)
        seen_there.append(mine)

    th = threading.Thread(target=watcher, daemon=True)
    th.start()
    try:  # (a failure here must still let the watcher finish, or the run would hang)
        assert started.wait(60)
        assert tape.watching[0] == 1  # up while the other thread's watch is on
        z = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
        (tg.tanh(z) * z).sum().backward()  # this thread has no watch: nothing noted here
    finally:
        release.set()
        th.join(60)
    assert tape.watching[0] == 0
    z0 = z.detach().numpy()
    np.testing.assert_allclose(z.grad.numpy(), (1 - np.tanh(z0) ** 2) * z0 + np.tanh(z0))
    assert len(seen_there) == 2 and seen_there[0] is seen_there[1]
    with tape_watch.watch_imports() as seen:  # and one on this thread sees this thread's reads
        (z * 2.0).sum()
    assert len(seen) == 1 and seen[0] is z
