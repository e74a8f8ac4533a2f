"""The sweep that carries k seeds at once (autograd/batched.py): ``autograd.grad(...,
is_grads_batched=True)``, ``functional.jacobian/hessian(vectorize=True)``, ``func.jacrev`` and
``func.hessian``. Every op of the op tables gives the same rows as one backward per row (to
1e-12) and PyTorch's; graphs with hooks or custom Functions and ``create_graph`` take one
backward per row and still agree."""

import zlib

import numpy as np
import pytest
from ops.test_elementwise import BINARY, UNARY, _draw
from ops.test_linalg import OPS as LINALG
from ops.test_movement import OPS as MOVEMENT
from ops.test_reduce import OPS as REDUCE
from ops.test_reduce import _arrays

import tapegrad as tg
from tapegrad.autograd import batched

F = tg.autograd.functional


def _outputs(out):
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, tg.Tensor) and o.requires_grad]


def _rows(fn, arrays, k=5, seed=0):
    """(rows from one batched sweep, rows from one backward per seed) of ``fn`` at ``arrays``."""
    rng = np.random.default_rng(seed)
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    outs = _outputs(fn(*xs))
    seeds = [rng.standard_normal((k,) + tuple(o.shape)) for o in outs]
    got = tg.autograd.grad(outs, xs, [tg.tensor(s) for s in seeds], retain_graph=True,
                           allow_unused=True, is_grads_batched=True)
    direct = batched.run(outs, seeds, xs, True)  # the sweep itself, never the fallback
    for d, g in zip(direct, got):
        assert (d is None) == (g is None)
        if d is not None:
            np.testing.assert_array_equal(d, g.numpy())
    want = []
    for i in range(k):
        want.append(tg.autograd.grad(outs, xs, [tg.tensor(s[i]) for s in seeds],
                                     retain_graph=True, allow_unused=True))
    return got, want, xs


def _check_rows(name, fn, arrays):
    got, want, xs = _rows(fn, arrays, seed=zlib.crc32(name.encode()))
    for j, x in enumerate(xs):
        if got[j] is None:
            assert all(w[j] is None for w in want), name
            continue
        assert got[j].shape == (5,) + tuple(x.shape), name
        ref = np.stack([np.zeros(x.shape) if w[j] is None else w[j].numpy() for w in want])
        np.testing.assert_allclose(got[j].numpy(), ref, rtol=1e-12, atol=1e-12, err_msg=name)


TABLE = ([(n, f, c, lambda s, rng, d=d: _arrays(s, d, rng)) for n, f, c, d in REDUCE]
         + [(n, f, c, None) for n, f, c in MOVEMENT]
         + [(n, f, c, None) for n, f, c in LINALG])


@pytest.mark.parametrize("name,f,cases,arrays", TABLE, ids=[t[0] for t in TABLE])
def test_rows_equal_one_backward_per_row_op_tables(name, f, cases, arrays):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for shapes in cases:
        xs = arrays(shapes, rng) if arrays else [rng.standard_normal(s) for s in shapes]
        _check_rows(name, lambda *ts: f(tg, *ts), xs)


