"""tg.func.vmap against torch.func.vmap on every op family of the op tables, nested vmap,
vmap of grad / jvp / vjp, in_dims / out_dims, the per-example fallback and its warning."""

import warnings
import zlib

import numpy as np
import pytest

import tapegrad as tg

from ops.test_elementwise import BINARY, UNARY, _draw
from ops.test_linalg import OPS as LINALG
from ops.test_movement import OPS as MOVEMENT
from ops.test_reduce import OPS as REDUCE
from ops.test_reduce import _arrays

torch = pytest.importorskip("torch")
B = 3


def _leaves(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare(out, tout, name):
    outs, touts = _leaves(out), _leaves(tout)
    assert len(outs) == len(touts), name
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape), name
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def _run(name, fn, tfn, arrays, in_dims, strict=True):
    xs = [tg.tensor(a) for a in arrays]
    ts = [torch.tensor(a) for a in arrays]
    with warnings.catch_warnings():
        # every op of the tables has a batching rule; a method of a plain tensor given a
        # batched argument (x.bmm(batched)) is not dispatched: the function runs per example
        warnings.simplefilter("error" if strict else "ignore")
        out = tg.vmap(fn, in_dims=in_dims)(*xs)
    _compare(out, torch.func.vmap(tfn, in_dims=in_dims)(*ts), name)


# Data-dependent output shapes: torch.func.vmap refuses them, and so does a batch.
NOT_VMAPPABLE = {"bool_mask"}
TABLE = ([(n, f, c, lambda s, rng, d=d: _arrays(s, d, rng)) for n, f, c, d in REDUCE]
         + [(n, f, c, None) for n, f, c in MOVEMENT if n not in NOT_VMAPPABLE]
         + [(n, f, c, None) for n, f, c in LINALG])


@pytest.mark.parametrize("name,f,cases,arrays", TABLE, ids=[t[0] for t in TABLE])
def test_vmap_op_tables(name, f, cases, arrays):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    fn, tfn = (lambda *xs: f(tg, *xs)), (lambda *ts: f(torch, *ts))
    for shapes in cases:
        batched = [(B,) + tuple(s) for s in shapes]
        xs = arrays(batched, rng) if arrays else [rng.standard_normal(s) for s in batched]
        _run(name, fn, tfn, xs, 0)
        if len(xs) > 1:  # only the first argument batched; then only the last
            _run(name, fn, tfn, [xs[0]] + [x[0] for x in xs[1:]], (0,) + (None,) * (len(xs) - 1))
            _run(name, fn, tfn, [x[0] for x in xs[:-1]] + [xs[-1]],
                 (None,) * (len(xs) - 1) + (0,), strict=name != "bmm")


@pytest.mark.parametrize("name", list(UNARY))
def test_vmap_unary(name):
    fn, _, tfn, dom = UNARY[name]
    tfn = (lambda t, s=tfn: getattr(t, s)()) if isinstance(tfn, str) else tfn
    x = _draw(np.random.default_rng(zlib.crc32(name.encode())), (B, 2, 3), **dom)
    _run(name, fn, tfn, [x], 0)
    _run(name, fn, tfn, [x], 1)


@pytest.mark.parametrize("name", list(BINARY))
def test_vmap_binary(name):
    fn, _, tfn, dx, dy, _ = BINARY[name]
    tfn = (lambda a, b, s=tfn: getattr(a, s)(b)) if isinstance(tfn, str) else tfn
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x, y = _draw(rng, (B, 2, 3), **dx), _draw(rng, (B, 3), **dy)
    _run(name, fn, tfn, [x, y], 0)
    _run(name, fn, tfn, [x, y[0]], (0, None))
    _run(name, fn, tfn, [x[0], y], (None, 0))
    _run(name, fn, tfn, [x[:, 0], y], (0, 0))  # same logical rank


