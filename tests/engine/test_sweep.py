"""The compiled sweep: long tapes, random graphs (numeric sweep == re-taped sweep), pauses."""

import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep
from tapegrad.ops import elementwise as E


def test_million_record_tape():
    # 500k iterations x 2 records: no recursion, no quadratic step, exact gradient.
    x = tg.tensor(0.25, requires_grad=True)
    y = x
    for _ in range(500_000):
        y = y * 1.000001 + 0.5
    y.backward()
    assert x.grad.item() == pytest.approx(1.000001 ** 500_000, rel=1e-9)


def _random_program(rng, x, w, steps=25):
    """A random DAG over a vector and a scalar with fan-out and fan-in."""
    pool = [x, w, x * w]
    unary = [tg.sin, tg.tanh, tg.sigmoid, lambda t: t * 0.7, lambda t: t.exp() * 0.1,
             lambda t: (t * t + 1.0).sqrt(), lambda t: t.relu() + t.abs(), tg.cos]
    binary = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b * 0.5,
              lambda a, b: a / (b * b + 1.0), tg.maximum]
    for _ in range(steps):
        if rng.random() < 0.5:
            f = unary[rng.integers(len(unary))]
            pool.append(f(pool[rng.integers(len(pool))]))
        else:
            f = binary[rng.integers(len(binary))]
            pool.append(f(pool[rng.integers(len(pool))], pool[rng.integers(len(pool))]))
    out = pool[-1]
    for t in pool[-4:-1]:
        out = out + t
    return out.sum()


@pytest.mark.parametrize("seed", range(8))
def test_numeric_sweep_equals_retaped_sweep_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    xv, wv = rng.standard_normal(5), rng.standard_normal()
    x = tg.tensor(xv, requires_grad=True)
    w = tg.tensor(wv, requires_grad=True)
    fast = tg.autograd.grad(_random_program(np.random.default_rng(seed), x, w), (x, w))
    slow = tg.autograd.grad(_random_program(np.random.default_rng(seed), x, w), (x, w),
                            create_graph=True)
    for f, s in zip(fast, slow):
        np.testing.assert_allclose(f.numpy(), s.detach().numpy(), rtol=1e-12, atol=1e-14)
    # and both agree with finite differences
    assert tg.autograd.gradcheck(lambda a, b: _random_program(np.random.default_rng(seed), a, b),
                                 (x, w))


def test_unreached_records_cannot_poison_a_shared_input():
    # sqrt'(0) = inf: a record not reached from the output must not add 0*inf = nan to x.
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    unrelated = x.sqrt()  # noqa: F841 (recorded, never used)
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_scalar_fast_path_records_like_the_generic_ops():
    vals = (0.7, -1.3)
    fast_ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
                lambda a, b: a * 2.5, lambda a, b: 2.5 * a, lambda a, b: a - 2.5,
                lambda a, b: 2.5 - a, lambda a, b: a / 2.5, lambda a, b: 2.5 / a,
                lambda a, b: a + 2, lambda a, b: 3 + b, lambda a, b: -a]
    slow_ops = [E.add, E.sub, E.mul, E.div, lambda a, b: E.mul(a, 2.5),
                lambda a, b: E.mul(2.5, a), lambda a, b: E.sub(a, 2.5),
                lambda a, b: E.sub(2.5, a), lambda a, b: E.div(a, 2.5),
                lambda a, b: E.div(2.5, a), lambda a, b: E.add(a, 2), lambda a, b: E.add(3, b),
                lambda a, b: E.neg(a)]
    for f, g in zip(fast_ops, slow_ops):
        a1, b1 = (tg.tensor(v, requires_grad=True) for v in vals)
        a2, b2 = (tg.tensor(np.array([v]), requires_grad=True) for v in vals)  # array path
        r1, r2 = f(a1, b1), g(a2, b2)
        assert type(r1._data) is float
        assert r1.item() == r2.item()
        assert r1.grad_fn.name() == r2.grad_fn.name()
        g1 = tg.autograd.grad(r1, (a1, b1), allow_unused=True)
        g2 = tg.autograd.grad(r2.sum(), (a2, b2), allow_unused=True)
        for p, q in zip(g1, g2):
            assert (p is None) == (q is None)
            if p is not None:
                assert p.item() == q.item()


