"""Hooks on backward nodes (``grad_fn.register_hook`` / ``register_prehook``), compared with
PyTorch: when they run, what they see, what their results replace, their errors."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
LIBS = [(torch, TF), (tg, F)]


@pytest.fixture(autouse=True)
def _float64_torch():
    """PyTorch's Python floats become float64 tensors, as tapegrad's."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _np(t):
    if t is None:
        return None
    try:
        return np.asarray(t.detach().numpy())
    except RuntimeError:  # (PyTorch's ZeroTensor: abs's double backward)
        return np.zeros(tuple(t.shape))


def _same(a, b, tol=1e-12):
    if a is None or b is None:
        assert a is None and b is None
        return
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _trace(L):
    """Tensor hook, retain_grad, pre-hook and post-hook on one node: their order and what each
    sees."""
    log = []
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * w
    y.grad_fn.register_prehook(lambda go: log.append(("pre", [_np(g) for g in go])))
    y.grad_fn.register_hook(lambda gi, go: log.append(
        ("post", [_np(g) for g in gi], [_np(g) for g in go])))
    y.register_hook(lambda g: log.append(("tensor", [_np(g)])) or g * 2)
    y.retain_grad()
    (y * L.tensor([1.0, 2.0, 3.0])).sum().backward()
    return log, [_np(y.grad), _np(x.grad), _np(w.grad)]


def test_order_and_arguments_as_pytorchs():
    (tlog, tres), (olog, ores) = _trace(torch), _trace(tg)
    assert [e[0] for e in olog] == [e[0] for e in tlog] == ["tensor", "pre", "post"]
    for te, oe in zip(tlog, olog):
        for tv, ov in zip(te[1:], oe[1:]):
            assert len(tv) == len(ov)
            for a, b in zip(tv, ov):
                _same(a, b)
    for a, b in zip(tres, ores):
        _same(a, b)


def _replacing(L, pre, post, w_requires_grad=True):
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = L.tensor([0.5, -1.0, 2.0], requires_grad=w_requires_grad)
    y = (x * w).exp()
    z = y * x
    if pre is not None:
        z.grad_fn.register_prehook(pre)
        y.grad_fn.register_prehook(pre)
    if post is not None:
        z.grad_fn.register_hook(post)
        y.grad_fn.register_hook(post)
    z.sum().backward()
    return _np(x.grad), _np(w.grad) if w_requires_grad else None


@pytest.mark.parametrize("pre,post", [
    (lambda go: (go[0] * 3,), None),
    (lambda go: (None,), None),
    (lambda go: None, lambda gi, go: tuple(None if g is None else g * 2 for g in gi)),
    (None, lambda gi, go: (gi[0],) + (None,) * (len(gi) - 1)),
    (None, lambda gi, go: (None,) + gi[1:] if len(gi) > 1 else None),
    (lambda go: (go[0] + 1,), lambda gi, go: (gi[0] * go[0].sum(),) + gi[1:]),
], ids=["pre-scales", "pre-drops", "post-scales", "post-drops-second", "post-drops-first",
        "both"])
def test_replacements_as_pytorchs(pre, post):
    for wrg in (True, False):
        if not wrg and post is not None:
            continue  # (the second entry is None there)
        ours = _replacing(tg, pre, post, wrg)
        theirs = _replacing(torch, pre, post, wrg)
        for a, b in zip(ours, theirs):
            _same(a, b)


def test_hooks_chain_and_see_earlier_results():
    res = []
    for L, _ in LIBS:
        seen = []
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x.sin()
        y.grad_fn.register_prehook(lambda go: (go[0] * 7,))
        y.grad_fn.register_prehook(lambda go: seen.append(_np(go[0])))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1,))
        y.grad_fn.register_hook(lambda gi, go: seen.append((_np(gi[0]), _np(go[0]))))
        y.sum().backward()
        res.append((seen, _np(x.grad)))
    _same(res[0][1], res[1][1])
    _same(res[0][0][0], res[1][0][0])
    for a, b in zip(res[0][0][1], res[1][0][1]):
        _same(a, b)


