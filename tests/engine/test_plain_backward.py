"""``backward`` and ``grad`` (of one output, with respect to leaves) on a graph of one segment
whose inputs are all leaves sweep that segment alone (``autograd.driver._alone``): the same
sweep and accumulation as the general driver, without its queue of segments. Its results
must be the general path's bit for bit, PyTorch's within rounding, and every case the short
path does not cover must reach the general one."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import driver


class ShortPath:
    """``_alone`` counted: ``calls`` [taken, declined]; with ``off`` set it declines
    everything (the general driver's results, for comparison)."""

    def __init__(self, real):
        self.real, self.calls, self.off = real, [0, 0], False

    def __call__(self, *args):
        if self.off:
            return None
        done = self.real(*args)
        self.calls[0 if done is not None else 1] += 1
        return done

    def general(self, f, *args):
        self.off = True
        try:
            return f(*args)
        finally:
            self.off = False


@pytest.fixture
def short(monkeypatch):
    path = ShortPath(driver._alone)
    monkeypatch.setattr(driver, "_alone", path)
    return path


def _leaves(rng, dtype=np.float64, n=64):
    return [tg.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
            for s in ((n, 8), (8, 3), (3,))]


def _loss(w, a, b, c):
    h = tg.tanh(w @ a + b)
    return (h * h).mean() + (c * h).sum() + tg.sin(w).sum()


def _grads(ts):
    return [t.grad.detach().numpy().copy() for t in ts]


@pytest.mark.parametrize("dtype,n", [(np.float64, 64), (np.float32, 64), (np.float64, 20000)])
def test_the_short_path_gives_the_general_paths_gradients(short, dtype, n):
    """Arrays (also float32, and large enough for adjoints held apart), a leaf read twice, a
    0-d leaf, gradients accumulated over two backwards, one of them retaining the graph: bit
    for bit the general driver's."""
    rng = np.random.default_rng(0)
    mine = _leaves(rng, dtype, n) + [tg.tensor(0.5, requires_grad=True)]
    ref = [tg.tensor(t.detach().numpy(), requires_grad=True) for t in mine]
    for retain in (True, None):
        _loss(*mine).backward(retain_graph=retain)
        short.general(lambda: _loss(*ref).backward(retain_graph=retain))
    assert short.calls == [2, 0]
    for x, y in zip(_grads(mine), _grads(ref)):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_the_short_path_against_pytorch(short):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ts = _leaves(rng) + [tg.tensor(0.5, requires_grad=True)]
    _loss(*ts).backward()
    pt = [torch.tensor(t.detach().numpy(), requires_grad=True) for t in ts]
    w, a, b, c = pt
    h = torch.tanh(w @ a + b)
    ((h * h).mean() + (c * h).sum() + torch.sin(w).sum()).backward()
    assert short.calls == [1, 0]
    for x, y in zip(_grads(ts), [t.grad.numpy() for t in pt]):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_hooks_retained_grads_and_custom_functions_on_the_short_path(short):
    """Tensor hooks and ``retain_grad`` pause the sweep, leaf hooks and post-accumulate hooks
    run at accumulation, a custom Function's backward runs inside: as on the general path."""
    seen = []

    class Sine(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return tg.sin(x)

        @staticmethod
        def backward(ctx, g):
            seen.append(driver.accumulates_into_leaves())
            return g * tg.cos(ctx.saved_tensors[0])

    def run():
        x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
        z = tg.tensor([0.5, 0.25, 2.0], requires_grad=True)
        z.register_hook(lambda g: g * 10)
        posted = []
        z.register_post_accumulate_grad_hook(lambda t: posted.append(t.grad.detach().numpy()))
        y = Sine.apply(x) * z
        y.retain_grad()
        y.register_hook(lambda g: g + 1)
        y.sum().backward()
        return x.grad.detach().numpy(), z.grad.detach().numpy(), y.grad.detach().numpy(), posted

    mine = run()
    ref = short.general(run)
    assert short.calls == [1, 0]
    assert seen == [True, True]  # a plain backward, both ways
    for x, y in zip(mine[:3], ref[:3]):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(mine[3][0], ref[3][0])
    np.testing.assert_allclose(mine[0], np.cos([1.0, -2.0, 3.0]) * 2 * np.array([0.5, 0.25, 2.0]),
                               rtol=1e-15)


def test_graphs_across_segments_take_the_general_path(short):
    """A tensor made before a backward and used after it lives on an older segment: that
    backward sweeps two segments (the general driver), as does anomaly mode; the gradients are
    the same as when everything is recorded at once."""
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * a
    y.sum().backward(retain_graph=True)
    assert short.calls == [1, 0]
    a.grad = None
    (y * 3.0).sum().backward()  # y on the retained segment: two segments swept
    assert short.calls == [1, 1]
    np.testing.assert_array_equal(a.grad.detach().numpy(), 6 * np.array([1.0, 2.0, 3.0]))
    a.grad = None
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), \
            tg.autograd.detect_anomaly():
        (a * a).sum().backward()
    assert short.calls == [1, 2]
    np.testing.assert_array_equal(a.grad.detach().numpy(), 2 * np.array([1.0, 2.0, 3.0]))


def test_a_second_backward_through_a_freed_graph_is_refused(short):
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (tg.exp(a) * a).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()
    np.testing.assert_allclose(a.grad.detach().numpy(), np.exp([1.0, 2.0]) * ([1.0, 2.0] +
                                                                               np.ones(2)))
    assert tg.is_grad_enabled()  # restored after the error


def _hvp(A, x, v):
    (g,) = tg.autograd.grad((tg.tanh(A @ x) ** 2).sum(), x, create_graph=True)
    return g, tg.autograd.grad(g, x, v)[0]


def test_grad_of_leaves_on_the_short_path(short):
    """``grad(y, leaves)``: a Hessian-vector product (both gradients: the re-taped one and
    the gradient through it), a leaf asked for twice, an unused one: the general path's
    values bit for bit; a non-leaf input takes the general path."""
    rng = np.random.default_rng(2)
    A = tg.tensor(rng.standard_normal((6, 6)))
    v = tg.tensor(rng.standard_normal(6))
    x = tg.tensor(rng.standard_normal(6), requires_grad=True)
    g, h = _hvp(A, x, v)
    assert short.calls == [2, 0]
    g_ref, h_ref = short.general(_hvp, A, x, v)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_array_equal(g.detach().numpy(), g_ref.detach().numpy())
    np.testing.assert_array_equal(h.detach().numpy(), h_ref.detach().numpy())
    u = tg.tensor(1.0, requires_grad=True)
    got = tg.autograd.grad((x * x).sum() * 2.0, [x, u, x], allow_unused=True)
    assert short.calls == [3, 0]
    assert got[1] is None
    np.testing.assert_array_equal(got[0].detach().numpy(), 4 * x.detach().numpy())
    np.testing.assert_array_equal(got[2].detach().numpy(), got[0].detach().numpy())
    hx = x * 3.0
    (gh,) = tg.autograd.grad((hx * hx).sum(), hx)  # not a leaf: the general driver
    np.testing.assert_allclose(gh.detach().numpy(), 6 * x.detach().numpy(), rtol=1e-15)
    assert short.calls == [3, 1]
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        tg.autograd.grad((x * 2.0).sum(), u)
    assert short.calls == [4, 1]


def test_hessian_vector_product_against_pytorch(short):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    An, xn, vn = rng.standard_normal((7, 7)), rng.standard_normal(7), rng.standard_normal(7)
    x = tg.tensor(xn, requires_grad=True)
    g, h = _hvp(tg.tensor(An), x, tg.tensor(vn))
    xt = torch.tensor(xn, requires_grad=True)
    (gt,) = torch.autograd.grad((torch.tanh(torch.tensor(An) @ xt) ** 2).sum(), xt,
                                create_graph=True)
    (ht,) = torch.autograd.grad(gt, xt, torch.tensor(vn))
    assert short.calls == [2, 0]
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.detach().numpy(), ht.numpy(), rtol=1e-12, atol=1e-12)