def test_scalar_fast_path_on_a_chain_matches_the_array_path():
    # ops on tensors of the current segment (not leaves) take the inlined recorders
    def chain(y):
        for c in (2, 2.5, -3):
            y = y * c
            y = y + c
            y = y - c
            y = y / c
            y = y * (y * 0.5) + (y - 1.5) / (y * y + 1.0) - y * 0.25  # tensor-tensor ops
        return y

    a1 = tg.tensor(0.7, requires_grad=True)
    a2 = tg.tensor(np.array([0.7]), requires_grad=True)
    r1, r2 = chain(a1 * 1.0), chain(a2 * 1.0)
    assert type(r1._data) is float and r1.item() == r2.item()
    (g1,), (g2,) = tg.autograd.grad(r1, a1), tg.autograd.grad(r2.sum(), a2)
    assert g1.item() == g2.item()
    with tg.inference_mode():
        r = chain(a1 * 1.0)
    assert not r.requires_grad and r.is_inference()
    with tg.no_grad():
        assert not chain(a1 * 1.0).requires_grad


def test_scalar_domain_edges_do_not_raise():
    x = tg.tensor(0.0, requires_grad=True)
    assert tg.log(x).item() == -math.inf
    assert math.isnan(tg.sqrt(tg.tensor(-1.0)).item())
    assert tg.exp(tg.tensor(1000.0)).item() == math.inf
    assert math.isnan((x / x).item())
    assert (tg.tensor(1.0) / 0.0).item() == math.inf
    y = x.sqrt()
    y.backward()
    assert x.grad.item() == math.inf


def test_stale_dispatch_is_detected(monkeypatch):
    from tapegrad.engine import _gen_dispatch, _sweep_dispatch, kernels, sweep

    monkeypatch.setattr(kernels, "_kernels", {})
    monkeypatch.setattr(_sweep_dispatch, "RULES_HASH", "stale")
    with pytest.raises(RuntimeError, match="out of date"):
        sweep.kernel()
    monkeypatch.setattr(_sweep_dispatch, "RULES_HASH", _gen_dispatch.rules_hash())
    assert sweep.kernel() is _sweep_dispatch.sweep
    assert sweep.kernel(vectorised=True) is _sweep_dispatch.vsweep


def _weighted_grads(f, arrays, w):
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    (f(*ts) * tg.tensor(w)).sum().backward()
    return [t.grad.numpy() for t in ts]


def test_numpy_path_for_large_records_matches_compiled_loop():
    # Records of >= BIG elements are handed to NumPy; results must not depend on the size.
    from tapegrad.engine import _sweep_dispatch, sweep

    assert sweep.BIG == _sweep_dispatch.BIG
    n = sweep.BIG + 10
    rng = np.random.default_rng(1)
    xv, yv = rng.uniform(0.2, 1.5, n), rng.uniform(0.2, 1.5, n)
    yv[:5] = xv[:5]  # ties for maximum/minimum
    w = np.linspace(-1.0, 1.0, n)
    unary = [tg.sin, tg.cos, tg.exp, tg.log, tg.tanh, tg.sigmoid, tg.relu, tg.sqrt, tg.abs,
             tg.tan, tg.log1p, tg.expm1, lambda a: a.clamp(0.5, 1.0), lambda a: a ** 2.5,
             lambda a: 2.0 ** a, lambda a: 1.0 / a, lambda a: 3.0 - a, lambda a: -a,
             lambda a: a.clone(), lambda a: a.float().double()]
    binary = [tg.mul, tg.div, tg.pow, tg.maximum, tg.minimum, tg.add, tg.sub,
              lambda a, b: tg.where(a > b, a, b)]
    for k, fns in ((1, unary), (2, binary)):
        for f in fns:
            arrays = [xv, yv][:k]
            big = _weighted_grads(f, arrays, w)  # one record of n elements: NumPy path
            chunks = [_weighted_grads(f, [a[i:i + 100] for a in arrays], w[i:i + 100])
                      for i in range(0, n, 100)]  # compiled loop
            for j in range(k):
                np.testing.assert_allclose(big[j], np.concatenate([c[j] for c in chunks]),
                                           rtol=1e-6 if f is unary[-1] else 1e-13, atol=1e-15)


