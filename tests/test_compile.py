"""tg.compile: compiled and eager calls agree on values, gradients and side effects, across
calls with new input values, after guards fail, and for a sample of every op family."""

import sys
import threading
import warnings

import numpy as np
import pytest

import tapegrad as tg


def _arr(t):
    if t is None:
        return None
    return np.asarray(t.detach().numpy() if isinstance(t, tg.Tensor) else t)


def assert_same(a, b, rtol=1e-9):
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y, rtol)
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k], rtol)
        return
    if isinstance(a, tg.Tensor):
        assert isinstance(b, tg.Tensor) and a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(_arr(b), _arr(a), rtol=rtol, atol=1e-12)
        return
    assert a == b or (a is None and b is None)


def check_twins(make, inputs, expect_programs=1):
    """``make()`` -> (fn, state tensors). Build it twice; run one eagerly and one compiled on
    each of ``inputs`` (argument tuples); outputs, states and .grad must agree each time."""
    fe, se = make()
    fc, sc = make()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no silent fallback to eager in these tests
        for args in inputs:
            assert_same(fe(*args), step(*args))
            for a, b in zip(se, sc):
                assert_same(a, b)
                assert_same(a.grad, b.grad)
    assert step._count == expect_programs
    return step


def _mlp(opt_kind):
    def make():
        r = np.random.default_rng(2)
        shapes = [(6, 8), (8,), (8, 3), (3,)]
        params = [tg.tensor(r.standard_normal(s) * 0.3, requires_grad=True) for s in shapes]
        opt = {"sgd": lambda: tg.optim.SGD(params, lr=0.05, momentum=0.9),
               "sgd_plain": lambda: tg.optim.SGD(params, lr=0.05),
               "adam": lambda: tg.optim.Adam(params, lr=0.01), "hand": lambda: None}[opt_kind]()

        def step(X, Y):
            h = tg.tanh(X @ params[0] + params[1])
            loss = ((h @ params[2] + params[3] - Y) ** 2).mean()
            if opt is None:
                for p in params:
                    p.grad = None
                loss.backward()
                with tg.no_grad():
                    for p in params:
                        p -= 0.1 * p.grad
            else:
                opt.zero_grad()
                loss.backward()
                opt.step()
            return loss.detach()

        return step, params

    return make


def _batches(n, *shapes, seed=0):
    r = np.random.default_rng(seed)
    return [tuple(tg.tensor(r.standard_normal(s)) for s in shapes) for _ in range(n)]


@pytest.mark.parametrize("opt_kind", ["hand", "sgd", "sgd_plain", "adam"])
def test_mlp_training_step(opt_kind):
    check_twins(_mlp(opt_kind), _batches(5, (5, 6), (5, 3)))


def test_plain_sgd_settings_are_guarded():
    make = _mlp("sgd_plain")
    fe, pe = make()
    fc, pc = make()
    step = tg.compile(fc)
    opt_c = fc.__closure__[[c.cell_contents.__class__.__name__ for c in fc.__closure__].index(
        "SGD")].cell_contents
    opt_e = fe.__closure__[[c.cell_contents.__class__.__name__ for c in fe.__closure__].index(
        "SGD")].cell_contents
    for i, (X, Y) in enumerate(_batches(4, (5, 6), (5, 3))):
        if i == 2:  # a scheduler would do this: the replay must use the new rate
            opt_c.param_groups[0]["lr"] = opt_e.param_groups[0]["lr"] = 0.2
        assert_same(fe(X, Y), step(X, Y))
        for a, b in zip(pe, pc):
            assert_same(a, b)
    assert step._count == 2


def test_nn_module_with_mse_loss_and_adamw():
    import tapegrad.nn.functional as F
    from tapegrad import nn

    def make():
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        opt = tg.optim.AdamW(model.parameters(), lr=1e-2)

        def step(X, y):
            loss = F.mse_loss(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        return step, list(model.parameters())

    check_twins(make, _batches(4, (6, 4), (6, 3), seed=3))


def test_hvp_by_double_backward():
    r = np.random.default_rng(4)
    A = tg.tensor(r.standard_normal((7, 7)))

    def make():
        def hvp(x, v):
            (g,) = tg.autograd.grad((tg.tanh(A @ x) ** 2).sum(), x, create_graph=True)
            (h,) = tg.autograd.grad(g, x, v)
            return h, g.detach()

        return hvp, []

    inputs = [(tg.tensor(r.standard_normal(7), requires_grad=True), tg.tensor(r.standard_normal(7)))
              for _ in range(3)]
    check_twins(make, inputs)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "functional.hvp"])
