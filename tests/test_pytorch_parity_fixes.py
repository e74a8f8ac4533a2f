"""Behaviours found different from PyTorch by trying programs from outside, each pinned:
in-place ops and writes on complex tensors, grid_sample at the border, complex parameters in
the adaptive optimizers, weak Python numbers in integer division, remainder by infinity,
argmax/unique edge cases, transforms' auxiliary outputs, forward mode through an unpadded
convolution, the default dtype of layers, and extra state in state dicts."""

import sys

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op


def _complex_pairs(x):
    return tg.complex(x[::2] * 1.0, x[1::2] * 1.0)


@pytest.mark.parametrize("name,op,expected", [
    # |2 z|^2 summed: d/dx = 8 x
    ("mul_", lambda w: w.mul_(2), lambda x: 8 * x),
    ("div_", lambda w: w.div_(2 + 1j), lambda x: 2 * x / 5),
    # zeroed: no gradient
    ("zero_", lambda w: w.zero_(), lambda x: 0 * x),
    ("slice zero_", lambda w: w[:2].zero_(), lambda x: np.r_[0, 0, 0, 0, 2 * x[4:]]),
    ("setitem", lambda w: w.__setitem__(0, 0), lambda x: np.r_[0, 0, 2 * x[2:]]),
    ("masked_fill_", lambda w: w.masked_fill_(tg.tensor([True, False, True, False]), 3j),
     lambda x: np.r_[0, 0, 2 * x[2:4], 0, 0, 2 * x[6:]]),
])
def test_inplace_on_complex_tensors_reaches_backward(name, op, expected):
    x = tg.arange(8.0, requires_grad=True)
    w = _complex_pairs(x)
    op(w)
    (g,) = tg.autograd.grad((w * w.conj()).real.sum(), x)
    np.testing.assert_allclose(g.numpy(), expected(np.arange(8.0)), rtol=1e-12, atol=1e-12)


def test_zeroing_a_fourier_mode_differentiates():
    rng = np.random.default_rng(0)
    f = tg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    uh = tg.fft.fft2(f)
    uh[0, 0] = 0  # the mean removed: the gradient of sum(u^2) is 2 (f - mean f)
    (tg.fft.ifft2(uh).real ** 2).sum().backward()
    v = f.detach().numpy()
    np.testing.assert_allclose(f.grad.numpy(), 2 * (v - v.mean()), rtol=1e-12, atol=1e-12)


def test_complex_inplace_matches_pytorch():
    torch = pytest.importorskip("torch")
    cases = [lambda T, w: w.exp_(), lambda T, w: w[:2].copy_(w[2:] * 1j),
             lambda T, w: w.__setitem__(slice(1, 3), w[:2].detach() * 2),
             lambda T, w: w.add_(w.detach() * 1j)]
    for f in cases:
        grads = []
        for T in (torch, tg):
            x = T.arange(8, dtype=T.float64).requires_grad_()
            w = T.complex(x[::2] * 0.1, x[1::2] * 0.1)
            f(T, w)
            grads.append(np.asarray(T.autograd.grad((w * w.conj()).real.sum(), x)[0]))
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
def test_grid_sample_zero_gradient_on_the_border(padding_mode):
    img = tg.arange(4.0).reshape(1, 1, 1, 4) ** 2
    g = tg.tensor([[[[1.0, 0.0]]]], requires_grad=True)  # x exactly on the right edge
    out = tg.nn.functional.grid_sample(img, g, padding_mode=padding_mode, align_corners=True)
    assert out.item() == 9.0
    assert tg.autograd.grad(out, g)[0].abs().sum().item() == 0.0  # (PyTorch's clip rule)


def test_grid_sample_identity_affine_matches_pytorch():
    torch = pytest.importorskip("torch")
    img = np.random.default_rng(0).standard_normal((1, 2, 5, 6))
    for align in (False, True):
        for pm in ("zeros", "border", "reflection"):
            res = []
            for T in (torch, tg):
                th = T.tensor([[[1.0, 0, 0], [0, 1, 0]]], dtype=T.float64, requires_grad=True)
                grid = T.nn.functional.affine_grid(th, (1, 2, 5, 6), align_corners=align)
                o = T.nn.functional.grid_sample(T.tensor(img), grid, padding_mode=pm,
                                                align_corners=align)
                (o * T.tensor(np.linspace(-1, 1, o.numel()).reshape(o.shape))).sum().backward()
                res.append(np.asarray(th.grad))
            np.testing.assert_allclose(res[1], res[0], atol=1e-10)


@pytest.mark.parametrize("name,kw", [("Adam", {"lr": 0.1}), ("AdamW", {"lr": 0.1}),
                                     ("RMSprop", {"lr": 0.01, "centered": True}),
                                     ("Adagrad", {"lr": 0.1}), ("Adadelta", {"lr": 0.5}),
                                     ("NAdam", {"lr": 0.1}), ("Rprop", {"lr": 0.05}),
                                     ("SGD", {"lr": 0.1, "momentum": 0.9})])
