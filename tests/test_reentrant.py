"""Backward inside backward: a hook, a custom Function's backward or checkpoint-style
recomputation may record and run another backward on the very segment being swept.

The outer sweep must then neither read memory the inner one moved or released (a wrong
gradient or a crash), nor miss that the inner one freed the graph (PyTorch's "backward through
the graph a second time" error). Every program here runs under thread and allocation pressure
too, and its result must equal the same program run plainly.
"""

import threading

import numpy as np
import pytest
from thread_runner import run_threads

import tapegrad as tg


def f(v, steps):
    for _ in range(steps):
        v = (v * 1.01).sin() + 0.1 * v
    return v


class Checkpoint(tg.autograd.Function):
    """Saves only its input; backward recomputes under enable_grad and calls autograd.grad."""

    steps = 200

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with tg.no_grad():
            return f(x, Checkpoint.steps)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        with tg.enable_grad():
            xd = x.detach().requires_grad_(True)
            (gx,) = tg.autograd.grad(f(xd, Checkpoint.steps), xd, g)
        return gx


def program(w, before, checkpoint=True):
    """Many records before the checkpoint (a large saved-float table the inner backward
    must grow and so move), the checkpoint, then some records after it."""
    a = w
    for _ in range(before):
        a = (a * 0.999).sin() + 0.01 * w
    b = Checkpoint.apply(a) if checkpoint else f(a, Checkpoint.steps)
    return ((b * a).exp() * w.cos()).sum()


@pytest.mark.parametrize("shape", [(), (3,)])
def test_checkpoint_recomputation_equals_the_plain_gradient(shape):
    w0 = np.linspace(0.3, 0.4, 3)[: (3 if shape else 1)].reshape(shape)
    w = tg.tensor(w0, requires_grad=True)
    program(w, 20000 if not shape else 3000).backward()
    v = tg.tensor(w0, requires_grad=True)
    program(v, 20000 if not shape else 3000, checkpoint=False).backward()
    np.testing.assert_allclose(w.grad.numpy(), v.grad.numpy(), rtol=1e-12)


def test_checkpoint_matches_torch():
    torch = pytest.importorskip("torch")

    class TorchCheckpoint(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            with torch.no_grad():
                return f(x, Checkpoint.steps)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            with torch.enable_grad():
                xd = x.detach().requires_grad_(True)
                (gx,) = torch.autograd.grad(f(xd, Checkpoint.steps), xd, g)
            return gx

    wt = torch.tensor(0.37, dtype=torch.float64, requires_grad=True)
    a = wt
    for _ in range(5000):
        a = (a * 0.999).sin() + 0.01 * wt
    ((TorchCheckpoint.apply(a) * a).exp() * wt.cos()).sum().backward()
    w = tg.tensor(0.37, requires_grad=True)
    program(w, 5000).backward()
    assert w.grad.item() == pytest.approx(wt.grad.item(), rel=1e-12)


def _hooked_graph(x):
    h = (x * 2).sin()
    return h, (h * h.exp()).sum()


@pytest.mark.parametrize("size", [1, 3, 50])
def test_hook_that_frees_the_graph_raises_the_second_time_error(size):
    x = tg.tensor(np.linspace(0.3, 1.1, size), requires_grad=True)
    h, loss = _hooked_graph(x)
    calls = []

    def hook(g):
        if not calls:
            calls.append(1)
            loss.backward()  # frees the graph the outer backward is still sweeping
            np.ones(1 << 16)  # reuse what was freed, should anything read it

    h.register_hook(hook)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_hook_that_runs_backward_with_retain_graph_matches_torch(create_graph):
    torch = pytest.importorskip("torch")
    xs = np.array([0.3, 0.7, 1.1])
    grads = []
    for lib, make in ((tg, lambda: tg.tensor(xs, requires_grad=True)),
                      (torch, lambda: torch.tensor(xs, requires_grad=True))):
        x = make()
        h, loss = _hooked_graph(x)
        calls = []

        def hook(g, loss=loss, calls=calls):
            if not calls:
                calls.append(1)
                loss.backward(retain_graph=True)

        h.register_hook(hook)
        loss.backward(retain_graph=True, create_graph=create_graph)
        grads.append(x.grad.detach().numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_custom_backward_that_frees_its_own_graph_raises():
    """A custom backward that runs backward (without retain_graph) on the outer graph."""
    holder = {}

    class Reenter(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            holder["loss"].backward()
            return g

    x = tg.tensor(np.linspace(0.1, 0.9, 5), requires_grad=True)
    y = Reenter.apply(x.exp() * x)
    holder["loss"] = loss = (y.sin() * x).sum()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_reentrant_programs_under_thread_and_allocation_pressure():
    """Four threads run the checkpoint program while a fifth churns the allocator; every
    result equals the single-threaded one exactly."""
    w0 = np.array([0.31, 0.35, 0.39])
    v = tg.tensor(w0, requires_grad=True)
    program(v, 1500, checkpoint=False).backward()
    expected = v.grad.numpy().copy()
    results, stop = [], threading.Event()

    def worker():
        for _ in range(3):
            w = tg.tensor(w0, requires_grad=True)
            program(w, 1500).backward()
            results.append(w.grad.numpy().copy())

    def churn():
        while not stop.is_set():
            junk = [np.full(4096, 1e300) for _ in range(50)]
            del junk

    noise = threading.Thread(target=churn)
    noise.start()
    try:
        run_threads([worker] * 4)
    finally:
        stop.set()
        noise.join()
    assert len(results) == 12
    for r in results:
        np.testing.assert_allclose(r, expected, rtol=1e-12)