def test_function_transforms_inside(transform):
    A = tg.tensor(np.random.default_rng(5).standard_normal((4, 4)))

    def f(x):  # A is reached through f, a global function of the compiled one
        return (tg.tanh(A @ x) ** 2).sum()

    def make():
        run = {"grad": lambda x, v: tg.grad(f)(x),
               "value_and_grad": lambda x, v: tg.value_and_grad(f)(x),
               "functional.hvp": lambda x, v: tg.autograd.functional.hvp(f, x, v)}[transform]
        return run, []

    r = np.random.default_rng(6)
    check_twins(make, [(tg.tensor(r.standard_normal(4)), tg.tensor(r.standard_normal(4)))
                       for _ in range(3)])


def test_sin_exp_value_and_grad():
    def make():
        def f(x):
            x.grad = None
            y = (tg.sin(x) * tg.exp(-(x * x))).sum()
            y.backward()
            return y.detach(), x.grad.clone()

        return f, []

    r = np.random.default_rng(3)
    check_twins(make, [(tg.tensor(r.standard_normal(5000), requires_grad=True),)
                       for _ in range(3)])


def test_gmm_log_likelihood_gradient():
    n, d, k = 30, 3, 4
    r = np.random.default_rng(6)
    rows, cols = np.tril_indices(d, -1)
    idx = np.zeros((d, d), np.int64)
    idx[rows, cols] = np.arange(1, len(rows) + 1)
    idx = idx.reshape(-1)

    def make():
        rr = np.random.default_rng(1)
        pa = tg.tensor(rr.standard_normal(k), requires_grad=True)
        pm = tg.tensor(rr.standard_normal((k, d)), requires_grad=True)
        pi = tg.tensor(rr.standard_normal((k, d + d * (d - 1) // 2)) * 0.1, requires_grad=True)

        def gmm(xt):
            for p in (pa, pm, pi):
                p.grad = None
            qdiag = tg.exp(pi[:, :d])
            padded = tg.cat([tg.zeros((k, 1), dtype=pi.dtype), pi[:, d:]], 1)
            L = padded[:, idx].reshape(k, d, d)
            xc = xt[:, None, :] - pm[None, :, :]
            lx = tg.einsum("kij,nkj->nki", L, xc)
            qx = qdiag[None, :, :] * xc + lx
            inner = pa + pi[:, :d].sum(1) - 0.5 * (qx * qx).sum(2)
            loss = tg.logsumexp(inner, 1).sum() - n * tg.logsumexp(pa, 0)
            (-loss).backward()
            return loss.detach()

        return gmm, [pa, pm, pi]

    check_twins(make, [(tg.tensor(r.standard_normal((n, d))),) for _ in range(3)])


def test_long_scalar_chain():
    def make():
        x = tg.tensor(0.5, requires_grad=True)

        def chain(scale):
            x.grad = None
            y = x * scale
            for _ in range(300):
                y = y * 0.9999 + tg.sin(y) * 0.01
            y.backward()
            return y.detach()

        return chain, [x]

    check_twins(make, [(tg.tensor(s),) for s in (1.0, 0.7, 1.3)])


def test_decorator_kwargs_pytrees_and_numpy_arguments():
    w = tg.tensor([1.0, -2.0, 0.5])

    @tg.compile
    def f(xs, *, scale, opts):
        a, b = xs["a"], xs["b"]
        return {"sum": (a * w + b).sum() * scale, "pair": [a.exp(), tg.tensor(b) * 2.0]}, None

    for i in range(3):
        a = tg.tensor(np.arange(3.0) + i)
        b = np.ones(3) * i
        got = f({"a": a, "b": b}, scale=2.0, opts="x")
        assert_same(got, f.fn({"a": a, "b": b}, scale=2.0, opts="x"))
    assert f._count == 1
    f({"a": a, "b": b}, scale=3.0, opts="x")  # another Python value: another trace
    assert f._count == 2


class _Model:
    def __init__(self, w):
        self.w = tg.tensor(w, requires_grad=True)

    def update(self, x):
        self.w.grad = None
        (self.w * x).sum().backward()
        with tg.no_grad():
            self.w -= 0.5 * self.w.grad
        return self.w.detach().clone()

    compiled_update = tg.compile(update)


def test_compiled_method_per_instance():
    a, b, ea, eb = (_Model([1.0, 2.0]), _Model([3.0, 0.0]), _Model([1.0, 2.0]),
                    _Model([3.0, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            x = tg.tensor([1.0, -1.0])
            assert_same(a.compiled_update(x), ea.update(x))
            assert_same(b.compiled_update(x * 2.0), eb.update(x * 2.0))
    assert a.compiled_update._count == 1 and b.compiled_update._count == 1


# ---- guards: each kind re-traces and gives the eager answer ----

def test_guard_branch_on_tensor_value():
    def fn(x):
        if (x.sum() > 0).item():
            return x * 2.0
        return x - 1.0

    step = tg.compile(fn)
    for v in ([1.0, 2.0], [3.0, 1.0], [-5.0, 1.0], [-1.0, -1.0], [1.0, 1.0]):
        x = tg.tensor(v)
        assert_same(step(x), fn(x))
    assert step._count == 2
    strict = tg.compile(fn, fullgraph=True)
    strict(tg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="guard"):
        strict(tg.tensor([-1.0, -2.0]))


def test_guard_bool_of_tensor():
    def fn(x):
        return x * 3.0 if x.max() > 1.0 else x / 3.0

    step = tg.compile(fn)
    for v in ([2.0, 0.0], [0.5, 0.1], [4.0, 1.0]):
        assert_same(step(tg.tensor(v)), fn(tg.tensor(v)))
    assert step._count == 2


def test_guard_mask_changes_size():
    def fn(x):
        x.grad = None
        y = x[x > 0]
        (y ** 2).sum().backward()
        return y.detach(), x.grad.clone()

    step = tg.compile(fn)
    for v in ([1.0, -2.0, 3.0], [2.0, -1.0, 1.0], [1.0, 2.0, 3.0], [-1.0, -1.0, 2.0]):
        x1, x2 = tg.tensor(v, requires_grad=True), tg.tensor(v, requires_grad=True)
        assert_same(step(x1), fn(x2))
    assert step._count == 3
    strict = tg.compile(fn, fullgraph=True)
    strict(tg.tensor([1.0, -2.0], requires_grad=True))
    with pytest.raises(RuntimeError):
        strict(tg.tensor([1.0, 2.0], requires_grad=True))


class _Holder:
    pass


def test_guard_captured_tensor_replaced_or_modified_in_place():
    h = _Holder()
    h.w = tg.tensor([1.0, 2.0])

    def fn(x):
        return (x * h.w).sum()

    step = tg.compile(fn)
    x = tg.tensor([3.0, 4.0])
    assert step(x).item() == 11.0
    assert step(x).item() == 11.0
    with tg.no_grad():
        h.w.mul_(2.0)  # modified in place: the replay reads the new value
    assert step(x).item() == 22.0
    assert step._count == 1
    h.w = tg.tensor([0.0, 1.0])  # replaced: the identity guard fails, re-trace
    assert step(x).item() == 4.0
    assert step._count == 2
    strict = tg.compile(fn, fullgraph=True)
    strict(x)
    h.w = tg.tensor([1.0, 1.0])
    with pytest.raises(RuntimeError, match="replaced"):
        strict(x)


def test_guard_python_value_the_function_reads():
    h = _Holder()
    h.scale = 2.0
    offset = [0.5]

    def fn(x):
        return x * h.scale + offset[0]

    step = tg.compile(fn)
    x = tg.tensor([1.0])
    assert step(x).item() == 2.5
    assert step(x).item() == 2.5
    h.scale = 3.0  # baked into the program: the replay must notice
    assert step(x).item() == 3.5
    offset[0] = 1.0
    assert step(x).item() == 4.0
    assert step._count == 3


def test_guard_argument_aliasing():
    w = tg.tensor([1.0, 2.0])

    def fn(a, b):
        return (a * b + w).sum()

    step = tg.compile(fn)
    x, y = tg.tensor([1.0, 3.0]), tg.tensor([2.0, 5.0])
    for args in ((x, x), (x, y), (w, y), (x, y), (x, x), (w, w), (y, w)):
        assert step(*args).item() == fn(*args).item()


def test_guard_argument_shape_and_dtype():
    def fn(x):
        return (x * x).sum(0)

    step = tg.compile(fn)
    for x in (tg.ones(3, 2), tg.ones(3, 2) * 2, tg.ones(4, 2), tg.ones(3, 2, dtype=tg.float32),
              tg.ones(3, 2, dtype=tg.float32) * 3):
        assert_same(step(x), fn(x))
    assert step._count == 3


def test_grad_mode_is_part_of_the_signature():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    step = tg.compile(lambda x: (w * x).sum())
    x = tg.tensor([1.0, 1.0])
    with tg.no_grad():
        assert step(x).item() == 3.0
        assert step(x).item() == 3.0
    with tg.inference_mode():
        assert step(x).item() == 3.0
    assert step._count == 2


def test_outputs_requiring_grad_are_differentiable_outside():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor(0.5, requires_grad=True)

    @tg.compile
    def f(x):
        y = tg.sin(w * x) + b
        return y.sum(), y * 2.0, (w * 2).detach()

    for i in range(3):
        x = tg.tensor([0.3 + i, -0.7])
        got = f(x)
        want = f.__wrapped__(x)
        assert_same(got, want)
        assert got[0].requires_grad and got[1].requires_grad and not got[2].requires_grad
        grads = []
        for s, v in (got[:2], want[:2]):
            w.grad = b.grad = None
            (s * 3.0 + (v * v).sum()).backward()
            grads.append((w.grad.clone(), b.grad.clone()))
        assert_same(grads[0], grads[1])
    assert f._count == 1
    # second order through the outputs: recorded by running the function again
    x = tg.tensor([1.0, -0.5])
    (gc,) = tg.autograd.grad(f(x)[0], w, create_graph=True)
    (ge,) = tg.autograd.grad(f.__wrapped__(x)[0], w, create_graph=True)
    assert_same(gc, ge)
    assert gc.requires_grad
    assert_same(tg.autograd.grad(gc.sum(), w)[0], tg.autograd.grad(ge.sum(), w)[0])
    for changed in (w, x):  # a leaf, or an input not requiring grad, changed after the call
        y = f(x)[0]
        with tg.no_grad():
            changed.mul_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            tg.autograd.grad(y, w, create_graph=True)
    assert f._count == 1


def test_second_order_through_outputs_of_a_function_with_effects_raises():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    n = tg.tensor(0.0)

    @tg.compile
    def f(x):
        with tg.no_grad():
            n.add_(1.0)  # an effect: running f again to record would count twice
        return (tg.sin(w * x)).sum()

    x = tg.tensor([0.3, 0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an in-place update of a tensor first met there
        f(x)
        y = f(x)
    assert f._count == 1
    with pytest.raises(RuntimeError, match="create_graph"):  # never a gradient without history
        tg.autograd.grad(y, w, create_graph=True)
    assert n.item() == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = tg.autograd.grad(f(x), w)  # first order: the replay's reverse sweep
    np.testing.assert_allclose(g.numpy(), (x * tg.cos(w * x)).detach().numpy(), rtol=1e-12)


def test_unsupported_op_runs_eagerly_with_one_warning_or_raises_under_fullgraph():
    def fn(x):
        return tg.sort(x).values * 2.0

    step = tg.compile(fn)
    x = tg.tensor([3.0, 1.0, 2.0])
    with pytest.warns(RuntimeWarning, match="sort"):
        assert step(x).tolist() == [2.0, 4.0, 6.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert step(x).tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(RuntimeError, match="sort"):
        tg.compile(fn, fullgraph=True)(x)
    assert sys.getprofile() is None


def test_tensor_made_outside_the_tracer_is_refused():
    def fn(x):
        y = tg.Tensor(x.numpy() * 2)  # raw NumPy: the tracer cannot see it
        return y + 1.0

    with pytest.warns(RuntimeWarning):
        out = tg.compile(fn)(tg.tensor([1.0]))
    assert out.tolist() == [3.0]


def test_threads_share_one_compiled_function():
    w = tg.tensor(np.linspace(0, 1, 16))
    step = tg.compile(lambda x: (tg.sin(x * w)).sum())
    xs = [tg.tensor(np.full(16, float(i))) for i in range(8)]
    want = [(tg.sin(x * w)).sum().item() for x in xs]
    got = [None] * len(xs)

    def work(i):
        for _ in range(20):
            got[i] = step(xs[i]).item()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ---- a sample of every op family, compiled vs eager, values and gradients ----

_OPS = {
    "unary": lambda x, y: (x.exp() + x.sin() + x.cos() + x.tanh() + x.sigmoid() + x.relu()
                           + x.abs() + (x * x + 1.0).sqrt() + (y * y + 1.0).log()
                           + (x * x).log1p() + tg.tan(x * 0.1) + x.expm1()),
    "binary": lambda x, y: x * y + x / (y * y + 1.0) - y + 2.0 / (x * x + 1.0) - 3.0 - x,
    "pow": lambda x, y: (x * x + 1.0) ** 1.5 + 2.0 ** x + x ** 2 + tg.square(y),
    "broadcast": lambda x, y: x[:, None] * y[None, :] + y,
    "reduce": lambda x, y: x.sum() + (x * y).mean() + tg.logsumexp(x, 0) + x.sum(0, keepdim=True),
    "matmul": lambda x, y: (x[:, None] @ y[None, :]) @ y + x @ y,
    "movement": lambda x, y: (x.reshape(2, 3).T.flatten() * y.unsqueeze(0).squeeze(0)
                              + x.reshape(3, 2).transpose(0, 1).reshape(-1)),
    "index": lambda x, y: x[1:4] * y[::2] + x[[0, 2, 2]] + x[-1],
    "cat_where": lambda x, y: (tg.cat([x[:2], y[2:]], 0) + tg.where(x > y, x, y)
                               + tg.stack([x, y], 1).sum(1)),
    "einsum": lambda x, y: tg.einsum("i,j->ij", x, y).sum(1) + tg.einsum("i,i->", x, y),
    "softmax": lambda x, y: (tg.softmax(x.reshape(2, 3), 1).flatten() * y
                             + tg.log_softmax(y, 0) + x.max() + y.amin(0)),
}


@pytest.mark.parametrize("name", sorted(_OPS))
def test_op_family_compiled_matches_eager(name):
    f = _OPS[name]

    def make():
        def step(x, y):
            x.grad = y.grad = None
            out = f(x, y)
            out.sum().backward()
            return out.detach(), x.grad.clone(), y.grad.clone()

        return step, []

    r = np.random.default_rng(7)
    inputs = [tuple(tg.tensor(r.standard_normal(6), requires_grad=True) for _ in range(2))
              for _ in range(3)]
    check_twins(make, inputs)


# ---- the random programs of tests/test_property.py, compiled and eager ----

def test_random_programs_compiled_match_eager():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from test_property import SHAPES, programs, run_program

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(program=programs, seed=hypothesis.strategies.integers(0, 2 ** 16))
    def check(program, seed):
        def f(*leaves):
            out = run_program(list(leaves), program)
            loss = (out * out).sum() + out.sum()
            gs = tg.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
            gs = [tg.zeros_like(x) if g is None else g for x, g in zip(leaves, gs)]
            s = sum((g * g).sum() for g in gs)
            hs = tg.autograd.grad(s, leaves, allow_unused=True) if s.requires_grad else ()
            return out.detach(), [g.detach() for g in gs], [h for h in hs if h is not None]

        step = tg.compile(f, fullgraph=True)
        rng = np.random.default_rng(seed)
        for _ in range(3):
            leaves = [tg.tensor(rng.uniform(-1, 1, s), requires_grad=True) for s in SHAPES]
            assert_same(step(*leaves), f(*leaves))
        assert step._count == 1

    check()


def test_mixed_dtypes_compile_with_pytorchs_promotion():
    # (an index or a 0-d float64 constant beside float32 parameters: the program computes in
    # the eager op's result dtype instead of NumPy's float64, so the step compiles)
    idx, c0 = tg.arange(3), tg.tensor(2.0)

    def step(w):
        loss = ((w * idx + w * c0 + tg.where(idx > 0, w, idx) - 1.0) ** 2).mean() + \
            tg.cat([w, idx]).sum()
        loss.backward()
        with tg.no_grad():
            w -= 0.1 * w.grad
            w.grad = None
        return loss

    w_eager = tg.tensor(np.array([0.5, -1.0, 2.0], np.float32), requires_grad=True)
    w_comp = tg.tensor(np.array([0.5, -1.0, 2.0], np.float32), requires_grad=True)
    compiled = tg.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # (a fallback to eager warns)
        for _ in range(4):
            le, lc = step(w_eager), compiled(w_comp)
    assert lc.dtype == le.dtype == np.float32 and w_comp.dtype == np.float32
    np.testing.assert_allclose(w_comp.detach().numpy(), w_eager.detach().numpy(), rtol=1e-6)