def test_large_records_match_torch(torch):
    # The NumPy path for large records, against an independent implementation.
    from tests.op_checks import check_against_torch

    n = 5000
    rng = np.random.default_rng(2)
    xv, yv = rng.uniform(0.2, 1.5, n), rng.uniform(0.2, 1.5, n)
    yv[:7] = xv[:7]
    cases = [(lambda a: a.sin() * a.tanh(), lambda a: a.sin() * a.tanh()),
             (lambda a: a.sqrt() / (a ** 2.5 + 1.0), lambda a: a.sqrt() / (a ** 2.5 + 1.0)),
             (lambda a: (2.0 ** a).log1p().sigmoid(), lambda a: (2.0 ** a).log1p().sigmoid())]
    for f, tf in cases:
        check_against_torch(f, tf, [xv], rtol=1e-12)
    pairs = [(lambda a, b: tg.maximum(a, b) * tg.minimum(a, b) / b,
              lambda a, b: torch.maximum(a, b) * torch.minimum(a, b) / b),
             (lambda a, b: tg.where(a > b, a ** b, b.exp()),
              lambda a, b: torch.where(a > b, a ** b, b.exp()))]
    for f, tf in pairs:
        check_against_torch(f, tf, [xv, yv], rtol=1e-12)


@pytest.mark.parametrize("n", [1, 3, 300])
def test_plain_and_vectorised_kernels_agree(monkeypatch, n):
    """``sweep`` (formula switch, odometer per element) and ``vsweep`` (vectorised loops for the
    common formulas and the strided maps) give the same gradients, bit for bit."""
    rng = np.random.default_rng(n)
    xs, ys = rng.uniform(-2, 2, n), rng.uniform(0.5, 2, n)

    def grads(mean):
        monkeypatch.setattr(sweep, "_VECTOR_MEAN", mean)
        x, y = tg.tensor(xs, requires_grad=True), tg.tensor(ys, requires_grad=True)
        z = tg.tanh(x * y + x) - tg.exp(-y) + tg.sigmoid(x) * 3.0 + tg.relu(x - y)
        m = tg.stack([z, z * 2.0, x]).T + y[:, None]  # broadcasts: strided gathers
        (z.clone() + (-z) * z + 1.0).sum().backward(retain_graph=True)
        (m.sum(0) * 0.5).sum().backward()  # a sum over an axis: a strided scatter
        return x.grad.numpy().copy(), y.grad.numpy().copy()

    plain, vector = grads(10 ** 9), grads(0)
    for p, v in zip(plain, vector):
        np.testing.assert_array_equal(p, v)