@pytest.mark.parametrize("name", list(UNARY))
def test_rows_unary(name):
    fn, _, _, dom = UNARY[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    _check_rows(name, lambda x: fn(x) * x, [_draw(rng, (2, 3), **dom)])
    _check_rows(name, lambda x: fn(x), [_draw(rng, (), **dom)])  # size-1 saved values


@pytest.mark.parametrize("name", list(BINARY))
def test_rows_binary(name):
    fn, _, _, dx, dy, _ = BINARY[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x, y = _draw(rng, (2, 3), **dx), _draw(rng, (3,), **dy)  # broadcast y
    while np.min(np.abs(x - y)) < 0.05:
        y = _draw(rng, (3,), **dy)
    _check_rows(name, fn, [x, y])
    _check_rows(name, lambda a: fn(a, a[0]), [x])  # one input on both sides


def test_constants_ties_and_shared_inputs():
    x = np.array([[1.0, -2.0, 0.0], [3.0, 3.0, -1.0]])
    _check_rows("const", lambda a: (a ** 3 * 2.0 + 1.0) / (a * a + 1.0), [x])
    _check_rows("clamp", lambda a: a.clamp(-1.5, 2.0) + a.relu() + a.abs(), [x])
    _check_rows("max_ties", lambda a: tg.maximum(a, a.flip(0)) * a.max(), [x])
    _check_rows("where", lambda a: tg.where(a > 0, a.exp(), a.sin()), [x])
    _check_rows("repeated_index", lambda a: a[[0, 1, 0, 0], [2, 2, 2, 1]] * a.sum(), [x])
    _check_rows("setitem", lambda a: _setitem(a), [x])


def _setitem(a):
    b = a * 1.0
    b[0, 1:] = a[1, :2] ** 2
    return b.sum(0) * b[:, 0].prod()


def test_matmul_shapes_and_python_ops_without_batched_rule():
    rng = np.random.default_rng(1)
    for sa, sb in [((3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)),
                   ((2, 3, 4), (4, 2)), ((3,), (2, 3, 4))]:
        _check_rows(f"matmul{sa}{sb}", lambda a, b: a @ b,
                    [rng.standard_normal(sa), rng.standard_normal(sb)])
    _check_rows("const_matrix", lambda b: tg.tensor(rng.standard_normal((3, 4))) @ b,
                [rng.standard_normal(4)])
    _check_rows("cat_cumsum_det", lambda a, b: tg.cat([a, b]).cumsum(0) * tg.linalg.det(
        a[:2, :2]), [rng.standard_normal((3, 3)), rng.standard_normal((2, 3))])


def test_leaf_output_nonleaf_input_and_unused():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    eye = tg.eye(2)
    g, = tg.autograd.grad(x, x, eye, is_grads_batched=True)
    np.testing.assert_array_equal(g.numpy(), np.eye(2))
    g.numpy()[0, 0] = 5.0  # a copy: the seed is untouched
    assert eye.numpy()[0, 0] == 1.0
    h = x * 3.0
    y = h.sin()
    gh, gx = tg.autograd.grad(y, (h, x), eye, is_grads_batched=True)
    np.testing.assert_allclose(gh.numpy(), np.diag(np.cos(h.detach().numpy())), rtol=1e-14)
    np.testing.assert_allclose(gx.numpy(), 3.0 * gh.numpy(), rtol=1e-14)
    z = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        tg.autograd.grad((x * 2.0), (x, z), eye, is_grads_batched=True)
    _, gz = tg.autograd.grad((x * 2.0), (x, z), eye, is_grads_batched=True, allow_unused=True)
    assert gz is None
    _, gz = tg.autograd.grad((x * 2.0), (x, z), eye, is_grads_batched=True,
                             materialize_grads=True)
    np.testing.assert_array_equal(gz.numpy(), np.zeros(2))


def test_frees_the_graph_unless_retained():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp() * x
    tg.autograd.grad(y, x, tg.eye(2), is_grads_batched=True, retain_graph=True)
    tg.autograd.grad(y, x, tg.eye(2), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        tg.autograd.grad(y, x, tg.eye(2), is_grads_batched=True)


def test_inplace_modification_is_caught():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = h.sin()
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tg.autograd.grad(y * x, x, tg.eye(2), is_grads_batched=True)


def test_float32_input_gets_float32_rows():
    x = tg.tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    g, = tg.autograd.grad(x.tanh(), x, tg.eye(2), is_grads_batched=True)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g.numpy(), np.diag(1 - np.tanh([0.5, 1.5]) ** 2), rtol=1e-6)


def test_hooks_and_custom_functions_take_one_backward_per_row():
    calls = []
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x.sin()
    h.register_hook(lambda g: calls.append(1) or g * 2.0)
    g, = tg.autograd.grad(h * x, x, tg.eye(3), is_grads_batched=True)
    assert len(calls) == 3  # the hook ran once per row, as in a backward per row
    xv = x.detach().numpy()
    np.testing.assert_allclose(g.numpy(), np.diag(2 * np.cos(xv) * xv + np.sin(xv)), rtol=1e-14)

    class Cube(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, go):
            a, = ctx.saved_tensors
            return 3 * a ** 2 * go

    g, = tg.autograd.grad(Cube.apply(x), x, tg.eye(3), is_grads_batched=True)
    np.testing.assert_allclose(g.numpy(), np.diag(3 * xv ** 2), rtol=1e-14)
    with pytest.raises(batched.Unsupported):
        batched.run([Cube.apply(x)], [np.eye(3)], [x], True)


def test_create_graph_rows_are_differentiable():
    x = tg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    g, = tg.autograd.grad((x ** 3).sum(), x, create_graph=True)
    H, = tg.autograd.grad(g, x, tg.eye(3), is_grads_batched=True, create_graph=True)
    np.testing.assert_allclose(H.detach().numpy(), np.diag(6 * x.detach().numpy()), rtol=1e-14)
    d, = tg.autograd.grad(H.sum(), x)  # third derivatives: 6 on the diagonal
    np.testing.assert_allclose(d.numpy(), [6.0, 6.0, 6.0])


def test_against_torch(torch):
    rng = np.random.default_rng(3)
    a0, w0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))

    def f(lib, a, w):
        return lib.tanh(a @ w).exp()[1:, ::2] * a[1:].sum(1, keepdim=True)

    xs = [tg.tensor(a0, requires_grad=True), tg.tensor(w0, requires_grad=True)]
    ts = [torch.tensor(a0, requires_grad=True), torch.tensor(w0, requires_grad=True)]
    seeds = rng.standard_normal((7, 3, 3))
    got = tg.autograd.grad(f(tg, *xs), xs, tg.tensor(seeds), is_grads_batched=True)
    want = torch.autograd.grad(f(torch, *ts), ts, torch.tensor(seeds), is_grads_batched=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)