def test_complex_parameters_update_as_real_pairs(name, kw):
    """A complex parameter moves as its (re, im) pairs would as a real one (PyTorch's rule)."""
    z0 = np.array([1 + 2j, -0.5 + 0.3j])
    zc = tg.tensor(z0, requires_grad=True)
    zr = tg.tensor(z0.view(np.float64).copy(), requires_grad=True)
    opts = [getattr(tg.optim, name)([zc], **kw), getattr(tg.optim, name)([zr], **kw)]
    for _ in range(4):
        for opt, loss in zip(opts, ((zc * zc.conj()).real.sum() + zc.real.sum() * 0.3,
                                    (zr * zr).sum() + zr[::2].sum() * 0.3)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(zc.detach().numpy().view(np.float64), zr.detach().numpy(),
                               rtol=1e-12)
    assert opts[0].state[zc][next(k for k in opts[0].state[zc] if k != "step")].dtype.kind \
        in "cf"


def test_integer_division_keeps_the_integer_dtype():
    i = tg.tensor([7, -7], dtype=tg.int32)
    for r in (i // 2, i % 2, tg.fmod(i, 2), tg.remainder(i, 2), tg.floor_divide(i, 2),
              tg.div(i, 2, rounding_mode="floor"), tg.div(i, 2, rounding_mode="trunc"), 7 // i):
        assert r.dtype == np.int32
    f = tg.tensor([7.0, -7.0], dtype=tg.float32)
    assert tg.div(f, 2, rounding_mode="trunc").dtype == np.float32 and (f % 2).dtype == np.float32
    assert (i // 2).tolist() == [3, -4] and tg.div(i, 2, rounding_mode="trunc").tolist() == [3, -3]


def test_remainder_by_infinity():
    x = tg.tensor([5.0, -5.0])
    assert tg.remainder(x, float("inf")).tolist() == [5.0, float("inf")]
    assert tg.fmod(x, float("inf")).tolist() == [5.0, -5.0]
    assert (x % float("-inf")).tolist() == [float("-inf"), -5.0]
    check_op(lambda a, b: a % b, [np.array([3.0, 7.3, -2.2]), np.array([2.0, -1.1, 0.7])])
    check_op(lambda a, b: tg.fmod(a, b), [np.array([3.0, 7.3, -2.2]), np.array([2.0, -1.1, 0.7])])


def test_argmax_keepdim_unique_nan_and_integer_setitem():
    x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert tg.argmax(x, keepdim=True).shape == (1, 1) and x.argmin(keepdim=True).tolist() == [[0]]
    u, inv, counts = tg.unique(tg.tensor([1.0, np.nan, 2.0, np.nan, 1.0]), return_inverse=True,
                               return_counts=True)
    assert np.isnan(u.numpy()[2:]).all() and len(u) == 4  # each NaN its own value
    assert inv.tolist() == [0, 2, 1, 3, 0] and counts.tolist() == [2, 1, 1, 1]
    v = tg.tensor(2.5, requires_grad=True)
    ints = tg.tensor([1, 2, 3])
    ints[0] = v  # an integer tensor takes the value only
    assert ints.tolist() == [2, 2, 3] and not ints.requires_grad


def test_floor_division_gives_zero_gradients_to_both():
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    y = tg.tensor([0.7, 0.9], requires_grad=True)
    gx, gy = tg.autograd.grad((tg.div(x, y, rounding_mode="floor") * x).sum(), [x, y])
    assert gx.tolist() == [2.0, 2.0] and gy.tolist() == [0.0, 0.0]


def test_aux_outputs_leave_the_transform():
    x = tg.tensor([1.0, 2.0])
    _, aux = tg.func.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(x)
    assert not aux.requires_grad and aux.numpy().shape == (2,)
    _, aux = tg.func.grad(lambda x: ((x ** 2).sum(), x.exp()), has_aux=True)(x)
    assert not aux.requires_grad
    _, aux = tg.func.jacfwd(lambda x: (x.sin(), x.cos()), has_aux=True)(x)
    assert not aux.requires_grad
    _, _, aux = tg.func.jvp(lambda x: (x.sin(), x.cos()), (x,), (x,), has_aux=True)
    assert not aux.requires_grad
    _, _, aux = tg.func.vjp(lambda x: (x.sin(), x.cos()), x, has_aux=True)
    assert not aux.requires_grad
    w = tg.tensor([0.5, 1.5], requires_grad=True)  # outside: the aux stays differentiable in w
    g, aux = tg.func.grad(lambda x: ((x * w).sum() ** 2, (x * w).sum()), has_aux=True)(x)
    assert g.requires_grad and aux.requires_grad
    np.testing.assert_allclose(tg.autograd.grad(aux, w)[0].numpy(), [1.0, 2.0])


def test_forward_mode_through_an_unpadded_convolution():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 3, 4)), tg.tensor(rng.standard_normal((2, 3, 2)))
    F = tg.nn.functional
    jac = tg.func.jacfwd(lambda x: F.conv1d(x, w))(tg.tensor(x))
    ref = tg.func.jacrev(lambda x: F.conv1d(x, w))(tg.tensor(x))
    np.testing.assert_allclose(jac.numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)


def test_layers_take_the_default_dtype():
    old = tg.get_default_dtype()
    tg.set_default_dtype(tg.float32)
    try:
        nn = tg.nn
        for m in (nn.Linear(3, 4), nn.Conv2d(1, 2, 3), nn.LayerNorm(4), nn.BatchNorm1d(4),
                  nn.Embedding(5, 3), nn.LSTM(3, 4), nn.MultiheadAttention(4, 2),
                  nn.GroupNorm(2, 4), nn.RMSNorm(4), nn.TransformerEncoderLayer(4, 2, 8)):
            assert {str(p.dtype) for p in m.parameters()} == {"float32"}, type(m).__name__
        assert nn.Linear(3, 4)(tg.randn(2, 3)).dtype == np.float32
    finally:
        tg.set_default_dtype(old)


def test_extra_state_versions_and_load_overrides():
    class Counter(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.count = tg.nn.Linear(2, 2), 0

        def get_extra_state(self):
            return {"count": self.count}

        def set_extra_state(self, state):
            self.count = state["count"]

    m = Counter()
    m.count = 7
    sd = m.state_dict()
    assert list(sd)[0] == "_extra_state" and sd._metadata["lin"] == {"version": 1}
    m2 = Counter()
    m2.load_state_dict(sd)
    assert m2.count == 7
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        m2.load_state_dict({k: v for k, v in sd.items() if k != "_extra_state"})
    assert tg.nn.BatchNorm1d(2).state_dict()._metadata[""] == {"version": 2}

    class Renamed(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = tg.nn.Parameter(tg.zeros(2))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing,
                                  unexpected, errors):  # a checkpoint migration
            if prefix + "weight_old" in state_dict:
                state_dict[prefix + "w"] = state_dict.pop(prefix + "weight_old")
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing,
                                          unexpected, errors)

    seq = tg.nn.Sequential(Renamed())
    seq.load_state_dict({"0.weight_old": tg.ones(2) * 3})
    assert seq[0].w.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "extra"'):
        tg.nn.Linear(2, 2).load_state_dict({"weight": tg.zeros(2, 2), "bias": tg.zeros(2),
                                            "extra": tg.zeros(1)})


def test_fmax_fmin_give_ties_to_the_first_argument():
    x = tg.tensor([1.0, 2.0, np.nan, np.nan, 0.0], requires_grad=True)
    y = tg.tensor([1.0, 1.0, 3.0, np.nan, 4.0], requires_grad=True)
    gx, gy = tg.autograd.grad(tg.fmax(x, y).sum(), [x, y])
    assert gx.tolist() == [1, 1, 0, 1, 0] and gy.tolist() == [0, 0, 1, 0, 1]
    gx, gy = tg.autograd.grad(tg.fmin(x, y).sum(), [x, y])
    assert gx.tolist() == [1, 0, 0, 1, 1] and gy.tolist() == [0, 1, 1, 0, 0]
    check_op(lambda a, b: tg.fmax(a, b) * tg.fmin(a, b), [np.array([0.3, -1.2, 2.0]),
                                                          np.array([0.5, -2.0, 1.0])])


def test_real_and_imag_of_a_scalar_stay_scalars():
    z = tg.tensor(1 + 2j, requires_grad=True)
    assert z.real.shape == () and z.imag.shape == () and tg.view_as_real(z).shape == (2,)
    (z.real * 3 + z.imag * 5).backward()
    assert z.grad.item() == 3 + 5j


def test_forward_mode_inside_vmap_reads_batched_tensors_from_outside():
    f = lambda z, th: (th * z).sin()  # noqa: E731
    Z, th = tg.tensor([[1.0, 2.0], [3.0, 4.0]]), tg.tensor([1.0, 2.0])
    jac = tg.func.vmap(tg.func.jacfwd(f, argnums=1), in_dims=(0, None))(Z, th)
    ref = tg.func.vmap(tg.func.jacrev(f, argnums=1), in_dims=(0, None))(Z, th)
    np.testing.assert_allclose(jac.numpy(), ref.numpy(), rtol=1e-14)
    expected = np.stack([np.diag(z * np.cos(th.numpy() * z)) for z in Z.numpy()])
    np.testing.assert_allclose(jac.numpy(), expected, rtol=1e-14)
    out = tg.func.vmap(lambda z: tg.func.jvp(lambda t: t * z.sum(), (th,), (tg.ones(2),))[1])(Z)
    assert out.tolist() == [[3.0, 3.0], [7.0, 7.0]]


def test_mark_dirty_on_a_view_rewrites_the_base_history():
    class MulTwo_(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = a * 1
    MulTwo_.apply(base[:2])
    base.sum().backward()  # through the base: the custom backward runs for the view's part
    assert base.tolist() == [2.0, 4.0, 3.0] and a.grad.tolist() == [2.0, 2.0, 1.0]
    a.grad = None
    base = a * 1
    MulTwo_.apply(base[:2]).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 0.0]


@pytest.mark.parametrize("momentum", [0.1, None])
def test_compiled_batch_norm_counts_batches(momentum):
    import warnings

    X = np.random.default_rng(0).standard_normal((4, 6, 3))
    states = []
    for compiled in (False, True):
        tg.manual_seed(0)
        m = tg.nn.Sequential(tg.nn.Linear(3, 3), tg.nn.BatchNorm1d(3, momentum=momentum))
        f = tg.compile(m) if compiled else m
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (no fall back to eager)
            for x in X:
                f(tg.tensor(x)).sum().backward()
        bn = m[1]
        states.append((int(bn.num_batches_tracked), bn.running_mean.numpy().copy(),
                       bn.running_var.numpy().copy()))
    assert states[0][0] == states[1][0] == 4
    np.testing.assert_allclose(states[1][1], states[0][1], rtol=1e-12)
    np.testing.assert_allclose(states[1][2], states[0][2], rtol=1e-12)


def test_numpy_scalars_are_weak_like_python_numbers():
    x, i = tg.ones(2, dtype=tg.float32), tg.ones(2, dtype=tg.int32)
    for r in (x - np.float64(1.5), np.float64(2) * x, x + np.int64(2), x / np.float32(2),
              tg.where(x > 0, x, np.float64(0)), tg.pow(x, np.float64(2)), x ** np.float64(2),
              tg.clamp(x, np.float64(0.5))):
        assert r.dtype == np.float32
    assert (i + np.int64(3)).dtype == np.int32 and tg.remainder(i, np.int64(2)).dtype == np.int32
    w = tg.tensor([1.5, 2.0], dtype=tg.float32, requires_grad=True)
    (w * np.float64(3)).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_interpolations_and_nan_gradient(interpolation):
    v = np.array([[1.0, 5.0, 3.0, 2.0, 4.0], [1.0, np.nan, 3.0, 2.0, 0.0]])
    x = tg.tensor(v, requires_grad=True)
    r = tg.quantile(x, tg.tensor([0.3, 0.625]), dim=1, interpolation=interpolation)
    np.testing.assert_allclose(r.detach().numpy()[:, 0],
                               np.quantile(v[0], [0.3, 0.625], method=interpolation))
    assert np.isnan(r.detach().numpy()[:, 1]).all()
    r.sum().backward()  # (NaN values; the gradient of a sum is still 1)
    assert x.grad[1].tolist() == [0.0, 2.0, 0.0, 0.0, 0.0]  # all to the NaN, as PyTorch's
    assert x.grad[0].sum().item() == pytest.approx(2.0)
    if interpolation == "linear":
        check_op(lambda t: tg.quantile(t, 0.3, dim=1), [v[:1]])


def test_quantile_matches_pytorch_with_nans():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape, dim in (((7,), 0), ((3, 6), 1), ((2, 3, 4), -1)):
        v = rng.standard_normal(shape)
        v.reshape(-1)[1] = np.nan
        for interp in ("linear", "lower", "higher", "nearest", "midpoint"):
            for name in ("quantile", "nanquantile"):
                res = []
                for T in (torch, tg):
                    x = T.tensor(v, requires_grad=True)
                    r = getattr(T, name)(x, T.tensor(np.array([0.1, 0.625])), dim=dim,
                                         interpolation=interp)
                    r.sum().backward()
                    res.append((np.asarray(r.detach()), np.asarray(x.grad)))
                np.testing.assert_allclose(res[1][0], res[0][0], equal_nan=True)
                np.testing.assert_allclose(res[1][1], res[0][1])


def test_derivatives_that_are_constants_keep_their_graph():
    """As PyTorch's: a derivative formula that reads the inputs requires grad under
    create_graph even where its value is constant, so one more ``grad`` gives zeros or None
    rather than an error."""
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    (g,) = tg.autograd.grad(tg.square(x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x, create_graph=True)
    assert h.requires_grad and tg.autograd.grad(h.sum(), x)[0].tolist() == [0.0, 0.0]
    y = tg.tensor([0.7, 0.9], requires_grad=True)
    for f in (tg.fmod, tg.remainder):
        _, gy = tg.autograd.grad(f(x, y).sum(), [x, y], create_graph=True)
        assert gy.requires_grad
        assert [t.tolist() for t in tg.autograd.grad(gy.sum(), [x, y])] == [[0, 0], [0, 0]]
    xc, w, b = tg.ones(1, 2, 5, requires_grad=True), tg.ones(3, 2, 3, requires_grad=True), \
        tg.zeros(3, requires_grad=True)
    _, _, gb = tg.autograd.grad(tg.nn.functional.conv1d(xc, w, b).sum(), [xc, w, b],
                                create_graph=True)
    assert gb.requires_grad and tg.autograd.grad((gb ** 2).sum(), [b], allow_unused=True) == \
        (None,)
    xl, wl, bl = (tg.tensor([[1.0, 2.0, 4.0]], requires_grad=True),
                  tg.ones(3, requires_grad=True), tg.zeros(3, requires_grad=True))
    _, gw, gb = tg.autograd.grad((tg.nn.functional.layer_norm(xl, (3,), wl, bl) *
                                  tg.tensor([1.0, 2.0, 3.0])).sum(), [xl, wl, bl],
                                 create_graph=True)
    assert gb.requires_grad and gw.requires_grad


def test_clamp_with_tensor_bounds_sends_gradients_as_pytorch():
    x = tg.tensor([1.0, 2.0, 1.5, 0.0, 3.0, 1.0], requires_grad=True)
    lo = tg.tensor([1.5, 0.0, 1.5, 1.0, 2.0, 1.0], requires_grad=True)
    hi = tg.tensor([1.5, 1.0, 1.5, 0.5, 1.0, 1.0], requires_grad=True)
    out = tg.clamp(x, lo, hi)
    assert out.tolist() == [1.5, 1.0, 1.5, 0.5, 1.0, 1.0]
    gx, gl, gh = tg.autograd.grad(out.sum(), [x, lo, hi])
    # x < min == max: nobody's (the value is a constant there)
    assert gx.tolist() == [0, 0, 1, 0, 0, 1] and gl.tolist() == [0] * 6
    assert gh.tolist() == [0, 1, 0, 1, 1, 0]


def test_clamp_with_tensor_bounds_matches_pytorch_on_every_order():
    import itertools

    torch = pytest.importorskip("torch")
    vals = [np.nan, -1.0, 0.0, 1.0, 1.5, 2.0, 3.0]
    Z, L, H = np.array(list(itertools.product(vals, vals, vals))).T
    res = []
    for T in (torch, tg):
        z, lo, hi = (T.tensor(a, requires_grad=True) for a in (Z, L, H))
        r = T.clamp(z, lo, hi)
        res.append([np.asarray(r.detach())] + [np.asarray(g) for g in
                                                T.autograd.grad(r.sum(), [z, lo, hi])])
    for a, b in zip(*res):
        np.testing.assert_array_equal(b, a)


def test_clip_grads_with_norm_and_nonfinite_norms():
    import warnings

    ps = [tg.nn.Parameter(tg.ones(3)) for _ in range(2)]
    ps[0].grad, ps[1].grad = tg.tensor([3.0, 4.0, 0.0]), tg.zeros(3)
    tg.nn.utils.clip_grads_with_norm_(ps, 1.0, tg.tensor(5.0))
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-6)
    ps[0].grad = tg.tensor([1.0, np.inf, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no NumPy warning leaks out)
        total = tg.nn.utils.clip_grad_norm_((p for p in ps), 1.0)  # (a generator: read once)
    assert total.item() == np.inf and np.isnan(ps[0].grad[1].item())


def test_optimizer_defaults_meshgrid_warning_and_batch_norm_sizes():
    p = tg.nn.Parameter(tg.zeros(2))
    group = tg.optim.SGD([p], lr=0.1).param_groups[0]
    assert group["momentum"] == 0 and type(group["momentum"]) is int  # (as PyTorch's repr)
    assert type(tg.optim.Adam([p]).param_groups[0]["weight_decay"]) is int
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        tg.meshgrid(tg.arange(2), tg.arange(3))
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        tg.nn.BatchNorm1d(3)(tg.randn(4, 4))
    with pytest.raises(RuntimeError, match="weight should contain 4 elements not 3"):
        tg.nn.functional.batch_norm(tg.randn(4, 4), None, None, tg.ones(3), training=True)


def test_load_reads_torch_save_files_and_refuses_code(tmp_path):
    import io
    import pickle
    import zipfile

    class Evil:
        def __reduce__(self):
            return (print, ("this must not run",))

    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as z:  # the layout torch.save writes
        z.writestr("archive/data.pkl", pickle.dumps({"x": Evil()}, protocol=2))
        z.writestr("archive/byteorder", "little")
    with pytest.raises(pickle.UnpicklingError, match="builtin.*print, which is not read"):
        tg.load(path)
    torch = pytest.importorskip("torch")
    m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    opt = torch.optim.Adam(m.parameters())
    m(torch.randn(4, 2)).sum().backward()
    opt.step()
    buf = io.BytesIO()
    torch.save({"model": m.state_dict(), "opt": opt.state_dict(), "epoch": 3,
                "view": torch.arange(6.0, dtype=torch.float64).view(2, 3).t()[1:],
                "mask": torch.tensor([True, False]), "z": torch.tensor([1 + 2j])}, buf)
    buf.seek(0)
    ck = tg.load(buf)
    assert ck["epoch"] == 3 and ck["view"].tolist() == [[1.0, 4.0], [2.0, 5.0]]
    assert ck["mask"].tolist() == [True, False] and ck["z"].dtype == np.complex64
    tm = tg.nn.Sequential(tg.nn.Linear(2, 3, dtype=tg.float32),
                          tg.nn.BatchNorm1d(3, dtype=tg.float32))
    tm.load_state_dict(ck["model"])
    np.testing.assert_array_equal(tm[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    o = tg.optim.Adam(tm.parameters())
    o.load_state_dict(ck["opt"])
    np.testing.assert_array_equal(o.state[tm[0].weight]["exp_avg"].numpy(),
                                  opt.state[m[0].weight]["exp_avg"].numpy())


def test_mark_non_differentiable_on_an_input_returned_as_it_is():
    class Split(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_non_differentiable(x)
            return x, x * 1

        @staticmethod
        def backward(ctx, g, g2):
            return g2 * 3

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w, y = Split.apply(x)
    assert not w.requires_grad and w.grad_fn is None and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_plain_backward_adds_into_a_grad_made_under_create_graph_in_place():
    import warnings

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the create_graph=True reference-cycle warning)
        (x ** 2).sum().backward(create_graph=True)
    g = x.grad
    (x ** 3).sum().backward()
    assert x.grad is g and g.tolist() == [5.0, 16.0]


def test_reverse_over_forward_through_unpack_dual():
    """A primal that requires grad keeps its graph through make_dual/unpack_dual: the tangent
    (J t) differentiates to the Hessian-vector product."""
    fw = tg.autograd.forward_ad
    xv, tv = np.array([0.3, -1.2]), np.array([1.0, 2.0])
    x = tg.tensor(xv, requires_grad=True)
    with fw.dual_level():
        xd = fw.make_dual(x, tg.tensor(tv))
        primal, tangent = fw.unpack_dual((xd.sin() * xd ** 3).sum())
        assert primal.requires_grad and tangent.requires_grad
        (hvp,) = tg.autograd.grad(tangent, x)
    f2 = lambda v: (6 * v - v ** 3) * np.sin(v) + 6 * v ** 2 * np.cos(v)  # noqa: E731
    np.testing.assert_allclose(hvp.numpy(), f2(xv) * tv, rtol=1e-12)
    with fw.dual_level():  # a primal that does not require grad: both detached
        xd = fw.make_dual(tg.tensor(xv), tg.tensor(tv))
        primal, tangent = fw.unpack_dual((xd.sin() * xd).sum())
        assert not primal.requires_grad and not tangent.requires_grad


def test_optimizer_hooks():
    p = tg.nn.Parameter(tg.ones(2))
    opt = tg.optim.SGD([p], lr=0.1)
    log = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", args[0] is o)))
    opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post",)))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items()
                                                         if k != "extra"})
    opt.register_load_state_dict_post_hook(lambda o: log.append(("loaded",)))
    p.grad = tg.ones(2)
    opt.step()
    pre.remove()
    opt.step()
    sd = opt.state_dict()
    opt.load_state_dict(sd)
    assert log == [("pre", True), ("post",), ("post",), ("loaded",)]
    assert sorted(sd) == ["extra", "param_groups", "state"] and p.tolist() == [0.8, 0.8]
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.register_step_pre_hook(lambda o, a, k: 1)
        opt.step()


@pytest.mark.parametrize("nd,stride,padding,output_padding,dilation,groups", [
    (1, 2, 1, 1, 1, 1), (2, 2, 0, 0, 1, 2), (2, 3, 1, 2, 1, 1), (2, 1, 1, 0, 2, 1),
    (3, 2, 2, 1, 2, 2)])
def test_conv_transpose_op_matches_pytorch_to_second_order(nd, stride, padding,
                                                            output_padding, dilation, groups):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(nd + stride)
    x = rng.standard_normal((2, 4) + (4,) * nd if nd < 3 else (1, 4) + (3,) * nd)
    w, b = rng.standard_normal((4, 6 // groups) + (3,) * nd), rng.standard_normal(6)
    res = []
    for T in (torch, tg):
        X, W, B = (T.tensor(a, requires_grad=True) for a in (x, w, b))
        y = getattr(T.nn.functional, f"conv_transpose{nd}d")(
            X, W, B, stride=stride, padding=padding, output_padding=output_padding,
            dilation=dilation, groups=groups)
        weights = T.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
        grads = T.autograd.grad((y * weights).sum(), [X, W, B], create_graph=True)
        second = T.autograd.grad(sum((g ** 2).sum() for g in grads), [X, W])
        res.append([np.asarray(t.detach()) for t in (y, *grads, *second)])
    for a, b_ in zip(*res):
        np.testing.assert_allclose(b_, a, rtol=1e-10, atol=1e-10)


def test_per_example_gradients_of_shared_parameters_in_one_sweep():
    """vmap(grad) over examples of a parameter they share: one backward of the batch (each
    example's own copy of the parameter) gives the same rows as one backward per example."""
    rng = np.random.default_rng(0)
    W, X, b = rng.standard_normal((16, 8)), rng.standard_normal((64, 16)), rng.standard_normal(8)

    def loss(w, bias, x):
        return (tg.tanh(x @ w + bias) ** 2).mean() + (w * w).sum() * 0.01

    rows = tg.func.vmap(tg.func.grad(loss, argnums=(0, 1)), in_dims=(None, None, 0))(
        tg.tensor(W), tg.tensor(b), tg.tensor(X))
    for i in (0, 17, 63):
        gw, gb = tg.func.grad(loss, argnums=(0, 1))(tg.tensor(W), tg.tensor(b), tg.tensor(X[i]))
        np.testing.assert_allclose(rows[0][i].numpy(), gw.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(rows[1][i].numpy(), gb.numpy(), rtol=1e-12, atol=1e-15)
    _, vjp_fn = tg.func.vjp(lambda a: a.exp() * a.sum(), tg.tensor(X[0, :3]))
    (batched,) = tg.func.vmap(vjp_fn)(tg.eye(3))  # a shared output seeded per example
    for i in range(3):
        np.testing.assert_allclose(batched[i].numpy(), vjp_fn(tg.eye(3)[i])[0].numpy())


def test_per_example_gradients_of_parameters_that_require_grad():
    # nn.Parameters straight from named_parameters(): the per-example gradients keep their
    # graph to the parameters (create_graph), in one backward of the batch, not a loop
    rng = np.random.default_rng(1)
    model = tg.nn.Sequential(tg.nn.Linear(5, 7), tg.nn.Tanh(), tg.nn.Linear(7, 3)).double()
    x, y = tg.tensor(rng.standard_normal((6, 5))), tg.tensor(rng.integers(0, 3, 6))
    params = dict(model.named_parameters())

    def loss(p, xb, yb):
        out = tg.func.functional_call(model, p, (xb.unsqueeze(0),))
        return tg.nn.functional.cross_entropy(out, yb.unsqueeze(0))

    rows = tg.func.vmap(tg.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    assert all(r.requires_grad for r in rows.values())
    for i in (0, 5):
        one = tg.func.grad(loss)(params, x[i], y[i])
        for k in params:
            np.testing.assert_allclose(rows[k][i].detach().numpy(), one[k].detach().numpy(),
                                       rtol=1e-12, atol=1e-15)
    # second order through them: the sum of squared per-example gradient norms, by parameter
    total = sum((r ** 2).sum() for r in rows.values())
    w = params["0.weight"]
    (got,) = tg.autograd.grad(total, [w])
    want = sum(tg.autograd.grad(sum((g ** 2).sum() for g in tg.func.grad(loss)(
        params, x[i], y[i]).values()), [w])[0] for i in range(6))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-13)
    detached = tg.func.vmap(tg.func.grad(loss), in_dims=(None, 0, 0))(
        {k: v.detach() for k, v in params.items()}, x, y)
    assert not any(r.requires_grad for r in detached.values())
    np.testing.assert_allclose(detached["2.bias"].numpy(), rows["2.bias"].detach().numpy())


def test_cdist_uses_the_matrix_product_form_past_25_rows():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((40, 5)), rng.standard_normal((30, 5))
    b[0] = a[0]  # a zero distance: gradient 0 there, as PyTorch's
    A, B = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    d = tg.cdist(A, B)
    exact = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
    np.testing.assert_allclose(d.detach().numpy(), exact, atol=1e-12)
    check_op(lambda u, v: tg.cdist(u, v) * tg.cdist(u, v, compute_mode=
                                                    "donot_use_mm_for_euclid_dist"),
             [a[:30] + 3, b[1:] - 3])
    ga, _ = tg.autograd.grad(d[0, 0], [A, B])
    assert ga.abs().sum().item() == 0.0
    with pytest.raises(ValueError, match="is not a valid value for compute_mode"):
        tg.cdist(A, B, compute_mode="fast")


def test_module_state_dict_hooks():
    m = tg.nn.Sequential(tg.nn.Linear(2, 2), tg.nn.Linear(2, 1))
    log = []
    m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre", prefix)))
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd.__setitem__(
        "extra", tg.zeros(1)))
    handle = m[1].register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, *rest: log.append(("load pre", prefix)))

    def post(mod, incompatible):  # may forgive a key before strict loading checks
        log.append(("load post", list(incompatible.unexpected_keys)))
        incompatible.unexpected_keys.remove("extra")

    m.register_load_state_dict_post_hook(post)
    sd = m.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "extra"]
    result = m.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert log == [("pre", "0."), ("load pre", "1."), ("load post", ["extra"])]
    handle.remove()
    m._register_state_dict_hook(lambda mod, sd, prefix, meta: {"only": 1})
    assert m.state_dict() == {"only": 1}


def test_sinc_near_zero_and_weak_numbers_in_binary_functions():
    x = tg.tensor([-1e-20, 1e-30, 0.0, 1e-4, 0.5], requires_grad=True)
    (g,) = tg.autograd.grad((tg.sinc(x) * 0.7).sum(), x)
    np.testing.assert_allclose(g.numpy()[:4], -np.pi ** 2 / 3 * 0.7 * x.detach().numpy()[:4],
                               rtol=1e-6, atol=1e-300)  # no cancellation of huge terms
    check_op(lambda t: tg.sinc(t), [np.array([0.0, 1e-3, 0.004, 0.3, -1.7])])
    f = tg.tensor([0.5, 1.0], dtype=tg.float32)
    for r in (tg.xlogy(f, 2.0), tg.xlogy(2.0, f), tg.special.xlog1py(f, 2.0),
              tg.copysign(f, -2.0), tg.atan2(f, 2.0), tg.hypot(f, 2.0), tg.logaddexp(f, 2.0),
              tg.logaddexp2(f, 2.0), np.arctan2(f, 2.0), np.hypot(f, 2.0)):
        assert r.dtype == np.float32
    assert tg.xlogy(tg.tensor([0, 1, 0]), tg.tensor([0, 2, 3])).tolist() == \
        [0.0, float(np.log(2)), 0.0]


def test_linalg_with_nan_inputs():
    inv = tg.linalg.inv(tg.tensor([[np.nan, 1.0], [1.0, 2.0]]))
    assert np.isnan(inv.numpy()).all()
    with pytest.raises(Exception, match="the leading minor of order 2 is not positive-definite"):
        tg.linalg.cholesky(tg.tensor([[4.0, 0.0], [0.0, np.nan]]))
    with pytest.raises(Exception, match=r"\(Batch element 1\).*order 2"):
        tg.linalg.cholesky(tg.tensor([[[4.0, 0], [0, 1]], [[1.0, 2.0], [2.0, 1.0]]]))
    assert tg.linalg.cholesky_ex(tg.tensor([[np.nan, 0.0], [0.0, 2.0]])).info.item() == 1


CUMPROD_LINES = [np.array([[1.5, 0.0, 2.0, -3.0, 0.0], [0.0, 2.0, 3.0, 1.0, 4.0],
                           [1.0, 2.0, 3.0, 4.0, 0.0], [0.5, -2.0, 1.5, 1.2, 0.8]]),
                 np.array([2.0, -1.0, 0.0, 3.0, 0.0, 5.0])]


@pytest.mark.parametrize("values", CUMPROD_LINES)
def test_cumprod_one_op_with_zeros_to_second_order(values):
    # one record (not a scan of products): its VJP is PyTorch's, zero-aware at first order and
    # the quadratic form under create_graph (a multilinear function: finite differences exact)
    torch = sys.modules.get("torch") or _optional_torch()
    for dim in range(values.ndim):
        check_op(lambda a: tg.cumprod(a, dim), [values], ref=lambda a: np.cumprod(a, dim),
                 torch_fn=None if torch is None else (lambda a: torch.cumprod(a, dim)))
    x = tg.tensor(values, requires_grad=True)
    assert tg.cumprod(x, -1).grad_fn.name() == "CumprodBackward0"


def _optional_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def test_cumprod_hessian_with_zeros_matches_pytorch():
    torch = pytest.importorskip("torch")
    values, g = CUMPROD_LINES[0], np.random.default_rng(3).standard_normal((4, 5))
    for dim in (0, 1):
        h = tg.autograd.functional.hessian(
            lambda a: (tg.cumprod(a, dim) * tg.tensor(g)).sum(), tg.tensor(values))
        th = torch.autograd.functional.hessian(
            lambda a: (torch.cumprod(a, dim) * torch.tensor(g)).sum(), torch.tensor(values))
        np.testing.assert_allclose(h.numpy(), th.numpy(), atol=1e-12)
    # integers in int64 without a gradient; complex values keep theirs (a scan of products)
    assert tg.tensor([1, 2, 3], dtype=tg.int32).cumprod(0).dtype == tg.int64
    z = tg.tensor([1 + 1j, 2 - 1j, 0.5j], requires_grad=True)
    tz = torch.tensor([1 + 1j, 2 - 1j, 0.5j], requires_grad=True)
    tg.cumprod(z, 0).abs().sum().backward()
    torch.cumprod(tz, 0).abs().sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), tz.grad.numpy(), atol=1e-12)