BAD = {
    "pre_wrong_len": (True, lambda L: (lambda *a: (L.ones(3), L.ones(3)))),
    "pre_not_tuple": (True, lambda L: (lambda *a: L.ones(3))),
    "pre_list": (True, lambda L: (lambda *a: [L.ones(3)])),
    "pre_bad_shape": (True, lambda L: (lambda *a: (L.ones(2),))),
    "post_wrong_len": (False, lambda L: (lambda *a: (L.ones(3),))),
    "post_not_tuple": (False, lambda L: (lambda *a: L.ones(3))),
    "post_bad_shape": (False, lambda L: (lambda *a: (L.ones(2), None))),
    "post_bad_dtype": (False, lambda L: (lambda *a: (L.ones(3, dtype=L.float32), None))),
    "post_not_tensor": (False, lambda L: (lambda *a: (3, None))),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_results_raise_pytorchs_errors(name):
    pre, make = BAD[name]
    errors = []
    for L, _ in LIBS:
        x = L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)
        y = x * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)
        fn = make(L)

        def named(*a, fn=fn):
            return fn(*a)

        (y.grad_fn.register_prehook if pre else y.grad_fn.register_hook)(named)
        with pytest.raises((RuntimeError, TypeError)) as e:
            y.sum().backward()
        errors.append((type(e.value), str(e.value)))
    assert errors[0] == errors[1]


def test_a_hook_that_raises_propagates():
    x = tg.ones(2, requires_grad=True)
    y = x.exp()

    def bad(gi, go):
        raise ValueError("boom")

    y.grad_fn.register_hook(bad)
    with pytest.raises(ValueError, match="boom"):
        y.sum().backward()


def test_handles_remove_and_runs_per_backward():
    for L, _ in LIBS:
        calls = []
        x = L.ones(3, requires_grad=True)
        y = x * 2
        z = y.sum()
        h = y.grad_fn.register_hook(lambda gi, go: calls.append("post"))
        p = y.grad_fn.register_prehook(lambda go: calls.append("pre"))
        z.backward(retain_graph=True)
        z.backward(retain_graph=True)
        assert calls == ["pre", "post"] * 2
        h.remove()
        h.remove()  # (twice is fine)
        with p:
            pass  # (a handle is a context manager that removes the hook)
        z.backward()
        assert calls == ["pre", "post"] * 2
        np.testing.assert_allclose(_np(x.grad), [6.0, 6.0, 6.0])


def test_a_node_the_backward_does_not_run_runs_no_hooks():
    for L, _ in LIBS:
        calls = []
        x = L.ones(3, requires_grad=True)
        y = x * 2
        z = (y * 3).sum()
        y.grad_fn.register_prehook(lambda go: calls.append("pre"))
        y.grad_fn.register_hook(lambda gi, go: calls.append("post"))
        y.register_hook(lambda g: calls.append("tensor"))
        g, = L.autograd.grad(z, y)  # (y's node is not run: its input is not asked for)
        assert calls == ["tensor"]
        np.testing.assert_allclose(_np(g), [3.0, 3.0, 3.0])


OPS = {
    "mul": lambda F, L, x: x * (x + 1.0),
    "mul_scalar": lambda F, L, x: x * 2.0,
    "add_scalar": lambda F, L, x: x + 2.0,
    "pow": lambda F, L, x: x ** 3,
    "div": lambda F, L, x: x / (x * x + 1.0),
    "exp": lambda F, L, x: x.exp(),
    "tanh": lambda F, L, x: x.tanh(),
    "sigmoid": lambda F, L, x: x.sigmoid(),
    "relu": lambda F, L, x: F.relu(x),
    "leaky_relu": lambda F, L, x: F.leaky_relu(x, 0.1),
    "elu": lambda F, L, x: F.elu(x),
    "gelu": lambda F, L, x: F.gelu(x),
    "softplus": lambda F, L, x: F.softplus(x),
    "clamp": lambda F, L, x: x.clamp(-0.5, 0.5),
    "abs": lambda F, L, x: x.abs(),
    "where": lambda F, L, x: L.where(x > 0, x, x * x),
    "maximum": lambda F, L, x: L.maximum(x, x.sin()),
    "sum_dim": lambda F, L, x: x.sum(1),
    "transpose": lambda F, L, x: x.t(),
    "slice": lambda F, L, x: x[1:, ::2],
    "index": lambda F, L, x: x[L.tensor([0, 2, 2])],
    "view": lambda F, L, x: x.reshape(4, 3),
    "matmul": lambda F, L, x: x @ L.tensor(np.arange(8.0).reshape(4, 2)),
    "softmax": lambda F, L, x: F.softmax(x, -1),
    "log_softmax": lambda F, L, x: F.log_softmax(x, -1),
    "cat": lambda F, L, x: L.cat([x, x * 2], 0),
    "cumsum": lambda F, L, x: x.cumsum(1),
    "conv": lambda F, L, x: F.conv2d(x[None, None], L.tensor(np.ones((2, 1, 2, 2))),
                                     L.tensor([0.1, -0.2])),
    "layer_norm": lambda F, L, x: F.layer_norm(x, (4,)),
    "mse": lambda F, L, x: F.mse_loss(x, L.zeros(3, 4, dtype=x.dtype), reduction="none"),
    "softshrink": lambda F, L, x: F.softshrink(x, 0.3),
}


