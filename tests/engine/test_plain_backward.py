"""``loss.backward()`` on a graph of one segment whose inputs are all leaves runs the driver's
short path (``autograd.driver.run_plain``): the same sweep and accumulation as the general
driver, without its queue of segments. Its gradients must be the general path's bit for bit
(``tg.autograd.backward(loss)`` takes that one), PyTorch's within rounding, and every case
the short path does not cover must reach the general one."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import driver


@pytest.fixture
def plain_calls(monkeypatch):
    """Counts of ``run_plain``'s answers: [taken, declined]."""
    counts = [0, 0]
    real = driver.run_plain

    def counted(root, seed):
        done = real(root, seed)
        counts[0 if done else 1] += 1
        return done
    monkeypatch.setattr(driver, "run_plain", counted)
    import tapegrad.autograd as ag

    monkeypatch.setattr(ag, "run_plain", counted)
    return counts


def _leaves(rng, dtype=np.float64, n=64):
    return [tg.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
            for s in ((n, 8), (8, 3), (3,))]


def _loss(w, a, b, c):
    h = tg.tanh(w @ a + b)
    return (h * h).mean() + (c * h).sum() + tg.sin(w).sum()


def _grads(ts):
    return [t.grad.detach().numpy().copy() for t in ts]


@pytest.mark.parametrize("dtype,n", [(np.float64, 64), (np.float32, 64), (np.float64, 20000)])
def test_the_short_path_gives_the_general_paths_gradients(plain_calls, dtype, n):
    """Arrays (also float32, and large enough for adjoints held apart), a leaf read twice, a
    0-d leaf, gradients accumulated over two backwards: bit for bit the general driver's."""
    rng = np.random.default_rng(0)
    short, general = _leaves(rng, dtype, n), None
    general = [tg.tensor(t.detach().numpy(), requires_grad=True) for t in short]
    c_short = tg.tensor(0.5, requires_grad=True)
    c_general = tg.tensor(0.5, requires_grad=True)
    for _ in range(2):
        w, a, b = short
        _loss(w, a, b, c_short).backward()
        w, a, b = general
        tg.autograd.backward(_loss(w, a, b, c_general))
    assert plain_calls == [2, 0]
    for x, y in zip(_grads(short + [c_short]), _grads(general + [c_general])):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_the_short_path_against_pytorch(plain_calls):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ts = _leaves(rng)
    c = tg.tensor(0.5, requires_grad=True)
    _loss(*ts, c).backward()
    pt = [torch.tensor(t.detach().numpy(), requires_grad=True) for t in ts]
    pc = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    w, a, b = pt
    h = torch.tanh(w @ a + b)
    ((h * h).mean() + (pc * h).sum() + torch.sin(w).sum()).backward()
    assert plain_calls == [1, 0]
    for x, y in zip(_grads(ts + [c]), [t.grad.numpy() for t in pt + [pc]]):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_hooks_retained_grads_and_custom_functions_on_the_short_path(plain_calls):
    """Tensor hooks and ``retain_grad`` pause the sweep, leaf hooks and post-accumulate hooks
    run at accumulation, a custom Function's backward runs inside: as on the general path."""
    seen = []

    class Cube(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            seen.append(tg.autograd.driver.accumulates_into_leaves())
            return 3 * x * x * g

    def run(backward):
        x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
        z = tg.tensor([0.5, 0.25, 2.0], requires_grad=True)
        z.register_hook(lambda g: g * 10)
        posted = []
        z.register_post_accumulate_grad_hook(lambda t: posted.append(t.grad.detach().numpy()))
        y = Cube.apply(x) * z
        y.retain_grad()
        y.register_hook(lambda g: g + 1)
        backward(y.sum())
        return x.grad.detach().numpy(), z.grad.detach().numpy(), y.grad.detach().numpy(), posted

    short = run(lambda loss: loss.backward())
    general = run(tg.autograd.backward)
    assert plain_calls == [1, 0]
    assert seen == [True, True]  # a plain backward, both ways
    for x, y in zip(short[:3], general[:3]):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(short[3][0], general[3][0])
    np.testing.assert_array_equal(short[0], 3 * np.array([1.0, 4.0, 9.0]) * 2 *
                                  np.array([0.5, 0.25, 2.0]))


def test_graphs_across_segments_and_retained_graphs_take_the_general_path(plain_calls):
    """A tensor made before a backward and used after it lives on an older segment: that
    backward sweeps two segments (the general driver). ``retain_graph`` and anomaly mode go
    there too; the gradients are the same as when everything is recorded at once."""
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * a
    y.sum().backward(retain_graph=True)  # (not the short path: retained)
    assert plain_calls == [0, 0]
    a.grad = None
    (y * 3.0).sum().backward()  # y on the retained segment: two segments swept
    assert plain_calls == [0, 1]
    np.testing.assert_array_equal(a.grad.detach().numpy(), 6 * np.array([1.0, 2.0, 3.0]))
    a.grad = None
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), \
            tg.autograd.detect_anomaly():
        (a * a).sum().backward()
    assert plain_calls == [0, 2]
    np.testing.assert_array_equal(a.grad.detach().numpy(), 2 * np.array([1.0, 2.0, 3.0]))


def test_a_second_backward_through_a_freed_graph_is_refused(plain_calls):
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (tg.exp(a) * a).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()
    np.testing.assert_allclose(a.grad.detach().numpy(), np.exp([1.0, 2.0]) * ([1.0, 2.0] +
                                                                               np.ones(2)))
    assert tg.is_grad_enabled()  # restored after the error