def _rosen(a):
    return ((1 - a[:-1]) ** 2 + 100 * (a[1:] - a[:-1] ** 2) ** 2).sum()


def test_functional_hessian_and_jacobian_vectorized(torch):
    x0 = np.random.default_rng(0).standard_normal(30)
    H = F.hessian(_rosen, tg.tensor(x0), vectorize=True)
    np.testing.assert_allclose(H.numpy(), F.hessian(_rosen, tg.tensor(x0)).numpy(),
                               rtol=1e-12, atol=1e-12)
    Ht = torch.autograd.functional.hessian(_rosen, torch.tensor(x0), vectorize=True)
    np.testing.assert_allclose(H.numpy(), Ht.numpy(), rtol=1e-12, atol=1e-12)

    def g(a, b):
        return (a * b).sin(), (a ** 2).sum() * b[0], a.detach() * 2.0

    ins = (tg.tensor([0.3, 0.7]), tg.tensor([1.1, -0.4]))
    tins = tuple(torch.tensor(t.numpy()) for t in ins)
    J = F.jacobian(g, ins, vectorize=True)
    Jt = torch.autograd.functional.jacobian(g, tins, vectorize=True)
    Jl = F.jacobian(g, ins)
    for i in range(3):
        for j in range(2):
            assert J[i][j].shape == tuple(Jt[i][j].shape)
            np.testing.assert_allclose(J[i][j].numpy(), Jt[i][j].numpy(), rtol=1e-12,
                                       atol=1e-12)
            np.testing.assert_allclose(J[i][j].numpy(), Jl[i][j].numpy(), rtol=1e-12,
                                       atol=1e-12)
    Hs = F.hessian(lambda a, b: (a * b.exp()).sum() * a[0], ins, vectorize=True)
    Hts = torch.autograd.functional.hessian(lambda a, b: (a * b.exp()).sum() * a[0], tins,
                                            vectorize=True)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(Hs[i][j].numpy(), Hts[i][j].numpy(), rtol=1e-12,
                                       atol=1e-12)
    # an input the gradient does not depend on: a zero block
    H0 = F.hessian(lambda a, b: (a ** 3).sum() + b.sum(), ins, vectorize=True)
    np.testing.assert_array_equal(H0[1][1].numpy(), np.zeros((2, 2)))


def test_func_hessian_and_jacrev_top_level(torch):
    x0 = np.random.default_rng(4).standard_normal(12)
    H = tg.func.hessian(_rosen)(tg.tensor(x0))
    Ht = torch.func.hessian(_rosen)(torch.tensor(x0))
    np.testing.assert_allclose(H.numpy(), Ht.numpy(), rtol=1e-12, atol=1e-12)
    fwd = tg.func.jacfwd(tg.func.jacrev(_rosen))(tg.tensor(x0))
    np.testing.assert_allclose(H.numpy(), fwd.numpy(), rtol=1e-12, atol=1e-12)
    W = np.random.default_rng(5).standard_normal((6, 12))

    def f(a):
        return {"u": tg.tanh(tg.tensor(W) @ a), "v": (a[:3] * a[3:6]).exp()}

    J = tg.func.jacrev(f)(tg.tensor(x0))
    Jt = torch.func.jacrev(lambda a: {"u": torch.tanh(torch.tensor(W) @ a),
                                      "v": (a[:3] * a[3:6]).exp()})(torch.tensor(x0))
    for key in ("u", "v"):
        np.testing.assert_allclose(J[key].numpy(), Jt[key].numpy(), rtol=1e-12, atol=1e-12)
    # under an enclosing transform the Hessian stays differentiable (jacfwd over jacrev)
    third = tg.func.jacrev(lambda a: tg.func.hessian(lambda b: (b ** 4).sum())(a).sum())
    np.testing.assert_allclose(third(tg.tensor([1.0, 2.0])).numpy(), [24.0, 48.0])


