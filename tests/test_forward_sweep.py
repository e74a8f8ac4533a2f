"""Forward mode on the tape (autograd/forward_sweep.py): tangents pushed record by record for
``tg.func.jvp``, ``jacfwd`` and ``forward_ad``, equal to the double-vjp trick (to 1e-12), to
PyTorch, and falling back to that trick where the sweep cannot go (custom Functions, large
Python ops without a JVP rule)."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD
from tapegrad.autograd import forward_sweep
from tapegrad.func import forward, jacobians


@pytest.fixture
def counted(monkeypatch):
    """Counts the forward sweeps that succeeded and those that handed over to the trick."""
    calls = {"ok": 0, "unsupported": 0}
    real = forward_sweep.tangents

    def tangents(*args):
        try:
            out = real(*args)
        except forward_sweep.Unsupported:
            calls["unsupported"] += 1
            raise
        calls["ok"] += 1
        return out

    monkeypatch.setattr(forward_sweep, "tangents", tangents)
    return calls


def _double_vjp(monkeypatch):
    """Make jvp / jacfwd take the double-vjp path (the reference)."""
    monkeypatch.setattr(forward, "plain_forward", lambda *a: False)
    monkeypatch.setattr(jacobians, "plain_forward", lambda *a: False)


def _mixed(a, b):
    h = tg.tanh(a @ b) * a.sum(1, keepdim=True)  # matmul, broadcast, sum
    h = h[:, ::2].exp() + h.T[0].sin()[None, :2]  # views and broadcasting
    g = tg.cat([h.reshape(-1), tg.linalg.det(a[:2, :2]).reshape(1)])  # rules from vjp_np
    return g.cumsum(0) * g[[0, 1, 1, 3]].sum() + (b ** 3).clamp(-1.0, 1.0).sum()


ARGS = (np.random.default_rng(0).standard_normal((3, 4)),
        np.random.default_rng(1).standard_normal((4, 4)))


def test_jvp_equals_double_vjp_and_uses_the_sweep(counted, monkeypatch):
    prim = tuple(tg.tensor(a) for a in ARGS)
    tans = tuple(tg.tensor(np.random.default_rng(2).standard_normal(a.shape)) for a in ARGS)
    out, jv = tg.func.jvp(_mixed, prim, tans)
    assert counted == {"ok": 1, "unsupported": 0}
    assert not jv.requires_grad and not out.requires_grad
    _double_vjp(monkeypatch)
    out2, jv2 = tg.func.jvp(_mixed, prim, tans)
    np.testing.assert_allclose(jv.numpy(), jv2.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out.numpy(), out2.numpy())


def test_jvp_against_torch(torch):
    prim = tuple(tg.tensor(a) for a in ARGS)
    tans = [np.random.default_rng(3).standard_normal(a.shape) for a in ARGS]
    _, jv = tg.func.jvp(_mixed, prim, tuple(tg.tensor(t) for t in tans))

    def tmixed(a, b):
        h = torch.tanh(a @ b) * a.sum(1, keepdim=True)
        h = h[:, ::2].exp() + h.T[0].sin()[None, :2]
        g = torch.cat([h.reshape(-1), torch.linalg.det(a[:2, :2]).reshape(1)])
        return g.cumsum(0) * g[[0, 1, 1, 3]].sum() + (b ** 3).clamp(-1.0, 1.0).sum()

    _, tjv = torch.func.jvp(tmixed, tuple(torch.tensor(a) for a in ARGS),
                            tuple(torch.tensor(t) for t in tans))
    np.testing.assert_allclose(jv.numpy(), tjv.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,)),
                                   ((4,), (4, 2)), ((2, 3, 4), (4, 2)), ((3,), (2, 3, 4)),
                                   ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_jvp_rule(sa, sb, monkeypatch):
    rng = np.random.default_rng(4)
    prim = (tg.tensor(rng.standard_normal(sa)), tg.tensor(rng.standard_normal(sb)))
    tans = (tg.tensor(rng.standard_normal(sa)), tg.tensor(rng.standard_normal(sb)))
    _, jv = tg.func.jvp(lambda a, b: a @ b, prim, tans)
    ref = tans[0].numpy() @ prim[1].numpy() + prim[0].numpy() @ tans[1].numpy()
    np.testing.assert_allclose(jv.numpy(), ref, rtol=1e-12, atol=1e-12)
    _, jv1 = tg.func.jvp(lambda a: a @ prim[1], prim[:1], tans[:1])  # one tangent only
    np.testing.assert_allclose(jv1.numpy(), tans[0].numpy() @ prim[1].numpy(), rtol=1e-12)


def test_jacfwd_all_columns_in_one_sweep(counted, monkeypatch):
    x0 = np.random.default_rng(5).standard_normal(6)

    def f(a, w):
        return {"p": tg.tanh(w @ a) * a[:3], "q": (a ** 2).sum() * w[0, 0]}

    w = tg.tensor(np.random.default_rng(6).standard_normal((3, 6)))
    J = tg.func.jacfwd(f, argnums=(0, 1))(tg.tensor(x0), w)
    assert counted == {"ok": 1, "unsupported": 0}
    R = tg.func.jacrev(f, argnums=(0, 1))(tg.tensor(x0), w)
    for key in ("p", "q"):
        for i in range(2):
            assert J[key][i].shape == R[key][i].shape
            np.testing.assert_allclose(J[key][i].numpy(), R[key][i].numpy(), rtol=1e-12,
                                       atol=1e-12)
    _double_vjp(monkeypatch)
    J2 = tg.func.jacfwd(f, argnums=(0, 1))(tg.tensor(x0), w)
    np.testing.assert_allclose(J["p"][1].numpy(), J2["p"][1].numpy(), rtol=1e-12, atol=1e-12)


def test_jacfwd_float32_and_has_aux():
    x = tg.tensor(np.array([0.5, 1.5], np.float32))
    J, aux = tg.func.jacfwd(lambda a: (a.exp(), a.sum()), has_aux=True)(x)
    assert J.dtype == np.float32 and aux.item() == 2.0
    np.testing.assert_allclose(J.numpy(), np.diag(np.exp([0.5, 1.5])), rtol=1e-6)


def test_forward_over_reverse_hvp():
    x = tg.tensor([0.5, 1.0, 2.0])
    v = tg.tensor([1.0, -1.0, 0.5])
    _, hv = tg.func.jvp(tg.func.grad(lambda a: (a.sin() * a ** 2).sum()), (x,), (v,))
    xn = x.numpy()
    diag = -np.sin(xn) * xn ** 2 + 4 * xn * np.cos(xn) + 2 * np.sin(xn)
    np.testing.assert_allclose(hv.numpy(), diag * v.numpy(), rtol=1e-12)


def test_custom_function_and_large_ruleless_op_fall_back(counted, monkeypatch):
    class Sq(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g

    x, t = tg.tensor([1.0, 2.0]), tg.tensor([1.0, 1.0])
    _, jv = tg.func.jvp(lambda a: Sq.apply(a).exp(), (x,), (t,))
    assert counted["unsupported"] == 1
    np.testing.assert_allclose(jv.numpy(), 2 * x.numpy() * np.exp(x.numpy() ** 2), rtol=1e-12)
    from tapegrad.registry import REGISTRY, Op

    monkeypatch.setattr(REGISTRY[Op.CUMSUM], "jvp_np", None)  # (as a Python op without one)
    big = tg.tensor(np.linspace(0.1, 1.0, 400))
    _, jv = tg.func.jvp(lambda a: a.cumsum(0).sin(), (big,), (tg.ones(400),))
    assert counted["unsupported"] == 2  # cumsum without a JVP rule and 400 outputs
    cs = np.cumsum(big.numpy())
    np.testing.assert_allclose(jv.numpy(), np.cos(cs) * np.arange(1, 401), rtol=1e-12)


def test_forward_ad_unpack_dual(counted, torch):
    X = np.random.default_rng(7).standard_normal((2, 3))
    T = np.random.default_rng(8).standard_normal((2, 3))
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(tg.tensor(X), tg.tensor(T))
        y = (d.sin() @ w.detach()) * d[:, 0]
        p, tan = fwAD.unpack_dual(y)
        assert fwAD.unpack_dual(w * 2.0).tangent is None  # depends on no dual
        assert np.array_equal(fwAD.unpack_dual(d).tangent.numpy(), T)
    assert counted["ok"] >= 1  # (y's; w * 2.0 requires grad: its tangent would be differentiable)
    with torch.autograd.forward_ad.dual_level():
        td = torch.autograd.forward_ad.make_dual(torch.tensor(X), torch.tensor(T))
        ty = (td.sin() @ torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)) * td[:, 0]
        tp, ttan = torch.autograd.forward_ad.unpack_dual(ty)
    np.testing.assert_allclose(p.numpy(), tp.numpy(), rtol=1e-14)
    np.testing.assert_allclose(tan.numpy(), ttan.numpy(), rtol=1e-12, atol=1e-12)


def test_forward_ad_dual_of_a_tensor_with_history():
    a = tg.tensor([0.3, 0.6], requires_grad=True)
    base = a * 2.0
    with fwAD.dual_level():
        d = fwAD.make_dual(base, tg.tensor([1.0, 0.0]))
        y = d.exp().sum()
        tan = fwAD.unpack_dual(y).tangent
        np.testing.assert_allclose(float(tan), np.exp(0.6), rtol=1e-14)
        y.backward()  # reverse mode still reaches a through the dual
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.exp([0.6, 1.2]), rtol=1e-14)


def test_forward_ad_differentiable_tangent_uses_the_trick():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(tg.tensor([0.5, 1.0]), t)
        tan = fwAD.unpack_dual(d.sin()).tangent
    assert tan.requires_grad
    tan.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.cos([0.5, 1.0]), rtol=1e-14)


def test_linearize_pushes_each_tangent_through_one_recording(counted):
    calls = []

    def f(a, b):
        calls.append(1)
        return a.sin() * b, a.sum()

    a, b = tg.tensor([0.0, 1.0]), tg.tensor([2.0, 3.0])
    _, jfn = tg.func.linearize(f, a, b)
    for ta, tb in [([1.0, 1.0], [0.0, 1.0]), ([0.5, -1.0], [2.0, 0.0])]:
        jp, js = jfn(tg.tensor(ta), tg.tensor(tb))
        ref = np.cos(a.numpy()) * b.numpy() * ta + np.sin(a.numpy()) * tb
        np.testing.assert_allclose(jp.numpy(), ref, rtol=1e-14)
        assert float(js) == sum(ta)
    assert len(calls) == 1 and counted["ok"] == 2
    t = tg.tensor([1.0, 1.0], requires_grad=True)  # a differentiable tangent
    jp, _ = jfn(t, tg.tensor([0.0, 1.0]))
    jp.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.cos(a.numpy()) * b.numpy(), rtol=1e-14)


def test_value_modified_in_place_after_use_raises():
    def f(a):
        h = a * 1.0
        y = h.sin()
        h.add_(1.0)  # sin saved h: its tangent would be computed at the new value
        return y

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tg.func.jvp(f, (tg.tensor([0.1, 0.2]),), (tg.ones(2),))


@pytest.mark.parametrize("name", ["fft_abs", "rfft_irfft", "eigvals_abs"])
def test_complex_intermediates_fall_back_to_the_trick(name, counted):
    """The blocks carry real tangents: a complex record hands over to the double-vjp trick
    (before, jvp/jacfwd/forward_ad of fft(x).abs() raised NumPy's broadcast ValueError)."""
    fns = {"fft_abs": lambda x: tg.fft.fft(x).abs(),
           "rfft_irfft": lambda x: tg.fft.irfft(tg.fft.rfft(x.sin()) * 2.0, n=9),
           "eigvals_abs": lambda x: tg.linalg.eigvals(x.reshape(3, 3)).abs()}
    f = fns[name]
    x = tg.tensor(np.random.default_rng(0).standard_normal(9))
    jac = tg.func.jacrev(f)(x).numpy()
    np.testing.assert_allclose(tg.func.jacfwd(f)(x).numpy(), jac, rtol=1e-12, atol=1e-12)
    t = tg.tensor(np.linspace(-1.0, 1.0, 9))
    np.testing.assert_allclose(tg.func.jvp(f, (x,), (t,))[1].numpy(), jac @ t.numpy(),
                               rtol=1e-12, atol=1e-12)
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(f(fwAD.make_dual(x, t))).tangent
    np.testing.assert_allclose(tangent.numpy(), jac @ t.numpy(), rtol=1e-12, atol=1e-12)
    assert counted["unsupported"] >= 3 and counted["ok"] == 0
    hess = tg.func.hessian(lambda x: f(x).sum())(x).numpy()  # forward over reverse
    np.testing.assert_allclose(hess, tg.func.jacrev(tg.func.jacrev(lambda x: f(x).sum()))(x)
                               .numpy(), rtol=1e-10, atol=1e-12)


def test_complex_intermediates_against_torch(torch):
    x = np.random.default_rng(1).standard_normal(8)
    got = tg.func.jacfwd(lambda x: tg.fft.rfft(x * x).imag)(tg.tensor(x)).numpy()
    want = torch.func.jacfwd(lambda x: torch.fft.rfft(x * x).imag)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