def _through_hook(L, FF, f, x0, create_graph, hook):
    """x's gradient of ``sum(f(x) * c)`` with ``hook`` on f(x)'s node (second derivative
    too under create_graph)."""
    x = L.tensor(x0, requires_grad=True)
    y = f(FF, L, x)
    if hook is not None:
        y.grad_fn.register_hook(hook)
    c = L.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))
    g, = L.autograd.grad((y * c).sum(), x, create_graph=create_graph)
    if not create_graph:
        return [_np(g)]
    if not g.requires_grad:  # (a linear op's gradient of a constant seed)
        return [_np(g), None]
    h, = L.autograd.grad((g * g).sum(), x, allow_unused=True)
    return [_np(g), _np(h)]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(OPS))
def test_post_hooks_see_and_pass_on_each_ops_grad_inputs(name, create_graph):
    """The node's VJP run for its post hooks gives the sweep's gradients (an identity hook
    changes nothing, a doubling one doubles), and where tapegrad records the op as the node
    PyTorch records, grad_inputs and what replacing them gives are PyTorch's (under
    create_graph the second backward runs the node, and its hooks, again: in both)."""
    f = OPS[name]
    x0 = np.random.default_rng(5).standard_normal((3, 4))
    plain = _through_hook(tg, F, f, x0, create_graph, None)
    seen, theirs = [], []
    same = _through_hook(tg, F, f, x0, create_graph, lambda gi, go: seen.append(gi))
    ref = _through_hook(torch, TF, f, x0, create_graph, lambda gi, go: theirs.append(gi))
    for a, b, c in zip(plain, same, ref):
        _same(a, b, 1e-10)
        _same(a, c, 1e-10)
    assert len(seen) == len(theirs)

    def double(gi, go):
        return tuple(None if g is None else 2 * g for g in gi)

    doubled = _through_hook(tg, F, f, x0, create_graph, double)
    _same(doubled[0], 2 * plain[0], 1e-10)
    if name not in SAME_NODE:
        return
    for a, b in zip(doubled, _through_hook(torch, TF, f, x0, create_graph, double)):
        _same(a, b, 1e-10)
    for ours_gi, their_gi in zip(seen, theirs):
        assert len(ours_gi) == len(their_gi)
        for a, b in zip(ours_gi, their_gi):
            assert (a is None) == (b is None)
            if a is not None:
                assert tuple(a.shape) == tuple(b.shape)
                assert a.requires_grad == b.requires_grad
                _same(_np(a), _np(b), 1e-10)


# the ops tapegrad records as the one node PyTorch records (same inputs, same order)
SAME_NODE = {"mul", "mul_scalar", "add_scalar", "pow", "div", "exp", "tanh", "sigmoid", "relu",
             "leaky_relu", "elu", "gelu", "softplus", "clamp", "abs", "maximum", "transpose",
             "index", "matmul", "softmax", "log_softmax", "mse", "conv", "cat", "cumsum",
             "where"}


def test_large_and_float32_gradients():
    """Adjoints held apart from the arena (large arrays) and float32 sweeps."""
    for shape, dtype in (((300, 300), np.float64), ((40, 50), np.float32)):
        x0 = np.random.default_rng(2).standard_normal(shape).astype(dtype)
        res = []
        for L, FF in LIBS:
            x = L.tensor(x0, requires_grad=True)
            y = FF.relu(x) * x.sin()
            y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
            y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[1] * 3))
            (y.exp() - 1).sum().backward()
            res.append(_np(x.grad))
        assert res[1].dtype == dtype
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(res[1], res[0], rtol=tol, atol=tol)


class _Two:
    """A custom Function of two outputs, its class in both libraries."""

    @staticmethod
    def make(L):
        class Two(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, y):
                ctx.k = k
                return x * k, y * 2

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * ctx.k, None, gb * 2

        return Two


