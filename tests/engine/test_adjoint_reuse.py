"""Large elementwise VJPs write into arrays the sweep holds and nothing reads any more (the
record's own adjoint once it is dead, arrays earlier records dropped), and a segment's large
import adjoint is handed to the segment it came from without a copy. The gradients must be
bit for bit those of the arena (the same formulas, the same additions in the same order), and
no array tapegrad hands out (a ``.grad``, a retained grad, a hook's argument) may change after."""

import weakref

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import arena, sweep

N = 1 << 19  # elements per array: large records, an arena past the held-apart thresholds


def _arena_only(monkeypatch):
    """Adjoints in the arena only: no held arrays, nothing written in place."""
    monkeypatch.setattr(sweep, "_OWN_ARENA", 1 << 62)


PROGRAMS = {
    "sin_exp": lambda x, w: (tg.sin(x) * tg.exp(-(x * x))).sum(),
    "square_twice": lambda x, w: (x * x + tg.sin(x) * (x * x)).sum(),
    "add_self": lambda x, w: ((tg.exp(x) + tg.exp(x)) * w + (w + w)).sum(),
    "sub_self": lambda x, w: (tg.tanh(x - w) * (w - w + x) - (x - x)).sum(),
    "chain": lambda x, w: (tg.sigmoid(tg.cos(x) * w) / (1.0 + w * w) - tg.sqrt(x * x + 1.0)
                           * 3.0 + tg.log(tg.exp(w) + 2.0)).sum(),
    "constants": lambda x, w: ((2.0 - x) * (x / 3.0) + tg.relu(w) * tg.abs(x)).sum(),
}


def _grads(program, dtype=np.float64, weight=None):
    r = np.random.default_rng(0)
    x = tg.tensor(r.standard_normal(N).astype(dtype), requires_grad=True)
    w = tg.tensor(r.standard_normal(N).astype(dtype), requires_grad=True)
    loss = program(x, w)
    if weight is None:
        loss.backward()
    else:
        loss.backward(weight)
    return [None if t.grad is None else t.grad.numpy() for t in (x, w)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_gradients_equal_the_arena_sweeps_bit_for_bit(name, dtype, monkeypatch):
    got = _grads(PROGRAMS[name], dtype)
    _arena_only(monkeypatch)
    want = _grads(PROGRAMS[name], dtype)
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == dtype
            np.testing.assert_array_equal(a, b)


def test_gradients_match_finite_differences_on_a_direction():
    r = np.random.default_rng(1)
    x0, w0 = r.standard_normal(N), r.standard_normal(N)
    x, w = tg.tensor(x0, requires_grad=True), tg.tensor(w0, requires_grad=True)
    prog = PROGRAMS["chain"]
    prog(x, w).backward()
    vx, vw = r.standard_normal(N), r.standard_normal(N)

    def f(s):
        with tg.no_grad():
            return float(prog(tg.tensor(x0 + s * vx), tg.tensor(w0 + s * vw)))

    fd = (f(1e-6) - f(-1e-6)) / 2e-6
    got = float(np.dot(x.grad.numpy(), vx) + np.dot(w.grad.numpy(), vw))
    assert got == pytest.approx(fd, rel=1e-6)


def test_a_grad_handed_out_is_not_written_by_the_next_backward():
    r = np.random.default_rng(2)
    x = tg.tensor(r.standard_normal(N), requires_grad=True)
    prog = PROGRAMS["sin_exp"]
    prog(x, None).backward()
    first = x.grad
    kept = first.numpy().copy()
    x.grad = None
    prog(x, None).backward()  # a fresh .grad: the first one's array is the user's now
    np.testing.assert_array_equal(first.numpy(), kept)
    np.testing.assert_array_equal(x.grad.numpy(), kept)
    assert not np.shares_memory(first.numpy(), x.grad.numpy())


def test_a_user_seed_is_never_written():
    r = np.random.default_rng(3)
    x = tg.tensor(r.standard_normal(N), requires_grad=True)
    y = tg.exp(-(x * x))
    seed = tg.tensor(r.standard_normal(N))
    before = seed.numpy().copy()
    y.backward(seed)
    np.testing.assert_array_equal(seed.numpy(), before)
    x0 = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), before * np.exp(-x0 * x0) * -2 * x0,
                               rtol=1e-13, atol=1e-300)


