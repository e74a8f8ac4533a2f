"""The VJP of the row sums of a large input (``x.sum(-1)``; ``engine.numpy_records.sum_vjp``):
each row's gradient written along its row by Python, so the input's arena slot needs no zeros
and a NumPy-swept input keeps its adjoint apart. Whatever reads it, gradients must be those of
the re-taping sweep (which never takes this path) and PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape
from tapegrad.engine import sweep
from tapegrad.engine.arena import slot_kinds

torch = pytest.importorskip("torch")

SHAPE = (1000, 25, 10)  # GMM's (n, K, d): 2.5e5 elements, rows of 10
MID = (64, 8, 10)  # a large record in a small arena: the rows written into the arena


def _retaped(f, xs):
    leaves = [tg.tensor(x, requires_grad=True) for x in xs]
    return [g.detach().numpy() for g in tg.autograd.grad(f(tg, *leaves), leaves,
                                                         create_graph=True)]


PROGRAMS = {
    "row sums of a product": lambda T, x, y: ((x * x).sum(-1) * 0.5).sum() + (y * y).sum(),
    "weighted row sums": lambda T, x, y: ((x * y).sum(-1) * T.exp(y[..., 0])).sum(),
    "row sums and a full sum of one input": lambda T, x, y: ((x * y).sum(-1) ** 2).sum() +
    (x * y).sum(),
    "row sums of a leaf": lambda T, x, y: (x.sum(-1) * y.sum(-1)).sum(),
    "row sums over two dims": lambda T, x, y: (T.sin(x).sum((1, 2)) ** 2).sum() + y.sum(),
    "row sums of a slice": lambda T, x, y: ((x * y)[:, :, :4].sum(-1) ** 2).sum(),
    "row sums of a reshape": lambda T, x, y: ((x - y).reshape(-1, 40).sum(-1) ** 2).sum(),
}


@pytest.mark.parametrize("shape", [SHAPE, MID], ids=["held", "arena"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_row_sums_match_retaping_and_torch(name, shape):
    r = np.random.default_rng(len(name))
    xs = [r.standard_normal(shape), r.standard_normal(shape)]
    f = PROGRAMS[name]
    leaves = [tg.tensor(x, requires_grad=True) for x in xs]
    f(tg, *leaves).backward()
    tl = [torch.tensor(x, requires_grad=True) for x in xs]
    f(torch, *tl).backward()
    for t, g, q in zip(leaves, _retaped(f, xs), tl):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(t.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-13)
        assert t.grad.numpy().flags.writeable


def test_the_row_sum_input_is_not_zeroed_and_held_apart():
    x = tg.tensor(np.random.default_rng(1).standard_normal(SHAPE), requires_grad=True)
    y = ((x * x).sum(-1) * 0.5).sum()
    recs = y._seg.records()
    sw = sweep.Sweep(y._seg)
    big, _, compiled_writes, own = slot_kinds(recs, sw.offs, sw.tabs[3])
    product = [r for r in range(len(recs))
               if int(recs[r, tape.OP]) & tape.CODE_MASK == int(tg.registry.Op.MUL)][0]
    assert big[product] and not compiled_writes[product] and own[product]
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), x.detach().numpy())  # d/dx x*x/2: x exactly


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_sums_through_hooks_retain_graph_and_anomaly_mode(dtype):
    r = np.random.default_rng(2)
    xv, wv = r.standard_normal(SHAPE).astype(dtype), r.standard_normal(SHAPE[:2]).astype(dtype)
    x, w = tg.tensor(xv, requires_grad=True), tg.tensor(wv)
    p = x * x
    seen = []
    p.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
    y = (p.sum(-1) * w).sum()
    y.backward(retain_graph=True)
    want = 2 * xv * wv[..., None]
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6 if dtype == "float32" else 1e-14)
    np.testing.assert_array_equal(seen[0], np.broadcast_to(wv[..., None], SHAPE))
    y.backward()  # again, through the same records: the gradient added
    np.testing.assert_allclose(x.grad.numpy(), 2 * want, rtol=1e-6 if dtype == "float32"
                               else 1e-14)
    x.grad = None
    with tg.autograd.detect_anomaly():
        (tg.sin(x).sum(-1) * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xv) * wv[..., None],
                               rtol=1e-5 if dtype == "float32" else 1e-14)


@pytest.mark.parametrize("view", ["as_strided of a longer base", "expand of a slice"])
def test_a_strided_map_into_a_longer_output_is_no_row_sum(view):
    # the second backward runs the VJP of the first one's strided scatter: rows of 100 mapped
    # at strides (1, 0) into the 100 elements of x, one output element per row only for the
    # first 50 (its VJP must read those 50, not spread the 100 over the rows)
    r = np.random.default_rng(3)
    xv, wv, vv = r.standard_normal(100), r.standard_normal((50, 100)), r.standard_normal(100)
    grads = []
    for T in (tg, torch):
        x = T.tensor(xv, requires_grad=True)
        y = x.as_strided((50, 100), (1, 0)) if view.startswith("as") else \
            x[:50, None].expand(50, 100)
        g, = T.autograd.grad((y * y * T.tensor(wv)).sum(), x, create_graph=True)
        (g * T.tensor(vv)).sum().backward()
        grads.append(x.grad.detach().numpy())
    want = np.zeros(100)
    want[:50] = 2 * vv[:50] * wv.sum(1)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads[0], want, rtol=1e-12, atol=1e-12)