@pytest.mark.parametrize("n", [1, 3, 300])
def test_plain_and_vectorised_kernels_agree_on_powers_quotients_and_second_backwards(
        monkeypatch, n):
    """The loops ``vsweep`` has of its own for constant powers, quotients and the tanh backward
    records of a second backward give the formula switch's gradients bit for bit (special
    values included; sigmoid's backward records take the switch in both)."""
    rng = np.random.default_rng(n)
    xs, ys = rng.uniform(-2, 2, n), rng.uniform(0.5, 2, n)
    if n >= 3:
        xs[:3] = [0.0, -0.0, np.inf]

    def program(L, x, y):
        z = x ** 2 + x ** 3 * 0.5 + y ** -2 + y ** 0.5 + x / y + x ** 1
        (gx, gy) = L.autograd.grad((L.tanh(x * y) + L.sigmoid(x - y) + z).sum(), (x, y),
                                   create_graph=True)
        (gx * gx + gy).sum().backward()  # tanh_backward, sigmoid_backward records

    def grads(mean):
        monkeypatch.setattr(sweep, "_VECTOR_MEAN", mean)
        x, y = tg.tensor(xs, requires_grad=True), tg.tensor(ys, requires_grad=True)
        with np.errstate(all="ignore"):
            program(tg, x, y)
        return x.grad.numpy().copy(), y.grad.numpy().copy()

    plain, vector = grads(10 ** 9), grads(0)
    for p, v in zip(plain, vector):
        np.testing.assert_array_equal(p, v)
    torch = pytest.importorskip("torch")  # and both are PyTorch's second derivatives
    tx, ty = (torch.tensor(a, requires_grad=True) for a in (xs, ys))
    program(torch, tx, ty)
    for v, t in zip(vector, (tx.grad, ty.grad)):
        np.testing.assert_allclose(v, t.numpy(), rtol=1e-12, atol=1e-12)


def test_a_python_record_on_top_is_swept_without_entering_the_kernel(monkeypatch):
    """A backward whose first record runs in Python (a matrix product) goes to it directly:
    the kernel is entered only below it (it would return at once)."""
    calls = []
    kernel_for = sweep._kernel_for

    def spy(*a):
        k = kernel_for(*a)

        def counted(*args):
            calls.append(args[10])  # the record the kernel starts at
            return k(*args)
        return counted

    monkeypatch.setattr(sweep, "_kernel_for", spy)
    a = np.random.default_rng(0).standard_normal((5, 4))
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    y = tg.tensor(a) @ x
    y.backward(tg.tensor(np.ones(5)))
    np.testing.assert_allclose(x.grad.numpy(), a.sum(0), rtol=1e-14)
    assert calls and y._rec not in calls


@pytest.mark.parametrize("n", [4095, 4096, 10000])
def test_losses_sharing_a_large_input_backward_one_after_the_other(n):
    """Two graphs recorded on one segment share the IMPORT of a parameter; the first backward
    (without retain_graph) flags it swept, and the second must still hand on its adjoint (an
    IMPORT of BIG or more elements once reached the large-record path and crashed)."""
    w0 = np.linspace(-1.0, 1.0, n)
    w = tg.tensor(w0, requires_grad=True)
    losses = [(w * w).sum(), w.tanh().sum(), (w * 3.0).sum()]
    for loss in losses:
        loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * w0 + (1 - np.tanh(w0) ** 2) + 3.0,
                               rtol=1e-13)

    class Split(tg.autograd.Function):  # two large outputs, nothing saved
        @staticmethod
        def forward(ctx, x):
            return x * 2.0, x * 3.0

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2.0 + gb * 3.0

    x = tg.tensor(w0, requires_grad=True)
    a, b = Split.apply(x)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(n, 5.0))


def _scalar_and_mapped_programs(xs, ys):
    """Gradients of an elementwise program (scalars) and of one with strided and indexed maps
    (indexing, broadcasting, sums over an axis) on the same inputs."""
    out = []
    for mapped in (False, True):
        x, y = tg.tensor(xs, requires_grad=True), tg.tensor(ys, requires_grad=True)
        z = tg.tanh(x * y + x) / (y * y + 1.0) - tg.exp(-y) + tg.sigmoid(x) ** 3
        z = tg.maximum(z, x * 0.1) + tg.where(x > 0.0, tg.sin(x), y.sqrt())
        if mapped:
            m = tg.stack([z, z * 2.0, x]).T + y[:, None]  # broadcasts: strided gathers
            z = (m.sum(0) * 0.5).sum() + z[tg.tensor([0, 0, 1])].sum() * z.reshape(-1)[1:].sum()
        else:
            z = (z * z).reshape(-1)[0] if z.ndim else z * z
        z.backward()
        out.append((x.grad.numpy().copy(), y.grad.numpy().copy()))
    return out


