"""``loss.backward()`` of a scalar whose one segment imports only CPU leaves takes a shorter
path (``autograd.driver.backward_plain``); what a user sees must stay PyTorch's: grad mode off
and restored (also after an error), hooks and their order, retain_graph and freed graphs,
accumulation into ``.grad``, the errors of non-scalar roots, threads, forward mode."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.driver import accumulates_into_leaves
from tests.thread_runner import run_threads

torch = pytest.importorskip("torch")

A = np.array([0.5, -1.25, 2.0, 3.0])
B = np.array([1.5, 0.25, -2.0, 0.75])


def _leaves(lib):
    return (lib.tensor(A.copy(), requires_grad=True), lib.tensor(B.copy(), requires_grad=True))


def test_gradients_accumulate_over_steps_as_pytorch():
    got, want = _leaves(tg), _leaves(torch)
    for lib, (a, b) in ((tg, got), (torch, want)):
        for _ in range(3):
            (a * b).sum().backward()
        (a * a).mean().backward()
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.grad.numpy(), w.grad.numpy(), rtol=1e-12)


def test_grad_mode_is_off_inside_and_restored_after_backward_and_after_an_error():
    def run(lib):
        seen = []

        def hook(g):
            seen.append(lib.is_grad_enabled())
            return g

        a, b = _leaves(lib)
        c = a * b
        c.register_hook(hook)
        c.sum().backward()
        after = lib.is_grad_enabled()

        def bad(g):
            raise ValueError("hook failed")

        d = a * b
        d.register_hook(bad)
        with pytest.raises(ValueError, match="hook failed"):
            d.sum().backward()
        with lib.no_grad():
            (a * b).detach()  # (nothing recorded)
        return seen, after, lib.is_grad_enabled()

    assert run(tg) == run(torch)


def test_accumulates_into_leaves_inside_and_not_after():
    seen = []

    class Probe(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            seen.append(accumulates_into_leaves())
            return g * 2

    a, _ = _leaves(tg)
    Probe.apply(a).sum().backward()
    assert seen == [True] and accumulates_into_leaves() is False
    np.testing.assert_allclose(a.grad.numpy(), np.full(4, 2.0))


def test_hook_order_and_post_accumulate_hooks_as_pytorch():
    def run(lib):
        order = []
        a, b = _leaves(lib)
        a.register_hook(lambda g: order.append("a") or g * 3)
        a.register_post_accumulate_grad_hook(lambda t: order.append("a-post"))
        b.register_post_accumulate_grad_hook(lambda t: order.append("b-post"))
        c = a * b
        c.register_hook(lambda g: order.append("c") or g)
        c.sum().backward()
        return order, a.grad.numpy(), b.grad.numpy()

    got, want = run(tg), run(torch)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2])


def test_retain_graph_and_a_freed_graph_as_pytorch():
    def run(lib):
        a, b = _leaves(lib)
        loss = (a * b).exp().sum()
        loss.backward(retain_graph=True)
        loss.backward()
        with pytest.raises(RuntimeError) as e:
            loss.backward()
        return a.grad.numpy(), "second time" in str(e.value)

    got, want = run(tg), run(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert got[1] and want[1]


def test_non_scalar_and_complex_roots_keep_pytorch_errors():
    for lib in (tg, torch):
        a, b = _leaves(lib)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
            (a * b).backward()
        z = lib.complex(a, b).sum()
        with pytest.raises(RuntimeError, match="only for real scalar outputs"):
            z.backward()
        with pytest.raises(RuntimeError, match="does not require grad"):
            lib.tensor(A).sum().backward()


def test_backward_under_no_grad_and_inside_forward_mode():
    for lib in (tg, torch):
        a, b = _leaves(lib)
        loss = (a * b).sum()
        with lib.no_grad():
            loss.backward()
            assert not lib.is_grad_enabled()
        np.testing.assert_allclose(a.grad.numpy(), B)
    fwd = tg.autograd.forward_ad
    a, b = _leaves(tg)
    with fwd.dual_level():
        loss = (a * b).sum()
        loss.backward()
        assert tg.is_grad_enabled()
    np.testing.assert_allclose(a.grad.numpy(), B)


def test_concurrent_backwards_on_threads_sum_their_gradients():
    a, b = _leaves(tg)

    def work():
        for _ in range(50):
            (a * b).sum().backward()

    run_threads([work] * 4)
    np.testing.assert_allclose(a.grad.numpy(), 200 * B)
    np.testing.assert_allclose(b.grad.numpy(), 200 * A)
    assert tg.is_grad_enabled() and accumulates_into_leaves() is False


def test_large_leaves_whose_adjoints_are_held_apart_from_the_arena_as_pytorch():
    # (arrays this large are swept with their adjoints held apart, handed over at the end)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(1 << 17), rng.standard_normal(1 << 17)

    def run(lib):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        seen = []
        b.register_hook(lambda g: seen.append(float(g.sum())) or g * 2)
        loss = ((a * b).sin() * a).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return a.grad.numpy(), b.grad.numpy(), seen

    got, want = run(tg), run(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-10)