def test_where_comparisons_and_python_scalars():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((B, 4)), rng.standard_normal(4)

    def f(L, a, b):
        return L.where(a > b, a * 2.0 - 1, L.maximum(b, a)) + (a <= 0.1).to(a.dtype)

    _run("where", lambda a, b: f(tg, a, b), lambda a, b: f(torch, a, b), [x, y], (0, None))


def test_nested_vmap_and_dims():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))

    def f(L, a, b):
        return L.softmax(a @ b, -1).sum(0) * a.mean()

    tx, tw = torch.tensor(x), torch.tensor(w)
    ours = tg.vmap(tg.vmap(lambda a, b: f(tg, a, b), in_dims=(0, None)), in_dims=(1, None),
                   out_dims=1)(tg.tensor(x), tg.tensor(w))
    theirs = torch.func.vmap(torch.func.vmap(lambda a, b: f(torch, a, b), in_dims=(0, None)),
                             in_dims=(1, None), out_dims=1)(tx, tw)
    _compare(ours, theirs, "nested")
    ours = tg.vmap(tg.vmap(lambda a, b: (a[:, None] * b).sum(0)), in_dims=(0, None))(
        tg.tensor(x), tg.tensor(w[:3, :4]))
    theirs = torch.func.vmap(torch.func.vmap(lambda a, b: (a[:, None] * b).sum(0)),
                             in_dims=(0, None))(tx, tw[:3, :4])
    _compare(ours, theirs, "nested2")


def test_vmap_pytrees_in_dims_out_dims():
    rng = np.random.default_rng(3)
    p = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    xs = rng.standard_normal((5, 3))

    def f(L, p, x):
        return {"y": L.tanh(x @ p["w"] + p["b"]), "n": (x * x).sum()}

    tp = {k: torch.tensor(v) for k, v in p.items()}
    ours = tg.vmap(lambda p, x: f(tg, p, x), in_dims=(None, 0), out_dims={"y": 1, "n": 0})(
        {k: tg.tensor(v) for k, v in p.items()}, tg.tensor(xs))
    theirs = torch.func.vmap(lambda p, x: f(torch, p, x), in_dims=(None, 0),
                             out_dims={"y": 1, "n": 0})(tp, torch.tensor(xs))
    _compare(ours["y"], theirs["y"], "y")
    _compare(ours["n"], theirs["n"], "n")


def test_vmap_of_grad_jvp_vjp_and_grad_of_vmap():
    rng = np.random.default_rng(4)
    xs, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))

    def loss(L, x, w):
        return (L.tanh(w @ x) ** 2).sum() + (x.sin() * x).sum()

    tx, tw = torch.tensor(xs), torch.tensor(w)
    F = torch.func
    _compare(tg.vmap(tg.func.grad(lambda x: loss(tg, x, tg.tensor(w))))(tg.tensor(xs)),
             F.vmap(F.grad(lambda x: loss(torch, x, tw)))(tx), "vmap(grad)")
    _compare(tg.vmap(tg.func.grad(lambda x, w: loss(tg, x, w), argnums=1), in_dims=(0, None))(
        tg.tensor(xs), tg.tensor(w)),
        F.vmap(F.grad(lambda x, w: loss(torch, x, w), argnums=1), in_dims=(0, None))(tx, tw),
        "vmap(grad) per-example grads of shared w")
    v = rng.standard_normal((4, 3))
    _compare(tg.vmap(lambda x, t: tg.func.jvp(lambda a: a.sin() @ tg.tensor(w), (x,), (t,))[1])(
        tg.tensor(xs), tg.tensor(v)),
        F.vmap(lambda x, t: F.jvp(lambda a: a.sin() @ tw, (x,), (t,))[1])(tx, torch.tensor(v)),
        "vmap(jvp)")
    _, fn = tg.func.vjp(lambda a: a.exp() * a.sum(), tg.tensor(xs[0]))
    _, tfn = F.vjp(lambda a: a.exp() * a.sum(), tx[0])
    _compare(tg.vmap(fn)(tg.eye(3))[0], F.vmap(tfn)(torch.eye(3))[0], "vmap(vjp_fn)")
    x = tg.tensor(xs, requires_grad=True)
    g, = tg.autograd.grad(tg.vmap(lambda a: loss(tg, a, tg.tensor(w)))(x).sum(), x)
    _compare(g, F.grad(lambda a: F.vmap(lambda b: loss(torch, b, tw))(a).sum())(tx),
             "grad(vmap)")
    # jacfwd(jacrev) inside vmap
    _compare(tg.vmap(tg.func.hessian(lambda a: (a.sin() * a.sum()).sum()))(tg.tensor(xs)),
             F.vmap(F.hessian(lambda a: (a.sin() * a.sum()).sum()))(tx), "vmap(hessian)")