def test_retained_grads_and_hooks_keep_what_they_were_given():
    r = np.random.default_rng(4)
    x0 = r.standard_normal(N)
    x = tg.tensor(x0, requires_grad=True)
    a = x * x
    a.retain_grad()
    b = -a
    seen = []
    b.register_hook(lambda g: seen.append(g))  # keeps the tensor it is handed
    c = tg.exp(b)
    loss = (tg.sin(x) * c).sum()
    loss.backward()
    e = np.exp(-x0 * x0)
    gb = np.sin(x0) * e  # d loss / d b (tapegrad's sin and exp: within an ulp of NumPy's)
    np.testing.assert_allclose(seen[0].numpy(), gb, rtol=1e-15, atol=1e-300)
    np.testing.assert_array_equal(a.grad.numpy(), -seen[0].numpy())
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x0) * e - 2 * x0 * gb, rtol=1e-13,
                               atol=1e-15)
    assert not np.shares_memory(a.grad.numpy(), x.grad.numpy())
    assert not np.shares_memory(seen[0].numpy(), x.grad.numpy())


def test_intermediate_inputs_and_a_retained_graph_swept_twice():
    r = np.random.default_rng(5)
    x0 = r.standard_normal(N)
    x = tg.tensor(x0, requires_grad=True)
    a = x * x
    b = tg.exp(-a)
    loss = (tg.sin(x) * b).sum()
    ga, gb, gx = tg.autograd.grad(loss, [a, b, x], retain_graph=True)
    np.testing.assert_allclose(gb.numpy(), np.sin(x0), rtol=1e-15, atol=1e-300)
    np.testing.assert_array_equal(ga.numpy(), -(gb.numpy() * b.detach().numpy()))
    loss.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    np.testing.assert_array_equal(once, gx.numpy())
    loss.backward()  # the saved values were not written by the first sweeps
    np.testing.assert_array_equal(x.grad.numpy(), once + once)


def test_a_sum_on_a_segment_of_its_own_seeds_the_held_adjoints():
    """A large ``sum`` recorded on a segment of its own (the forward's saved arrays filled
    the previous one): its import adjoint, a private copy, is the other segment's seed, which
    the records below write over; the leaf's ``.grad`` is an array of its own."""
    r = np.random.default_rng(6)
    x0 = r.standard_normal(1 << 21)
    x = tg.tensor(x0, requires_grad=True)
    # saved: x, exp(-x*x), sin(x) * exp(-x*x), cos(x): 4 arrays of 16.8 MB (x, saved by three
    # records, and exp's output, by two, count once), past the 64 MB that close a segment
    y = tg.sin(x) * tg.exp(-(x * x)) * tg.cos(x)
    loss = y.sum()
    assert loss._seg is not y._seg  # the case under test: two segments
    loss.backward(tg.tensor(2.0))
    want = 2.0 * np.exp(-x0 * x0) * (np.cos(2 * x0) - x0 * np.sin(2 * x0))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12, atol=1e-15)
    assert x.grad.numpy().base is None or x.grad.numpy().base.nbytes == x.grad.numpy().nbytes


def test_a_leaf_holding_most_of_the_arena_gets_it_as_its_grad():
    """A leaf whose slot is all but a quarter of the arena: its new ``.grad`` is that slot;
    it stays private (other leaves' gradients, the inputs and later backwards leave it alone)
    and accumulates in place. A leaf seeded directly still gets a copy of its seed."""
    r = np.random.default_rng(9)
    x0, g0 = r.standard_normal((256, 1024)), r.standard_normal(256)
    x = tg.tensor(x0, requires_grad=True)
    b = tg.tensor(r.standard_normal(256), requires_grad=True)
    (x.sum(-1) * 1.0 + b).backward(tg.tensor(g0))
    gx = x.grad.numpy()
    np.testing.assert_array_equal(gx, np.broadcast_to(g0[:, None], x0.shape))
    assert gx.flags.writeable and gx.base is not None  # (the arena's slot itself)
    assert not np.shares_memory(gx, b.grad.numpy()) and not np.shares_memory(gx, x0)
    first = gx.copy()
    (x * 2.0).sum().backward()  # a second backward: a new arena, added into .grad in place
    assert x.grad.numpy() is gx
    np.testing.assert_array_equal(gx, first + 2.0)
    seed = tg.tensor(r.standard_normal((256, 1024)))
    y = tg.tensor(x0, requires_grad=True)
    y.backward(seed)
    seed.numpy()[:] = 0.0
    assert np.abs(y.grad.numpy()).sum() > 0