@pytest.mark.parametrize("post", [None, lambda gi, go: (gi[0] * 0, gi[1] + 1)])
def test_custom_function_nodes(post):
    res = []
    for L, _ in LIBS:
        log = []
        x = L.ones(2, dtype=L.float64, requires_grad=True)
        y = L.ones(2, dtype=L.float64, requires_grad=True)
        a, b = _Two.make(L).apply(x, 3.0, y)
        assert a.grad_fn == b.grad_fn
        a.grad_fn.register_prehook(lambda go: log.append([_np(g) for g in go]))
        a.grad_fn.register_hook(lambda gi, go: log.append([_np(g) for g in gi]))
        if post is not None:
            b.grad_fn.register_hook(post)
        a.sum().backward()
        res.append((log, _np(x.grad), _np(y.grad)))
    (tlog, tx, ty), (olog, ox, oy) = res
    _same(tx, ox)
    _same(ty, oy)
    assert len(tlog) == len(olog)
    for te, oe in zip(tlog, olog):
        for a, b in zip(te, oe):
            _same(a, b)


def test_create_graph_hooks_see_differentiable_gradients():
    res = []
    for L, _ in LIBS:
        flags = []
        x = L.tensor([0.3, -0.7, 1.1], requires_grad=True)
        y = x * x.sin()
        y.grad_fn.register_prehook(lambda go: flags.append(go[0].requires_grad))
        y.grad_fn.register_hook(lambda gi, go: (flags.append([g.requires_grad for g in gi])
                                                or (gi[0] * x, gi[1])))
        g, = L.autograd.grad(y.sum(), x, create_graph=True)
        h, = L.autograd.grad(g.sum(), x)
        res.append((flags, _np(g), _np(h)))
    assert res[0][0] == res[1][0]
    _same(res[0][1], res[1][1])
    _same(res[0][2], res[1][2])


def test_a_chain_of_hooked_nodes_builds_one_vjp_sweep(monkeypatch):
    """A plain backward through many nodes with post hooks runs their VJPs from one re-taping
    sweep, not one per node (which read a small segment's records anew at each: quadratic);
    the gradient is still the hooks' (each doubles its input's)."""
    from tapegrad.autograd import retape

    made = []
    init = retape.RetapeSweep.__init__
    monkeypatch.setattr(retape.RetapeSweep, "__init__",
                        lambda self, seg: made.append(seg) or init(self, seg))
    n = 200
    x = tg.tensor(np.linspace(0.5, 1.5, 10), requires_grad=True)
    h = x
    for k in range(n):
        h = h * 1.01 if k % 2 else h + 0.5
        h.grad_fn.register_hook(lambda gi, go: tuple(None if g is None else g * 2 for g in gi))
    h.sum().backward()
    assert len(made) == 1
    np.testing.assert_allclose(x.grad.numpy(), np.full(10, 2.0 ** n * 1.01 ** (n // 2)),
                               rtol=1e-12)


def test_grad_fn_is_one_node():
    x = tg.ones(2, requires_grad=True)
    y = x * 2
    a, b = y.grad_fn, y.grad_fn
    assert a is not b and a == b and hash(a) == hash(b)  # (a Node object per access)
    assert y.grad_fn != (x * 3).grad_fn
    calls = []
    y.grad_fn.register_prehook(lambda go: calls.append(1))  # one access's object...
    y.sum().backward()
    assert calls == [1]  # ...the node's hooks


def test_what_cannot_be_exact_is_refused():
    x = tg.ones(2, 3, requires_grad=True)
    acc = (x * 2).grad_fn.next_functions[0][0]
    assert acc.name() == "torch::autograd::AccumulateGrad"  # (PyTorch's name())
    with pytest.raises(NotImplementedError, match="AccumulateGrad"):
        acc.register_hook(lambda gi, go: None)
    with pytest.raises(NotImplementedError, match="broadcast"):
        (x * tg.ones(3, requires_grad=True)).grad_fn.register_hook(lambda gi, go: None)
    with pytest.raises(NotImplementedError, match="shape"):
        x.reshape(6).reshape(3, 2).grad_fn.register_hook(lambda gi, go: None)
    # pre-hooks need no input's shape; the broadcast op's gradients stay right
    b = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * b
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    y.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 4.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 4.0, 6.0]] * 2)


# ---- saved-tensor hooks -------------------------------------------------------------------

def _graph(L):
    return L.autograd.graph


def _counted(L, f, *args, backwards=1):
    """Shapes packed and unpacked while ``f`` records and its backward(s) run."""
    log = []

    def pack(t):
        log.append(("pack", tuple(t.shape)))
        return t

    def unpack(t):
        log.append(("unpack", tuple(t.shape)))
        return t

    with _graph(L).saved_tensors_hooks(pack, unpack):
        y = f(*args)
    packs = list(log)
    del log[:]
    for i in range(backwards):
        y.backward(retain_graph=i < backwards - 1)
    return packs, list(log)


