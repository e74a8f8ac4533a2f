"""Large adjoints held apart from the sweep's arena (``engine.arena.slot_kinds``): a large record
that only Python sweeps keeps its adjoint in an array of its own, the formula's result where
that is private, and a leaf gets that array as its ``.grad``. Gradients must be those of the
arena (the same additions in the same order), of the re-taping sweep and of PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.registry import PYTHON_BASE, Op
from tapegrad.engine import sweep
from tests.op_checks import check_directional_derivative

N = 1 << 19  # elements per array: the arena of a few records passes the size thresholds


@pytest.fixture
def held_counts(monkeypatch):
    """The number of adjoints each CPU sweep held apart, in order."""
    counts = []
    run = sweep.Sweep.run

    def counting(self, *a, **k):
        out = run(self, *a, **k)
        counts.append(0 if self.own is None else int(self.own.sum()))
        return out

    monkeypatch.setattr(sweep.Sweep, "run", counting)
    return counts


def _retaped(f, xs):
    """Gradients by the re-taping sweep (create_graph: no arena)."""
    leaves = [tg.tensor(x, requires_grad=True) for x in xs]
    return [g.detach().numpy() for g in tg.autograd.grad(f(*leaves), leaves, create_graph=True)]


def _program(x, w, T=tg):
    a = T.sin(x) * T.exp(-(x * x))  # x read four times: four additions into its adjoint
    b = a + w  # add's formula hands g itself to both inputs: never kept, copied
    c = T.tanh(b) * w - a / (w * w + 1.0)
    return (c * c + b).sum()


def test_large_elementwise_gradients_match_retaping_and_torch(held_counts):
    r = np.random.default_rng(0)
    xs = [r.standard_normal(N), r.standard_normal(N)]
    leaves = [tg.tensor(v, requires_grad=True) for v in xs]
    _program(*leaves).backward()
    assert max(held_counts) >= 8  # the leaves' imports and most records: held apart
    want = _retaped(_program, xs)
    for t, g in zip(leaves, want):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-12, atol=1e-12)
    torch = pytest.importorskip("torch")
    tl = [torch.tensor(v, requires_grad=True) for v in xs]
    _program(*tl, T=torch).backward()
    for t, q in zip(leaves, tl):
        np.testing.assert_allclose(t.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_along_a_direction_matches_finite_differences():
    r = np.random.default_rng(1)
    check_directional_derivative(_program, [r.standard_normal(N), r.standard_normal(N)], seed=1)


def test_grads_are_private_and_accumulate_into_existing_grads():
    r = np.random.default_rng(2)
    x = tg.tensor(r.standard_normal(N), requires_grad=True)
    w = tg.tensor(r.standard_normal(N), requires_grad=True)
    _program(x, w).backward()
    first = [x.grad.numpy().copy(), w.grad.numpy().copy()]
    assert not np.shares_memory(x.grad.numpy(), w.grad.numpy())
    _program(x, w).backward()  # adds into the existing .grad
    np.testing.assert_allclose(x.grad.numpy(), 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[1], rtol=1e-12)
    x.grad.numpy()[:] = 0.0  # a .grad owns its array: nothing else changes with it
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[1], rtol=1e-12)


def test_intermediate_inputs_hooks_and_retained_graphs_read_their_adjoints():
    """``autograd.grad`` with an intermediate input reads its adjoint after the sweep; a hook
    on an intermediate reads and replaces it; a retained graph is swept twice."""
    r = np.random.default_rng(3)
    x0 = r.standard_normal(N)
    x = tg.tensor(x0, requires_grad=True)
    a = tg.sin(x) * 2.0
    b = tg.exp(-(a * a))
    loss = (b * a).sum()
    ga, gx = tg.autograd.grad(loss, [a, x], retain_graph=True)
    want_ga = np.exp(-4 * np.sin(x0) ** 2) * (1 - 8 * np.sin(x0) ** 2)
    np.testing.assert_allclose(ga.numpy(), want_ga, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx.numpy(), want_ga * 2 * np.cos(x0), rtol=1e-10, atol=1e-12)
    a.register_hook(lambda g: g * 3.0)
    loss.backward()  # the retained graph, through the hook
    np.testing.assert_allclose(x.grad.numpy(), 3 * want_ga * 2 * np.cos(x0), rtol=1e-10,
                               atol=1e-12)


def test_float32_adjoints_are_held_in_float32():
    r = np.random.default_rng(4)
    x0 = r.standard_normal(N).astype(np.float32)
    x = tg.tensor(x0, requires_grad=True)
    ((tg.sin(x) * tg.exp(-(x * x))) * 3.0).sum().backward()
    assert x.grad.dtype == tg.float32
    x64 = x0.astype(np.float64)
    want = 3 * np.exp(-x64 * x64) * (np.cos(x64) - 2 * x64 * np.sin(x64))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-4, atol=1e-5)


def test_adjoints_the_compiled_loop_writes_stay_in_the_arena():
    """A record whose adjoint a reduction or a reshape writes (the compiled loop) is not held
    apart; the leaves and the elementwise records NumPy sweeps are."""
    r = np.random.default_rng(5)
    x = tg.tensor(r.standard_normal(N), requires_grad=True)
    y = tg.sin(x) * 2.0  # its adjoint: written by the reshape's record, in the compiled loop
    z = tg.exp(y.reshape(N // 2, 2)) * 0.5
    seg = z._seg
    s = sweep.Sweep(seg)
    own = sweep.slot_kinds(s.recs, s.offs, s.tabs[3])[3]
    codes = s.recs[:, 0] & 0xFFFF
    assert own[y._rec] == 0 and own[codes.tolist().index(0)]  # the leaf's import: held apart
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(2 * np.sin(x.detach().numpy())) *
                               np.cos(x.detach().numpy()), rtol=1e-12)


def _kinds_by_numpy(recs, offs, iaux):
    """``slot_kinds`` written with NumPy's array operations (its first form): the reference."""
    from tapegrad import tape
    from tapegrad.engine.numpy_records import BIG, elementwise_table
    from tapegrad.registry import PYTHON_BASE, Op

    codes = recs[:, tape.OP] & tape.CODE_MASK
    sizes = offs[1:] - offs[:-1]
    big = sizes >= BIG
    python = codes >= PYTHON_BASE
    numpy_swept = big & ~python & elementwise_table()[np.minimum(codes, PYTHON_BASE - 1)]
    compiled = ~python & ~numpy_swept
    sums = np.flatnonzero((codes == int(Op.SCATTER_STRIDED)) & (sizes == 1))
    inputs = recs[sums, tape.A]
    compiled[sums[(inputs >= 0) & big[np.maximum(inputs, 0)]]] = False
    writes = np.zeros(len(codes), np.bool_)
    for field in (tape.A, tape.B):
        written = recs[compiled, field]
        writes[written[written >= 0]] = True
    from tapegrad.engine._sweep_dispatch import TILED, _transposing

    tiled = np.array([c == int(Op.GATHER_STRIDED) and n >= TILED and _transposing(iaux, aux)
                      for c, n, aux in zip(codes.tolist(), sizes.tolist(),
                                           recs[:, tape.AUX].tolist())], np.bool_)
    own = (numpy_swept | ((codes == int(Op.IMPORT)) | python | tiled) & big) & \
        ((recs[:, tape.OP] & tape.HOOKED) == 0) & ~writes
    return big, numpy_swept, writes, own