@pytest.mark.parametrize("shape", [(), (3,)])
def test_elementwise_kernel_agrees_with_sweep_and_hands_maps_on(monkeypatch, shape):
    """``esweep`` (the plain loop without strided and indexed maps, which a first scalar
    gradient compiles while ``sweep`` is not cached) gives ``sweep``'s gradients bit for bit;
    meeting a map, it stops there and ``sweep`` carries on."""
    from tapegrad.engine import _sweep_dispatch, kernels
    from tapegrad.engine import sweep as sweep_module

    rng = np.random.default_rng(len(shape))
    xs, ys = rng.uniform(-2, 2, shape), rng.uniform(0.5, 2, shape)
    if not shape:  # the mapped program indexes a vector
        xs, ys = rng.uniform(-2, 2, 3), rng.uniform(0.5, 2, 3)
    full = _scalar_and_mapped_programs(xs, ys)
    calls = []

    def esweep(*args):
        calls.append(args[10])  # where each call starts
        return _sweep_dispatch.esweep(*args)

    plain = {k: v for k, v in kernels._kernels.items() if not (type(k) is tuple and k[0] is False)}
    plain.update({"elementwise": esweep, ("elementwise", np.dtype(np.float64).num): esweep})
    monkeypatch.setattr(kernels, "_kernels", plain)
    monkeypatch.setattr(kernels, "_without_maps", lambda recs, dtype: True)
    monkeypatch.setattr(sweep_module, "_ready", {})  # the sweep's own lookup of the kernel
    forced = _scalar_and_mapped_programs(xs, ys)
    assert calls  # esweep ran, and the mapped program went on in sweep
    assert kernels._kernels[False, np.dtype(np.float64).num] is _sweep_dispatch.sweep
    for f, e in zip(full, forced):
        for a, b in zip(f, e):
            np.testing.assert_array_equal(a, b)


def test_elementwise_kernel_is_chosen_only_while_sweep_is_not_on_disk(monkeypatch):
    from tapegrad import tape
    from tapegrad.engine import _sweep_dispatch, kernels
    from tapegrad.registry import Op

    f64 = np.dtype(np.float64)
    recs = np.zeros((4, tape.NFIELDS), np.int64)
    recs[:, tape.OP] = [Op.IMPORT, Op.MUL, Op.RESHAPE, Op.SIN | tape.HOOKED]
    monkeypatch.setattr(kernels, "_SWEEP_ON_DISK", {f64.num: False})
    for code in (Op.GATHER_STRIDED, Op.SCATTER_STRIDED, Op.GATHER_INDEX, Op.SCATTER_INDEX):
        mapped = np.concatenate([recs, recs[:1]])
        mapped[-1, tape.OP] = code | tape.FREED
        monkeypatch.setattr(kernels, "_kernels", {})  # a first sweep meeting a map: sweep
        assert sweep.kernel(False, f64, mapped) is _sweep_dispatch.sweep
    monkeypatch.setattr(kernels, "_kernels", {})  # a first sweep of elementwise records: esweep
    assert sweep.kernel(False, f64, recs) is _sweep_dispatch.esweep
    assert sweep.kernel(True, f64, recs) is _sweep_dispatch.vsweep  # arrays: as before
    # kept, unchecked, until Sweep.run meets a map and asks for sweep
    assert sweep.kernel(False, f64, mapped) is _sweep_dispatch.esweep
    assert sweep.kernel(False, f64) is _sweep_dispatch.sweep
    assert sweep.kernel(False, f64, recs) is _sweep_dispatch.sweep
    monkeypatch.setattr(kernels, "_kernels", {})
    monkeypatch.setattr(kernels, "_SWEEP_ON_DISK", {f64.num: True})
    assert sweep.kernel(False, f64, recs) is _sweep_dispatch.sweep  # cached: one kernel