def test_packs_and_unpacks_what_ops_save_as_pytorch():
    x0, w0 = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.5])
    res = []
    for L, _ in LIBS:
        x, w = L.tensor(x0, requires_grad=True), L.tensor(w0, requires_grad=True)
        res.append((_counted(L, lambda: (x * w).exp().sum()), _np(x.grad), _np(w.grad)))
    assert res[0][0] == res[1][0]  # x and w (the product), exp's result; each unpacked once
    for a, b in zip(res[0][1:], res[1][1:]):
        _same(a, b)


def _model(L, FF, x, w1, b1, w2, k):
    """An MLP and a convolution: matmuls, ReLU, tanh, softmax cross-entropy, layer norm."""
    h = FF.relu(x @ w1 + b1)
    h = FF.layer_norm(h.tanh() * h, (h.shape[-1],))
    c = FF.conv2d(h.reshape(2, 1, 4, 4), k).sum((1, 2, 3))
    return FF.cross_entropy(h @ w2, L.tensor([0, 2])) + (c * c).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hooks", ["numpy_copy", "opaque", "save_on_cpu", "none"])
def test_offloading_hooks_give_the_same_gradients(hooks, dtype):
    r = np.random.default_rng(11)
    arrays = [r.standard_normal(s).astype(dtype) for s in
              ((2, 5), (5, 16), (16,), (16, 3), (2, 1, 3, 3))]
    store = {}

    def opaque_pack(t):  # a key into a store of copies, not a tensor
        store[len(store)] = t.numpy().copy()
        return len(store) - 1

    ctxs = {"numpy_copy": lambda L: _graph(L).saved_tensors_hooks(
                lambda t: t.detach().numpy().copy(), lambda a: L.from_numpy(a)),
            "opaque": lambda L: _graph(L).saved_tensors_hooks(
                opaque_pack, lambda k: L.from_numpy(store[k])),
            "save_on_cpu": lambda L: _graph(L).save_on_cpu(),
            "none": lambda L: __import__("contextlib").nullcontext()}
    res = []
    for L, FF, kind in ((torch, TF, hooks), (tg, F, hooks), (tg, F, "none")):
        ts = [L.tensor(a, requires_grad=True) for a in arrays]
        with ctxs[kind](L):
            loss = _model(L, FF, *ts)
        loss.backward()
        res.append([_np(t.grad) for t in ts])
    tol = 1e-10 if dtype == np.float64 else 2e-4
    for a, b, c in zip(*res):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)  # tapegrad's with hooks: PyTorch's
        np.testing.assert_allclose(b, c, rtol=tol, atol=tol)  # and tapegrad's without
        assert b.dtype == dtype


def test_the_tape_lets_go_of_what_pack_copied():
    x = tg.randn(256, 256, dtype=tg.float64, requires_grad=True)
    kept = []
    before = tg.autograd.tape_stats()["bytes"]
    with tg.autograd.graph.saved_tensors_hooks(lambda t: kept.append(t.numpy().copy()) or
                                               len(kept) - 1,
                                               lambda k: tg.tensor(kept[k])):
        y = x.exp().sin()  # exp saves its result, sin its input: both packed
    held = tg.autograd.tape_stats()["bytes"] - before
    assert len(kept) == 2 and held < x.numel() * 8  # (the records, not the two arrays)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(np.exp(x.detach().numpy())) *
                               np.exp(x.detach().numpy()), rtol=1e-12)


def test_custom_function_saved_tensors_unpack_at_each_read():
    res = []
    for L, _ in LIBS:
        class Cube(L.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a ** 3

            @staticmethod
            def backward(ctx, g):
                a, = ctx.saved_tensors
                b, = ctx.saved_tensors
                return g * 3 * a * b

        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        counts = _counted(L, lambda: Cube.apply(x).sum())
        g, = L.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        res.append((counts, _np(x.grad), _np(L.autograd.grad(g.sum(), x)[0])))
    assert res[0][0] == res[1][0]  # packed once, unpacked at both reads
    for a, b in zip(res[0][1:], res[1][1:]):
        _same(a, b)


def test_double_backward_inside_the_hooks():
    res = []
    for L, _ in LIBS:
        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with _graph(L).saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
                                           lambda a: L.from_numpy(a)):
            y = (x * x * x.sin()).sum()
            g, = L.autograd.grad(y, x, create_graph=True)
            h, = L.autograd.grad(g.sum(), x)
        res.append((_np(g), _np(h)))
    for a, b in zip(*res):
        _same(a, b)