def test_slot_kinds_in_one_pass_as_numpy_computes_them():
    r = np.random.default_rng(6)
    x = tg.tensor(r.standard_normal((64, N // 64)), requires_grad=True)
    w = tg.tensor(r.standard_normal((N // 64, 8)), requires_grad=True)
    y = tg.sin(x) * x  # elementwise, large: NumPy's
    h = (y @ w).sum(1)  # a Python op, a reduction of a small record
    z = tg.exp(y).sum() + h.sum() + (x * 2.0).reshape(-1)[::3].sum() + tg.exp(x.t()).sum() + \
        (tg.nn.functional.softmax(x, -1) * x).sum()  # a transpose and a large Python op
    y.register_hook(lambda g: g)  # a hooked record: never held apart
    s = sweep.Sweep(z._seg)
    kinds = sweep.slot_kinds(s.recs, s.offs, s.tabs[3])
    for got, want in zip(kinds, _kinds_by_numpy(s.recs, s.offs, s.tabs[3])):
        np.testing.assert_array_equal(got, want)
    codes = (s.recs[:, 0] & 0xFFFF).tolist()
    python = [r for r, c in enumerate(codes) if c >= PYTHON_BASE and s.offs[r + 1] - s.offs[r]
              == N]  # softmax's
    transposes = [r for r, c in enumerate(codes) if c == int(Op.GATHER_STRIDED) and
                  s.offs[r + 1] - s.offs[r] == N]
    assert kinds[3][python].all() and kinds[3][transposes].all() and python and transposes