def test_scatter_helpers_on_overlapping_and_broadcast_strides():
    g = np.arange(12.0).reshape(2, 6)
    # overlapping strides (2 dims of 3 with strides 1 and 1): positions 0..4, repeats add up
    out = batched._scatter_strided_cols(g,
                                        (2, 3), (1, 1), 0, 5)
    idx = batched._strided_indices((2, 3), (1, 1), 0).reshape(-1)
    ref = np.zeros((2, 5))
    for c, i in enumerate(idx):
        ref[:, i] += g[:, c]
    np.testing.assert_array_equal(out, ref)
    assert batched._disjoint((2, 3), (3, 1)) and not batched._disjoint((2, 3), (1, 1))
    # a broadcast (stride 0) then a transpose: summed, then placed
    out = batched._scatter_strided_cols(g, (3, 2), (0, 1), 1, 4)
    np.testing.assert_array_equal(out, [[0, 0 + 2 + 4, 1 + 3 + 5, 0], [0, 6 + 8 + 10,
                                                                        7 + 9 + 11, 0]])
    back = batched._gather_strided_cols(np.arange(8.0).reshape(2, 4), (3, 2), (0, 1), 1, 6)
    np.testing.assert_array_equal(back, [[1, 2, 1, 2, 1, 2], [5, 6, 5, 6, 5, 6]])


def test_rows_in_pieces_when_blocks_would_be_large(monkeypatch):
    monkeypatch.setattr(batched, "BLOCK_BUDGET", 12)  # 3 rows of a 4-element record
    x = tg.tensor([0.1, 0.2, 0.3, 0.4], requires_grad=True)
    y = x.exp() * x
    assert batched.rows_per_sweep([y], 10) == 3
    g, = tg.autograd.grad(y, x, tg.tensor(np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3, 0, 1]]),
                          is_grads_batched=True)
    xv = x.detach().numpy()
    np.testing.assert_allclose(g.numpy(), np.diag(np.exp(xv) * (1 + xv))[[0, 1, 2, 3, 0, 1,
                                                                         2, 3, 0, 1]],
                               rtol=1e-14)
    with pytest.raises(RuntimeError, match="second time"):  # the last piece freed the graph
        tg.autograd.grad(y, x, tg.ones(4))


def test_func_hessian_vector_output_and_argnums(torch):
    x0, y0 = np.array([0.3, -0.5, 1.2]), np.array([0.7, 0.1])

    def f(lib):
        return lambda a, b: lib.stack([(a.sin() * b.sum()).sum(), (a ** 2).sum() * b[0]])

    H = tg.func.hessian(f(tg), argnums=(0, 1))(tg.tensor(x0), tg.tensor(y0))
    Ht = torch.func.hessian(f(torch), argnums=(0, 1))(torch.tensor(x0), torch.tensor(y0))
    for i in range(2):
        for j in range(2):
            assert H[i][j].shape == tuple(Ht[i][j].shape)
            np.testing.assert_allclose(H[i][j].numpy(), Ht[i][j].numpy(), rtol=1e-12,
                                       atol=1e-12)
    H = tg.func.hessian(lambda a: a.sin() * a.prod())(tg.tensor(x0))
    Ht = torch.func.hessian(lambda a: a.sin() * a.prod())(torch.tensor(x0))
    np.testing.assert_allclose(H.numpy(), Ht.numpy(), rtol=1e-12, atol=1e-12)


def test_vectorized_hessian_strict_raises_as_torch():
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True` are not"):
        F.hessian(_rosen, tg.tensor([1.0, 2.0, 3.0]), strict=True, vectorize=True)
