"""The VJP of a full sum of a large input (``engine.numpy_records.sum_vjp``): its one gradient
is handed on as a read-only broadcast where NumPy's formulas or the driver read it, and written
once into the arena elsewhere. Whatever reads it, gradients must be those of the re-taping sweep
(which never takes this path) and PyTorch's, and every ``.grad`` a private, writable array."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep
from tests.op_checks import check_directional_derivative

BIG = 1 << 19  # arenas of a few such records hold adjoints apart (broadcasts kept as views)
MID = 1 << 13  # a large record in a small arena: the broadcast is written into the arena


def _retaped(f, xs):
    leaves = [tg.tensor(x, requires_grad=True) for x in xs]
    return [g.detach().numpy() for g in tg.autograd.grad(f(*leaves), leaves, create_graph=True)]


def _check(f, xs, torch_f=None):
    """``f``'s gradients by ``backward`` equal the re-taped ones (and PyTorch's); returns the
    leaves, whose ``.grad`` must be writable arrays of their own."""
    leaves = [tg.tensor(x, requires_grad=True) for x in xs]
    f(*leaves).backward()
    for t, g in zip(leaves, _retaped(f, xs)):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-13, atol=1e-15)
        arr = t.grad.numpy()
        assert arr.flags.writeable and arr.flags.c_contiguous and arr.strides[-1] != 0
    grads = [t.grad.numpy() for t in leaves]
    for i, a in enumerate(grads):
        assert not any(np.shares_memory(a, b) for b in grads[i + 1:])
    if torch_f is not None:
        torch = pytest.importorskip("torch")
        tl = [torch.tensor(x, requires_grad=True) for x in xs]
        torch_f(*tl).backward()
        for t, q in zip(leaves, tl):
            np.testing.assert_allclose(t.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-14)
    return leaves


PROGRAMS = {
    "sum of a leaf": lambda T: lambda x, y: x.sum() + y.sum() * 3.0,
    "sum of a sum": lambda T: lambda x, y: (x + y).sum(),
    "two sums of one leaf": lambda T: lambda x, y: x.sum() + (x * y).sum() + x.sum(),
    "mean of products": lambda T: lambda x, y: (T.sin(x) * T.exp(-(x * y))).mean(),
    "negation and exp": lambda T: lambda x, y: (-T.exp(x)).sum() + (y - x).sum(),
    "a matrix product below": lambda T: lambda x, y: (x.reshape(-1, 64).T @ y.reshape(-1, 64))
    .sum(),
    "a slice below": lambda T: lambda x, y: x[::2].sum() + (x * y)[1::3].sum(),
}


@pytest.mark.parametrize("n", [BIG, MID], ids=["held", "arena"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_full_sums_match_retaping_and_torch(name, n):
    r = np.random.default_rng(len(name))
    xs = [r.standard_normal(n), r.standard_normal(n)]
    leaves = _check(PROGRAMS[name](tg), xs, PROGRAMS[name](__import__("torch"))
                    if _has_torch() else None)
    leaves[0].grad += 1.0  # (writable: a .grad the user may change in place)


def _has_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def test_the_broadcast_is_held_as_a_view(monkeypatch):
    """The sum's gradient reaches the product below it as a stride-0 view (no arena pass)."""
    seen = []
    vjp = sweep.Sweep._numpy_vjp

    def watching(self, r, code):
        seen.append(self.grad_of(r).strides)
        return vjp(self, r, code)

    monkeypatch.setattr(sweep.Sweep, "_numpy_vjp", watching)
    x = tg.tensor(np.random.default_rng(0).standard_normal(BIG), requires_grad=True)
    (tg.sin(x) * tg.exp(x)).sum().backward()  # (an arena of 4 large records: held apart)
    assert seen[0] == (0,)
    x0 = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x0) * (np.sin(x0) + np.cos(x0)),
                               rtol=1e-12, atol=1e-14)


def test_float32_full_sum():
    r = np.random.default_rng(3)
    xs = [r.standard_normal(BIG).astype(np.float32) for _ in range(2)]
    leaves = [tg.tensor(v, requires_grad=True) for v in xs]
    (tg.tanh(leaves[0]) * leaves[1]).sum().backward()
    assert leaves[0].grad.dtype == tg.float32 and leaves[1].grad.dtype == tg.float32
    torch = pytest.importorskip("torch")
    tl = [torch.tensor(v, requires_grad=True) for v in xs]
    (torch.tanh(tl[0]) * tl[1]).sum().backward()
    for t, q in zip(leaves, tl):
        np.testing.assert_allclose(t.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_hooks_retain_grad_and_inputs_see_the_full_gradient():
    r = np.random.default_rng(4)
    x = tg.tensor(r.standard_normal(BIG), requires_grad=True)
    y = x * 2.0
    z = tg.exp(x)
    z.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    (y.sum() + z.sum()).backward()
    np.testing.assert_array_equal(seen[0], np.ones(BIG))
    assert z.grad.numpy().flags.writeable
    np.testing.assert_array_equal(z.grad.numpy(), np.ones(BIG))
    np.testing.assert_allclose(x.grad.numpy(), 2.0 + np.exp(x.detach().numpy()), rtol=1e-15)
    w = tg.tensor(r.standard_normal(BIG), requires_grad=True)
    v = tg.sin(w)
    (gv,) = tg.autograd.grad((v * 3.0).sum(), [v])
    np.testing.assert_array_equal(gv.numpy(), np.full(BIG, 3.0))
    assert gv.numpy().flags.writeable


def test_second_backward_accumulates_and_anomaly_mode_agrees():
    r = np.random.default_rng(5)
    x0 = r.standard_normal(BIG)
    x = tg.tensor(x0, requires_grad=True)
    for _ in range(2):
        (tg.sin(x) * x).sum().backward()
    want = 2 * (np.cos(x0) * x0 + np.sin(x0))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-13, atol=1e-15)
    x2 = tg.tensor(x0, requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly"), tg.autograd.detect_anomaly():
        (tg.sin(x2) * x2).sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), want / 2, rtol=1e-13, atol=1e-15)


def test_gradient_along_a_direction_matches_finite_differences():
    r = np.random.default_rng(6)
    check_directional_derivative(
        lambda x, y: (tg.sin(x) * tg.exp(-(x * y))).sum() + (x * 0.5).sum(),
        [r.standard_normal(BIG), r.standard_normal(BIG)], seed=6)