def test_retained_graph_and_gradcheck_under_hooks():
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with tg.autograd.graph.saved_tensors_hooks(lambda t: t.numpy().copy(), tg.tensor):
        y = (x.exp() * x).sum()
        assert tg.autograd.gradcheck(lambda t: (t.exp() * t.tanh()).sum(), (x,))
        assert tg.autograd.gradgradcheck(lambda t: (t.exp() * t.tanh()).sum(), (x,))
    y.backward(retain_graph=True)
    y.backward()
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp(xv) * (1 + xv)), rtol=1e-12)


def test_saved_tensor_hook_errors_as_pytorchs():
    msgs = []
    for L, _ in LIBS:
        g = _graph(L)
        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with g.saved_tensors_hooks(lambda t: t, lambda t: 3):
            y = (x * x).sum()
        with pytest.raises(TypeError) as e:
            y.backward()
        msgs.append(str(e.value))
        with pytest.raises(RuntimeError) as e:
            with g.disable_saved_tensors_hooks("no hooks here"):
                with g.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        msgs.append(str(e.value))
        with pytest.raises(RuntimeError) as e:
            with g.saved_tensors_hooks(lambda t: t, lambda t: t):
                with g.disable_saved_tensors_hooks("not while hooks are on"):
                    pass
        msgs.append(str(e.value))
    assert msgs[:3] == msgs[3:]
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)  # (tapegrad's own: a wrong shape)
    with tg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: tg.zeros(2)):
        y = (x * x).sum()
    with pytest.raises(RuntimeError, match="unpack_hook returned a tensor of shape"):
        y.backward()


def test_innermost_hooks_win_and_nothing_is_left_on():
    from tapegrad import tape

    log = []
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with tg.autograd.graph.saved_tensors_hooks(lambda t: log.append("outer") or t, lambda t: t):
        with tg.autograd.graph.saved_tensors_hooks(lambda t: log.append("inner") or t,
                                                   lambda t: t):
            y = (x * x).sum()
        y2 = (x * x).sum()
    assert log == ["inner", "inner", "outer", "outer"]
    assert tape.on_save[0] is None  # (recording pays one test of it)
    (y + y2).backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.detach().numpy())


@pytest.mark.parametrize("copy", [False, True])
def test_what_unpack_returns_is_the_value(copy):
    """No in-place check of a packed value, as in PyTorch: a pack that keeps the tensor sees
    the change, one that copied it does not."""
    res = []
    for L, _ in LIBS:
        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with _graph(L).saved_tensors_hooks(lambda t: t.detach().clone() if copy else t,
                                           lambda t: t):
            h = x * 2
            y = (h * h).sum()
        with L.no_grad():
            h.add_(1)
        y.backward()
        res.append(_np(x.grad))
    _same(*res)


def test_hooks_are_per_thread():
    import threading

    log = []
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    started, done = threading.Event(), threading.Event()

    def other():
        started.wait()
        y = (x * x).sum()  # not packed: the hooks are the main thread's
        y.backward()
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with tg.autograd.graph.saved_tensors_hooks(lambda t: log.append(1) or t, lambda t: t):
        started.set()
        done.wait()
    t.join()
    assert log == []
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_hooked_nodes_pass_gradcheck_and_gradgradcheck():
    """Every node of a small graph with identity pre- and post-hooks: the hooks' own VJPs
    (a plain backward and under create_graph) agree with finite differences."""
    def f(x, w):
        ys = [x @ w, None, None, None]
        ys[1] = ys[0].tanh() * ys[0]
        ys[2] = F.softmax(ys[1], -1) + F.relu(ys[1]) ** 2
        ys[3] = (ys[2] / (1.0 + ys[2] * ys[2])).sum()
        for y in ys:
            y.grad_fn.register_prehook(lambda go: None)
            y.grad_fn.register_hook(lambda gi, go: tuple(gi))
        return ys[3]

    r = np.random.default_rng(8)
    x = tg.tensor(r.standard_normal((3, 4)), requires_grad=True)
    w = tg.tensor(r.standard_normal((4, 2)), requires_grad=True)
    assert tg.autograd.gradcheck(f, (x, w))
    assert tg.autograd.gradgradcheck(f, (x, w))