def _running_extreme_reference(v, maximum):
    """cummax/cummin's indices along the last axis by the rule: an element takes over on a tie
    or a NaN; a NaN extreme only gives way to a later NaN."""
    idx = np.zeros(v.shape, np.int64)
    for line in np.ndindex(v.shape[:-1]):
        best, at = v[line + (0,)], 0
        for k in range(v.shape[-1]):
            x = v[line + (k,)]
            if np.isnan(x) or (not np.isnan(best) and (x >= best if maximum else x <= best)):
                best, at = x, k
            idx[line + (k,)] = at
    return idx


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cummax_cummin_compiled_indices(dtype):
    rng = np.random.default_rng(5)
    v = rng.integers(0, 3, (3, 4, 6)).astype(dtype)  # ties everywhere
    v.flat[::7] = np.nan
    for dim in range(3):
        for name, maximum in (("cummax", True), ("cummin", False)):
            values, indices = getattr(tg.tensor(v), name)(dim)
            want = np.moveaxis(_running_extreme_reference(np.moveaxis(v, dim, -1), maximum),
                               -1, dim)
            np.testing.assert_array_equal(indices.numpy(), want)
            np.testing.assert_array_equal(values.numpy(), np.take_along_axis(v, want, dim))
            assert values.dtype == v.dtype