def test_fallback_loop_warns_once_naming_the_op():
    from tapegrad.func.vmap import dispatch

    x = np.random.default_rng(5).standard_normal((3, 4))

    def my_op(a):
        return tg.tensor(np.asarray(a.detach().numpy()) * 2.0)

    def f(a):
        return dispatch("my_op", my_op, (a,), {}) + dispatch("my_op", my_op, (a,), {})

    with pytest.warns(UserWarning, match="batching rule for my_op") as rec:
        out = tg.vmap(f)(tg.tensor(x))
    assert sum("my_op" in str(w.message) for w in rec) == 1
    np.testing.assert_allclose(out.numpy(), 4 * x)


def test_op_without_dispatch_runs_the_function_per_example():
    x = np.random.default_rng(6).standard_normal((3, 2, 3, 2))
    y = np.random.default_rng(7).standard_normal((2, 2, 3))
    with pytest.warns(UserWarning, match="batching rule for bmm"):  # a plain tensor's method
        out = tg.vmap(lambda a, b: b.bmm(a), in_dims=(0, None))(tg.tensor(x), tg.tensor(y))
    np.testing.assert_allclose(out.numpy(), np.matmul(y, x))


def test_vmap_errors():
    x = tg.ones(3, 2)
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        tg.vmap(lambda a, b: a + b)(x, tg.ones(4, 2))
    with pytest.raises(ValueError, match="must only return Tensors"):
        tg.vmap(lambda a: 1.0)(x)
    with pytest.raises(RuntimeError, match="item"):
        tg.vmap(lambda a: a.sum().item())(x)
    with pytest.raises(ValueError, match="in_dim"):
        tg.vmap(lambda a: a, in_dims=2)(x)


def test_unary_public_ops_keep_their_signature_and_batch():
    # tg.sin, tg.tanh, ... check for batched tensors themselves (no wrapper around the op):
    # same signature, batched under vmap
    x = tg.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
    assert tg.sin.__code__ is tg.sin.raw.__code__ and not hasattr(tg.sin.raw, "raw")
    assert tg.sin(input=x).shape == (2, 3)
    with pytest.raises(TypeError):
        tg.sin(x, x)
    out = tg.vmap(lambda v: tg.tanh(tg.sin(v)))(x)
    np.testing.assert_array_equal(out.detach().numpy(), np.tanh(np.sin(x.detach().numpy())))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.detach().numpy()) *
                               (1 - np.tanh(np.sin(x.detach().numpy())) ** 2), rtol=1e-12)


def test_out_dims_out_of_range_and_in_place_writes_into_unbatched_arguments():
    """As PyTorch: an ``out_dims`` beyond the output's dims is an IndexError (it was wrapped),
    and an in-place write of batched values into an argument vmap does not map over raises
    (running the function once per example, each example wrote into it in turn)."""
    x = tg.tensor(np.zeros((5, 4)))
    assert tuple(tg.func.vmap(lambda t: t, out_dims=-1)(x).shape) == (4, 5)
    for od in (2, -3):
        with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in "
                                             r"range of \[-2, 1\]"):
            tg.func.vmap(lambda t: t, out_dims=od)(x)
    y = tg.zeros(2)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the "
                                           r"broadcast shape \[5, 2\]"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the fallback's performance warning)
        tg.func.vmap(lambda a, b: b.add_(a), in_dims=(0, None))(
            tg.tensor(np.arange(10.0).reshape(5, 2)), y)


