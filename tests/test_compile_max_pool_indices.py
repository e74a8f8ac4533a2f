"""tg.compile of max pooling with return_indices=True (F.max_pool*d(..., return_indices=True),
F.max_pool*d_with_indices, nn.MaxPool2d(return_indices=True)): a step asking for the indices
ran eagerly ('max_pool2d of 3-d input, with padding, dilation, ceil_mode or indices'). The
indices are now a replay node (no gradient): eager's and PyTorch's indices, the values and their
gradients as eager's to the last bit, one trace, no fallback warning."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

# (function, input shape, keyword arguments)
CASES = [("max_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1,
                                           return_indices=True)),
         ("max_pool2d", (3, 8, 7), dict(kernel_size=2, dilation=2, ceil_mode=True,
                                        return_indices=True)),
         ("max_pool2d_with_indices", (2, 2, 6, 6), dict(kernel_size=2)),
         ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1,
                                        return_indices=True)),
         ("max_pool1d_with_indices", (3, 10), dict(kernel_size=4, stride=3, ceil_mode=True)),
         ("max_pool3d", (2, 2, 5, 4, 5), dict(kernel_size=2, padding=1, return_indices=True)),
         ("max_pool3d_with_indices", (2, 4, 5, 4), dict(kernel_size=(2, 3, 2), stride=1))]


def _torch_fn(fn):
    if fn.endswith("_with_indices"):
        base = getattr(torch.nn.functional, fn[:-len("_with_indices")])
        return lambda x, **kw: base(x, **kw, return_indices=True)
    return getattr(torch.nn.functional, fn)


@pytest.mark.parametrize("fn, xs, kw", CASES)
def test_indices_values_and_gradients_as_eager_and_torch(fn, xs, kw):
    rng = np.random.default_rng(6)
    x0 = rng.normal(size=xs)
    x0.reshape(-1)[::4] = 0.25  # (ties: the first is chosen)
    c0 = rng.normal(size=_torch_fn(fn)(torch.tensor(x0), **kw)[0].shape)
    c = tg.tensor(c0)

    def f(x):
        y, where = getattr(tg.nn.functional, fn)(x, **kw)
        return y, where, tg.autograd.grad((y * c).sum(), x)[0]

    compiled = tg.compile(f, fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled(tg.tensor(x0, requires_grad=True))  # (the recording call)
        for shift in (0.0, 0.5):
            x = tg.tensor(x0[..., ::-1].copy() + shift, requires_grad=True)
            got, want = compiled(x), f(x)
            for a, e in zip(got, want):
                np.testing.assert_array_equal(a.detach().numpy(), e.detach().numpy())
            assert got[1].dtype == tg.int64 and not got[1].requires_grad
            tx = torch.tensor(x0[..., ::-1].copy() + shift, requires_grad=True)
            ty, twhere = _torch_fn(fn)(tx, **kw)
            tgrad = torch.autograd.grad((ty * torch.tensor(c0)).sum(), tx)[0]
            for a, t in zip(got, (ty, twhere, tgrad)):
                np.testing.assert_array_equal(a.detach().numpy(), t.detach().numpy())
    assert compiled._count == 1


class _Net:
    """conv, tanh, MaxPool2d(return_indices=True), a linear head; forward returns the logits
    and the indices."""

    def __init__(self, lib):
        lib.manual_seed(0)
        nn = lib.nn
        self.conv, self.head = nn.Conv2d(1, 3, 3).double(), nn.Linear(3 * 9, 3).double()
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
        self.lib = lib

    def parameters(self):
        return list(self.conv.parameters()) + list(self.head.parameters())

    def __call__(self, x):
        y, where = self.pool(self.lib.tanh(self.conv(x)))
        return self.head(y.flatten(1)), where


def test_a_step_returning_the_indices_replays_as_eager_and_torch():
    nets = {name: _Net(tg if name != "torch" else torch) for name in ("compiled", "eager",
                                                                      "torch")}
    for name in ("eager", "torch"):
        for p, q in zip(nets[name].parameters(), nets["compiled"].parameters()):
            with (torch.no_grad() if name == "torch" else tg.no_grad()):
                p.copy_(torch.tensor(q.detach().numpy()) if name == "torch" else q.detach())
    results = {}
    for name, net in nets.items():
        lib = torch if name == "torch" else tg
        opt = lib.optim.Adam(net.parameters(), lr=0.01)

        def step(x, t, net=net, opt=opt, lib=lib):
            opt.zero_grad()
            logits, where = net(x)
            loss = lib.nn.functional.cross_entropy(logits, t)
            loss.backward()
            opt.step()
            return loss.detach(), where

        f = tg.compile(step, fullgraph=True) if name == "compiled" else step
        rng = np.random.default_rng(1)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(4):
                x, t = rng.normal(size=(4, 1, 8, 8)), rng.integers(0, 3, 4)
                loss, where = f(lib.tensor(x), lib.tensor(t))
                out.append((loss.item(), where.numpy()))
        if name == "compiled":
            assert f._count == 1
        results[name] = out, [p.detach().numpy() for p in net.parameters()]
    for other, tol in (("eager", 1e-12), ("torch", 1e-10)):
        for (la, wa), (lb, wb) in zip(results["compiled"][0], results[other][0]):
            np.testing.assert_allclose(la, lb, rtol=tol)
            np.testing.assert_array_equal(wa, wb)
        for a, b in zip(results["compiled"][1], results[other][1]):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 1e-2)