def test_ieee_results_without_numpy_warnings():
    # log(0), 1/0, 0/0 and their derivatives give inf/nan silently, as PyTorch's; the user's own
    # NumPy call still warns (a fresh interpreter: pytest's warning filters are its own)
    import subprocess

    code = ("import warnings, numpy as np, tapegrad as tg\n"
            "x = tg.tensor([0.0, 1.0, -1.0], requires_grad=True)\n"
            "(tg.log(x) + 1 / x + x / 0.0 + tg.sqrt(x) + x ** -1 + tg.atanh(x)).sum().backward()\n"
            "tg.exp(tg.tensor([1000.0])) * tg.tensor([1e308])\n"
            "y = tg.tensor([[1e308, 1e308]], requires_grad=True)\n"
            "(y.cumsum(1) * y.cumprod(1)).sum().backward()\n"
            "(y.sum(1) + y.prod(1) + y.mean(1) + y.var(1)).sum().backward()\n"
            "tg.zeros(0, 3, requires_grad=True).var(0).sum().backward()\n"
            "np.log(np.zeros(1))\n")
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if "RuntimeWarning" in ln]  # (the empty
    # var's degrees-of-freedom UserWarning is PyTorch's too)
    assert len(lines) == 1 and lines[0].startswith("<string>:9: RuntimeWarning: divide by zero"), \
        done.stderr