@pytest.mark.parametrize("op", ["relu", "tanh", "mul"])
def test_a_large_seed_is_read_not_copied_and_left_alone(op):
    """``y.backward(g)`` on a large elementwise record: ``g`` is held read-only (no copy), the
    formulas write elsewhere, and ``g`` and the ``.grad`` stay apart."""
    r = np.random.default_rng(12)
    x = tg.tensor(r.standard_normal(N), requires_grad=True)
    g0 = r.standard_normal(N)
    g = tg.tensor(g0.copy())
    f = {"relu": tg.relu, "tanh": tg.tanh, "mul": lambda v: v * v}[op]
    f(x).backward(g)
    np.testing.assert_array_equal(g.numpy(), g0)
    x0 = x.detach().numpy()
    want = {"relu": np.where(x0 > 0, g0, 0.0), "tanh": g0 * (1 - np.tanh(x0) ** 2),
            "mul": (g0 * x0) + (g0 * x0)}[op]
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-14, atol=0)
    assert not np.shares_memory(x.grad.numpy(), g.numpy())


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_a_python_ops_large_adjoint_is_held_apart(op, monkeypatch):
    """A large Python-op record (softmax's) whose adjoint only Python reads: the seed is held
    as it is (read, not copied, left alone), and the gradient its rule returns, an array
    nothing else refers to, becomes the leaf's ``.grad`` without a copy; the values are the
    arena's bit for bit."""
    from tapegrad.ops import fused_softmax

    r = np.random.default_rng(13)
    x0, g0 = r.standard_normal((512, 1024)), r.standard_normal((512, 1024))
    f = getattr(tg.nn.functional, op)
    name = "_softmax_vjp_np" if op == "softmax" else "_log_softmax_vjp_np"
    rule = getattr(fused_softmax, name)
    returned = []

    def spy(*args, **kwargs):
        grads = rule(*args, **kwargs)
        returned.append(weakref.ref(grads[0]))  # (a reference would make it not private)
        return grads

    entry = tg.registry.REGISTRY[tg.registry.Op.SOFTMAX if op == "softmax" else
                                 tg.registry.Op.LOG_SOFTMAX]
    monkeypatch.setattr(entry, "vjp_np", spy)
    x, g = tg.tensor(x0, requires_grad=True), tg.tensor(g0.copy())
    f(x, -1).backward(g)
    np.testing.assert_array_equal(g.numpy(), g0)
    kept = returned[0]()  # alive only if it is the .grad's memory
    assert kept is not None and np.shares_memory(x.grad.numpy(), kept)
    _arena_only(monkeypatch)
    xa = tg.tensor(x0, requires_grad=True)
    f(xa, -1).backward(tg.tensor(g0))
    np.testing.assert_array_equal(x.grad.numpy(), xa.grad.numpy())


def test_only_a_rules_private_arrays_are_kept():
    kept = np.ones(5)
    fresh = arena._private((np.ones(5), kept, np.ones(10)[::2], None))
    assert fresh == [True, False, False, False]
    read_only = np.ones(5)
    read_only.flags.writeable = False
    assert arena._private((read_only,)) == [False]


def test_a_matrix_products_large_gradients_are_handed_over(monkeypatch):
    """A matrix product whose inputs' adjoints are held apart: the products its rule returns
    become the leaves' ``.grad`` without a copy, equal to the formulas'."""
    import tapegrad.ops.linalg as linalg

    r = np.random.default_rng(14)
    a0, b0, g0 = (r.standard_normal((512, 512)) for _ in range(3))
    made = []
    real = linalg._products

    def spy(*args):
        grads = real(*args)
        made.extend(weakref.ref(gk) for gk in grads if gk is not None)
        return grads

    monkeypatch.setattr(linalg, "_products", spy)
    a, b = tg.tensor(a0, requires_grad=True), tg.tensor(b0, requires_grad=True)
    (a @ b).backward(tg.tensor(g0))
    np.testing.assert_allclose(a.grad.numpy(), g0 @ b0.T, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), a0.T @ g0, rtol=1e-12, atol=1e-10)
    kept = [ref() for ref in made]
    assert all(k is not None for k in kept)
    assert np.shares_memory(a.grad.numpy(), kept[0]) and np.shares_memory(b.grad.numpy(), kept[1])


@pytest.mark.parametrize("case", ["softmax", "log_softmax", "matmul", "transpose"])
def test_held_apart_python_and_transpose_adjoints_against_pytorch(case):
    """The adjoints held apart above (a large Python op's, a transposing map's), seeded with a
    given gradient: the leaves' gradients are PyTorch's."""
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(15)
    x0, w0 = r.standard_normal((256, 1024)), r.standard_normal((1024, 256))
    f = {"softmax": lambda L, x, w: L.nn.functional.softmax(x, -1),
         "log_softmax": lambda L, x, w: L.nn.functional.log_softmax(x, -1),
         "matmul": lambda L, x, w: x @ w,
         "transpose": lambda L, x, w: x.t().contiguous() * 2.0}[case]
    shape = tuple(f(tg, tg.tensor(x0), tg.tensor(w0)).shape)
    g0 = r.standard_normal(shape)
    grads = []
    for L in (tg, torch):
        x, w = L.tensor(x0, requires_grad=True), L.tensor(w0, requires_grad=True)
        f(L, x, w).backward(L.tensor(g0))
        grads.append((x.grad.numpy(), None if w.grad is None else w.grad.numpy()))
    for mine, theirs in zip(*grads):
        if theirs is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