def test_in_dims_and_out_dims_must_be_integers():
    x = tg.ones(2)
    with pytest.raises(ValueError, match="Got in_dim=0.0 for an input but in_dim must be either "
                                         "an integer dimension or None"):
        tg.func.vmap(lambda t: t, in_dims=(0.0,))(x)
    with pytest.raises(ValueError, match="`out_dims` must be an int, None or a python collection"):
        tg.func.vmap(lambda t: t, out_dims=1.0)(x)
    np.testing.assert_array_equal(tg.func.vmap(lambda t: t * 2.0, in_dims=(np.int64(0),))(x)
                                  .numpy(), [2.0, 2.0])


def test_conv_padding_strings_are_checked_when_the_layer_is_made():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided "
                                         "convolutions"):
        tg.nn.Conv2d(3, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        tg.nn.Conv1d(3, 4, 3, padding="full")
    assert tuple(tg.nn.Conv2d(1, 2, 3, padding="same")(tg.ones(1, 1, 5, 5)).shape) == (1, 2, 5, 5)


SETITEM_CASES = {
    "int": lambda c, v: c.__setitem__(0, 1.0),
    "slice_batched": lambda c, v: c.__setitem__(slice(1, 3), v[0] * 2),
    "ellipsis": lambda c, v: c.__setitem__((Ellipsis, 0), v[:, 1].exp()),
    "mask": lambda c, v: c.__setitem__(tg.tensor([True, False, True, False]), 0.0),
    "index_array": lambda c, v: c.__setitem__(tg.tensor([0, 2]), v[1:3] ** 2),
    "row_and_array": lambda c, v: c.__setitem__((0, tg.tensor([0, 2])), v[1, :2] * 3),
    "unbatched_row": lambda c, v: c.__setitem__((1, slice(None)), tg.tensor([1.0, 2.0, 3.0])),
    "element": lambda c, v: c.__setitem__((2, 1), v.sum()),
}


@pytest.mark.parametrize("name", list(SETITEM_CASES))
def test_setitem_batches_without_a_loop(name):
    # x[key] = value inside vmap writes every example at once (no per-example warning), with
    # each example's gradient: the same as writing one example at a time
    import warnings

    x0 = np.random.default_rng(8).standard_normal((5, 4, 3))

    def f(v):
        c = v.clone()
        SETITEM_CASES[name](c, v)
        return c

    x = tg.tensor(x0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = tg.vmap(f)(x)
    weights = tg.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
    (g,) = tg.autograd.grad((y * weights).sum(), x)
    for i in (0, 4):
        xi = tg.tensor(x0[i], requires_grad=True)
        yi = f(xi)
        (gi,) = tg.autograd.grad((yi * weights[i]).sum(), xi)
        np.testing.assert_allclose(y[i].detach().numpy(), yi.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(g[i].numpy(), gi.numpy(), rtol=1e-14)


def test_setitem_in_nested_vmaps():
    # the value batched at the outer level only: written through the outer physical tensor
    x0, w0 = np.random.default_rng(9).standard_normal((5, 4, 3)), np.arange(15.0).reshape(5, 3)

    def f(v, w):
        c = v.clone()
        c[1:] = w[1:] * 2
        return c

    out = tg.vmap(tg.vmap(f, in_dims=(0, None)))(tg.tensor(x0), tg.tensor(w0))
    want = x0.copy()
    want[:, :, 1:] = 2 * w0[:, None, 1:]
    np.testing.assert_allclose(out.numpy(), want)


# in-place methods on batched tensors write the physical tensor in place: a view taken
# before (or the tensor a view views) sees the write, as PyTorch's
INPLACE_CASES = {
    "copy_into_slice": lambda L, c, v: c[1:3].copy_(v[0] * 2),
    "copy_broadcast": lambda L, c, v: c[:, 0].copy_(v[0, 1]),
    "mul_on_row": lambda L, c, v: c[2].mul_(v[1]),
    "add_on_base_seen_by_view": lambda L, c, v: (c[0], c.add_(v.exp()))[0],
    "diagonal_add": lambda L, c, v: c[:3].diagonal().add_(1.5),
    "slice_scatter": lambda L, c, v: L.slice_scatter(c, v[1:3] * 3, 0, 1, 3),
    "slice_scatter_dim1": lambda L, c, v: L.slice_scatter(c, v[:, :2], 1, 0, 2),
    "select_scatter": lambda L, c, v: L.select_scatter(c, v[0].sin(), 0, 2),
    "diagonal_scatter": lambda L, c, v: L.diagonal_scatter(c, v[0, :3], 0, 0, 1),
}


@pytest.mark.parametrize("name", list(INPLACE_CASES))
def test_in_place_through_views_matches_torch_func(name):
    x0 = np.random.default_rng(12).standard_normal((5, 4, 3))

    def f(L):
        def g(v):
            c = v * 1.0
            out = INPLACE_CASES[name](L, c, v)
            return (c, out) if out is not c else c
        return g

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (and no per-example loop)
        ours = tg.vmap(f(tg))(tg.tensor(x0))
        go = tg.vmap(tg.func.grad(lambda v: sum((o * o).sum() for o in _leaves(f(tg)(v)))))(
            tg.tensor(x0))
    theirs = torch.func.vmap(f(torch))(torch.tensor(x0))
    gt = torch.func.vmap(torch.func.grad(lambda v: sum((o * o).sum()
                                                       for o in _leaves(f(torch)(v)))))(
        torch.tensor(x0))
    for o, t in zip(_leaves(ours) + [go], _leaves(theirs) + [gt]):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-14, atol=1e-15)


def test_in_place_on_an_input_writes_it_as_torch_func():
    x, t = tg.zeros(3, 2), torch.zeros(3, 2)
    tg.vmap(lambda a: a[0].mul_(0.0).add_(5.0))(x)
    torch.func.vmap(lambda a: a[0].mul_(0.0).add_(5.0))(t)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_unfold_and_convolution_batch_without_a_loop():
    # Tensor.unfold (the windows of a convolution) has a batching rule: conv1d inside vmap is
    # one convolution of the batch, with each example's gradient
    import warnings

    rng = np.random.default_rng(10)
    x0, w0 = rng.standard_normal((6, 3, 20)), rng.standard_normal((4, 3, 5))
    x, w = tg.tensor(x0, requires_grad=True), tg.tensor(w0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = tg.vmap(lambda a: tg.nn.functional.conv1d(a.unsqueeze(0), w, padding=2,
                                                      stride=2).squeeze(0))(x)
        windows = tg.vmap(tg.vmap(lambda a: a.unfold(0, 4, 3)), in_dims=1)(x)
    np.testing.assert_allclose(y.detach().numpy(), tg.nn.functional.conv1d(
        tg.tensor(x0), tg.tensor(w0), padding=2, stride=2).numpy(), rtol=1e-13)
    np.testing.assert_array_equal(windows.detach().numpy(),
                                  tg.tensor(x0).unfold(2, 4, 3).permute(1, 0, 2, 3).numpy())
    gx, gw = tg.autograd.grad((y ** 2).sum(), [x, w])
    x1, w1 = tg.tensor(x0, requires_grad=True), tg.tensor(w0, requires_grad=True)
    hx, hw = tg.autograd.grad((tg.nn.functional.conv1d(x1, w1, padding=2, stride=2) ** 2).sum(),
                              [x1, w1])
    np.testing.assert_allclose(gx.numpy(), hx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), hw.numpy(), rtol=1e-12)