def test_cholesky_ex_and_inv_ex_report_each_matrix_of_a_batch():
    # one info per matrix (LAPACK's order of the failing minor); the matrices that factor keep
    # their factor and its gradient
    a = np.stack([np.eye(3) * 2.0, -np.eye(3), np.diag([1.0, 2.0, -1.0])])
    A = tg.tensor(a, requires_grad=True)
    L, info = tg.linalg.cholesky_ex(A)
    assert info.tolist() == [0, 1, 3] and info.dtype == tg.int32
    np.testing.assert_allclose(L[0].detach().numpy(), np.sqrt(2.0) * np.eye(3))
    np.testing.assert_array_equal(L[1].detach().numpy(), -np.eye(3))  # LAPACK's partial factor
    (g,) = tg.autograd.grad(L[0].sum(), A)
    (want,) = tg.autograd.grad(tg.linalg.cholesky(A[0]).sum(), A)
    np.testing.assert_allclose(g.numpy(), want.numpy())
    inverse, info = tg.linalg.inv_ex(tg.tensor(np.stack([np.eye(2) * 4.0, np.zeros((2, 2))])))
    assert info.tolist() == [0, 1]
    np.testing.assert_allclose(inverse[0].numpy(), np.eye(2) / 4.0)
    with pytest.raises(Exception, match="not positive-definite"):
        tg.linalg.cholesky_ex(A, check_errors=True)
