"""Custom autograd Functions under the transforms: a ``jvp`` staticmethod drives forward mode
(``tg.func.jvp``, ``jacfwd``, ``linearize``, ``forward_ad``, and the double-vjp path under
``vmap`` or with tangents that require grad), and ``vmap`` uses the Function's ``vmap``
staticmethod or ``generate_vmap_rule``. Values against ``torch.func`` where torch is
importable, finite differences and closed forms everywhere."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD

X = np.array([[0.3, -1.4], [2.2, 0.7], [-0.5, 1.6]])
T = np.array([[1.0, -0.5], [0.25, 2.0], [-1.5, 0.75]])


def make(lib):
    """The same Functions in tapegrad and in torch."""

    class Cube(lib.autograd.Function):
        """x**3 with a jvp and generate_vmap_rule."""

        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * t

    class STE(lib.autograd.Function):
        """Hard tanh whose jvp passes the tangent straight through while its backward masks
        the gradient: forward mode must follow the jvp, reverse mode the backward."""

        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return lib.clamp(x, -1.0, 1.0)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return lib.where(x.abs() <= 1.0, g, 0.0 * g)

        @staticmethod
        def jvp(ctx, t):
            return t * 1.0

    class Mul(lib.autograd.Function):
        """x * y * scale: tangents of a non-dual tensor input arrive as zeros."""

        @staticmethod
        def forward(x, y, scale):
            return x * y * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_forward(inputs[0], inputs[1])
            ctx.save_for_backward(inputs[0], inputs[1])
            ctx.scale = inputs[2]
            ctx.seen = []

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y * ctx.scale, g * x * ctx.scale, None

        @staticmethod
        def jvp(ctx, tx, ty, ts):
            ctx.seen.append(ts)
            x, y = ctx.saved_tensors
            return (tx * y + x * ty) * ctx.scale

    class SinV(lib.autograd.Function):
        """sin with a hand-written vmap staticmethod (any batch dimension)."""

        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x.cos()

        @staticmethod
        def vmap(info, in_dims, x):
            SinV.infos.append((info.batch_size, info.randomness, tuple(in_dims)))
            return x.sin(), in_dims[0]

    SinV.infos = []
    return Cube, STE, Mul, SinV


Cube, STE, Mul, SinV = make(tg)


def _torch():
    torch = pytest.importorskip("torch")
    return torch, make(torch)


def _fd(f, x, t, eps=1e-6):
    """Central difference of ``f`` at ``x`` in direction ``t`` (float64)."""
    return (f(tg.tensor(x + eps * t)).numpy() - f(tg.tensor(x - eps * t)).numpy()) / (2 * eps)


# ---- forward mode -------------------------------------------------------------------------

def _cube_f(a):
    return Cube.apply(a).sin() * a


def test_jvp_staticmethod_drives_forward_mode():
    x, t = tg.tensor(X), tg.tensor(T)
    want = _fd(_cube_f, X, T)
    out, jv = tg.func.jvp(_cube_f, (x,), (t,))
    np.testing.assert_allclose(out.numpy(), np.sin(X ** 3) * X, rtol=1e-12)
    np.testing.assert_allclose(jv.numpy(), want, rtol=1e-6, atol=1e-8)
    _, jfn = tg.func.linearize(_cube_f, x)
    np.testing.assert_allclose(jfn(t).numpy(), jv.numpy(), rtol=1e-12)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        np.testing.assert_allclose(fwAD.unpack_dual(_cube_f(d)).tangent.numpy(), jv.numpy(),
                                   rtol=1e-12)
    jac = tg.func.jacfwd(_cube_f)(x).numpy().reshape(6, 6)
    np.testing.assert_allclose(jac @ T.reshape(6), jv.numpy().reshape(6), rtol=1e-12)


def test_jvp_staticmethod_matches_torch_func():
    torch, (TCube, TSTE, _, _) = _torch()

    def tf(a):
        return TCube.apply(a).sin() * a

    tx, tt = torch.tensor(X), torch.tensor(T)
    _, tjv = torch.func.jvp(tf, (tx,), (tt,))
    _, jv = tg.func.jvp(_cube_f, (tg.tensor(X),), (tg.tensor(T),))
    np.testing.assert_allclose(jv.numpy(), tjv.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tg.func.jacfwd(_cube_f)(tg.tensor(X)).numpy(),
                               torch.func.jacfwd(tf)(tx).numpy(), rtol=1e-12)
    # the straight-through rule: torch's forward mode follows the jvp too
    _, tjv = torch.func.jvp(lambda a: TSTE.apply(a) * a, (tx,), (tt,))
    _, jv = tg.func.jvp(lambda a: STE.apply(a) * a, (tg.tensor(X),), (tg.tensor(T),))
    np.testing.assert_allclose(jv.numpy(), tjv.numpy(), rtol=1e-12)
    tvj = torch.func.vmap(lambda a, s: torch.func.jvp(lambda b: TSTE.apply(b) * b, (a,),
                                                      (s,))[1])(tx, tt)
    vj = tg.vmap(lambda a, s: tg.func.jvp(lambda b: STE.apply(b) * b, (a,), (s,))[1])(
        tg.tensor(X), tg.tensor(T))
    np.testing.assert_allclose(vj.numpy(), tvj.numpy(), rtol=1e-12)


def _ste_f(a):
    return STE.apply(a) * a


def test_straight_through_jvp_differs_from_its_backward():
    x, t = tg.tensor(X), tg.tensor(T)
    clip = np.clip(X, -1, 1)
    by_jvp = T * X + clip * T  # d(STE(a) a) with STE's tangent passed straight through
    by_backward = np.where(np.abs(X) <= 1, T, 0.0) * X + clip * T
    assert not np.allclose(by_jvp, by_backward)
    np.testing.assert_allclose(tg.func.jvp(_ste_f, (x,), (t,))[1].numpy(), by_jvp, rtol=1e-12)
    # every forward-mode path takes the jvp: vmapped (double-vjp trick), a tangent that
    # requires grad, forward_ad with such a tangent, jacfwd
    vj = tg.vmap(lambda a, s: tg.func.jvp(_ste_f, (a,), (s,))[1])(x, t)
    np.testing.assert_allclose(vj.numpy(), by_jvp, rtol=1e-12)
    tr = t.detach().requires_grad_()
    jv = tg.func.jvp(_ste_f, (x,), (tr,))[1]
    np.testing.assert_allclose(jv.detach().numpy(), by_jvp, rtol=1e-12)
    g, = tg.autograd.grad(jv.sum(), tr)  # d(sum J t)/dt = X + clip
    np.testing.assert_allclose(g.numpy(), X + clip, rtol=1e-12)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, tr)
        np.testing.assert_allclose(fwAD.unpack_dual(_ste_f(d)).tangent.detach().numpy(),
                                   by_jvp, rtol=1e-12)
    jac = tg.func.jacfwd(_ste_f)(x).numpy().reshape(6, 6)
    np.testing.assert_allclose(jac @ T.reshape(6), by_jvp.reshape(6), rtol=1e-12)
    # reverse mode follows the backward
    gr = tg.func.grad(lambda a: (_ste_f(a) * t).sum())(x)
    np.testing.assert_allclose(gr.numpy(), np.where(np.abs(X) <= 1, T * X, 0.0) + clip * T,
                               rtol=1e-12)


def test_tangents_of_non_dual_inputs_and_save_for_forward():
    x, y = tg.tensor(X[0]), tg.tensor(X[1])
    _, jv = tg.func.jvp(lambda a: Mul.apply(a, y, 2.0), (x,), (tg.ones(2),))
    np.testing.assert_allclose(jv.numpy(), 2 * X[1], rtol=1e-12)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, tg.ones(2))
        o = Mul.apply(d, y, 3.0)
        np.testing.assert_allclose(fwAD.unpack_dual(o).tangent.numpy(), 3 * X[1], rtol=1e-12)
    jac = tg.func.jacfwd(lambda a, b: Mul.apply(a, b, 2.0), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(jac[0].numpy(), np.diag(2 * X[1]), rtol=1e-12)
    np.testing.assert_allclose(jac[1].numpy(), np.diag(2 * X[0]), rtol=1e-12)


def test_non_tensor_argument_gets_none_tangent():
    seen = []

    class Scale(tg.autograd.Function):
        @staticmethod
        def forward(x, s):
            return x * s

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.s = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.s, None

        @staticmethod
        def jvp(ctx, tx, ts):
            seen.append(ts)
            return tx * ctx.s

    _, jv = tg.func.jvp(lambda a: Scale.apply(a, 4.0), (tg.tensor(X),), (tg.tensor(T),))
    np.testing.assert_allclose(jv.numpy(), 4 * T)
    assert seen == [None]


def test_function_with_only_a_jvp_works_in_every_forward_mode_path():
    class SinF(tg.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            return x.cos() * t

    x, t = tg.tensor(X), tg.tensor(T)
    want = np.cos(X) * T
    np.testing.assert_allclose(tg.func.jvp(SinF.apply, (x,), (t,))[1].numpy(), want)
    vj = tg.vmap(lambda a, s: tg.func.jvp(SinF.apply, (a,), (s,))[1])(x, t)
    np.testing.assert_allclose(vj.numpy(), want, rtol=1e-12)
    # forward over forward: the inner jvp must stay differentiable (double-vjp path)
    h = tg.func.jacfwd(tg.func.jacfwd(lambda a: SinF.apply(a).sum()))(tg.tensor(X[0]))
    np.testing.assert_allclose(h.numpy(), np.diag(-np.sin(X[0])), rtol=1e-12, atol=1e-15)
    with pytest.raises(NotImplementedError, match="must implement either the backward or vjp"):
        tg.func.grad(lambda a: SinF.apply(a).sum())(x)


def test_jvp_errors_in_pytorch_wording():
    class Two(tg.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2, x * 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g1, g2):
            return 2 * g1 + 3 * g2

        @staticmethod
        def jvp(ctx, t):
            return 2 * t

    x = tg.tensor(X)
    with pytest.raises(RuntimeError, match=r"Function's jvp returned an invalid number of "
                                           r"forward gradients \(expected 2 but got 1\)"):
        tg.func.jvp(Two.apply, (x,), (x,))

    class BadShape(Cube):
        @staticmethod
        def jvp(ctx, t):
            return t.sum(0)

    with pytest.raises(RuntimeError, match="different size than that of the original Tensor"):
        tg.func.jvp(BadShape.apply, (x,), (x,))
    with pytest.raises(NotImplementedError, match="must implement the jvp function"):
        tg.autograd.Function.jvp(None, x)


def test_without_jvp_forward_mode_differentiates_backward():
    """More permissive than PyTorch (which raises): no jvp, the double-vjp trick."""

    class Sq(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    x = tg.tensor(X)
    _, jv = tg.func.jvp(Sq.apply, (x,), (tg.tensor(T),))
    np.testing.assert_allclose(jv.numpy(), 2 * X * T, rtol=1e-12)
    np.testing.assert_allclose(tg.func.jacfwd(lambda a: Sq.apply(a).sum(0))(x).numpy(),
                               tg.func.jacrev(lambda a: Sq.apply(a).sum(0))(x).numpy())


# ---- vmap ---------------------------------------------------------------------------------

def _no_loop():
    c = warnings.catch_warnings()
    c.__enter__()
    warnings.simplefilter("error")  # the loop fallback warns: none may happen
    return c


def test_vmap_staticmethod_called_once_with_the_batch():
    x = tg.tensor(X)
    SinV.infos.clear()
    c = _no_loop()
    try:
        np.testing.assert_allclose(tg.vmap(SinV.apply)(x).numpy(), np.sin(X))
        np.testing.assert_allclose(tg.vmap(SinV.apply, in_dims=1)(x).numpy(), np.sin(X).T)
        np.testing.assert_allclose(tg.vmap(SinV.apply, out_dims=1)(x).numpy(), np.sin(X).T)
        g = tg.vmap(tg.func.grad(lambda v: SinV.apply(v).sum()))(x)
        np.testing.assert_allclose(g.numpy(), np.cos(X), rtol=1e-12)
    finally:
        c.__exit__(None, None, None)
    assert SinV.infos[:2] == [(3, "error", (0,)), (2, "error", (0,))]
    assert len(SinV.infos) == 4  # once per call, never per example


def test_vmap_staticmethod_matches_torch():
    torch, (_, _, _, TSinV) = _torch()
    tx = torch.tensor(X)
    for kw in ({}, {"in_dims": 1}, {"out_dims": 1}):
        np.testing.assert_allclose(tg.vmap(SinV.apply, **kw)(tg.tensor(X)).numpy(),
                                   torch.func.vmap(TSinV.apply, **kw)(tx).numpy())
    np.testing.assert_allclose(
        tg.vmap(tg.func.grad(lambda v: SinV.apply(v).sum()))(tg.tensor(X)).numpy(),
        torch.func.vmap(torch.func.grad(lambda v: TSinV.apply(v).sum()))(tx).numpy(),
        rtol=1e-12)


def test_generate_vmap_rule_batches_forward_and_backward():
    x = tg.tensor(X)
    c = _no_loop()
    try:
        np.testing.assert_allclose(tg.vmap(Cube.apply)(x).numpy(), X ** 3)
        g = tg.vmap(tg.func.grad(lambda v: (Cube.apply(v) * v).sum()))(x)
        np.testing.assert_allclose(g.numpy(), 4 * X ** 3, rtol=1e-12)
        gg = tg.vmap(tg.vmap(tg.func.grad(lambda v: Cube.apply(v))))(x)
        np.testing.assert_allclose(gg.numpy(), 3 * X ** 2, rtol=1e-12)
        jr = tg.vmap(tg.func.jacrev(Cube.apply))(x)
        np.testing.assert_allclose(jr.numpy(), np.stack([np.diag(3 * r ** 2) for r in X]),
                                   rtol=1e-12)
        h = tg.vmap(tg.func.hessian(lambda v: Cube.apply(v).sum()))(x)
        np.testing.assert_allclose(h.numpy(), np.stack([np.diag(6 * r) for r in X]),
                                   rtol=1e-12)
    finally:
        c.__exit__(None, None, None)


def test_generate_vmap_rule_matches_torch():
    torch, (TCube, _, _, _) = _torch()
    tx = torch.tensor(X)

    def f(lib, F):
        return lambda v: (F.apply(v) * v.sin()).sum()

    np.testing.assert_allclose(
        tg.vmap(tg.func.grad(f(tg, Cube)))(tg.tensor(X)).numpy(),
        torch.func.vmap(torch.func.grad(f(torch, TCube)))(tx).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tg.func.hessian(f(tg, Cube))(tg.tensor(X)).numpy(),
                               torch.func.hessian(f(torch, TCube))(tx).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tg.func.jacfwd(tg.func.jacrev(f(tg, Cube)))(tg.tensor(X)).numpy(),
                               torch.func.jacfwd(torch.func.jacrev(f(torch, TCube)))(tx).numpy(),
                               rtol=1e-12)


def test_vmapped_function_gradients_by_finite_differences():
    x = tg.tensor(X, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a: tg.vmap(Cube.apply)(a), (x,))
    assert tg.autograd.gradcheck(lambda a: tg.vmap(SinV.apply, in_dims=1)(a), (x,))
    assert tg.autograd.gradgradcheck(lambda a: tg.vmap(SinV.apply)(a), (x,))


def test_shared_argument_gradient_sums_the_examples():
    class MulW(tg.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, w):
            return x * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, g * x

    x = tg.tensor(X, requires_grad=True)
    w = tg.tensor([1.5, -2.0], requires_grad=True)
    out = tg.vmap(MulW.apply, in_dims=(0, None))(x, w)
    (out * out).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), (2 * X * X * w.detach().numpy()).sum(0))
    np.testing.assert_allclose(x.grad.numpy(), 2 * X * w.detach().numpy() ** 2)
    per = tg.vmap(tg.func.grad(lambda a, b: (MulW.apply(a, b) ** 2).sum(), argnums=1),
                  in_dims=(0, None))(x.detach(), w.detach())
    np.testing.assert_allclose(per.numpy(), 2 * X * X * w.detach().numpy())


def test_jvp_of_vmapped_function_uses_its_jvp():
    x, t = tg.tensor(X), tg.tensor(T)
    out, jv = tg.func.jvp(tg.vmap(_ste_f), (x,), (t,))
    np.testing.assert_allclose(jv.numpy(), T * X + np.clip(X, -1, 1) * T, rtol=1e-12)


def test_vmap_errors_in_pytorch_wording():
    class Plain(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    x = tg.tensor(X)
    with pytest.raises(RuntimeError, match="You tried to vmap over Plain, but it does not have "
                                           "vmap support. Please override and implement the "
                                           "vmap staticmethod or set generate_vmap_rule=True."):
        tg.vmap(Plain.apply)(x)

    class Both(SinV):
        generate_vmap_rule = True

    with pytest.raises(RuntimeError, match="has both generate_vmap_rule=True and an overridden"):
        tg.vmap(Both.apply)(x)

    class OldStyle(Plain):
        @staticmethod
        def vmap(info, in_dims, x):
            return x * 2, 0

    with pytest.raises(RuntimeError, match="must override the setup_context staticmethod"):
        tg.vmap(OldStyle.apply)(x)

    class OneReturn(SinV):
        @staticmethod
        def vmap(info, in_dims, x):
            return x.sin()

    with pytest.raises(RuntimeError, match="Expected the vmap staticmethod to have two returns"):
        tg.vmap(OneReturn.apply)(x)


def test_old_style_function_with_generate_vmap_rule():
    """More permissive than PyTorch: ``forward(ctx, ...)`` batches too."""

    class Exp(tg.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    g = tg.vmap(tg.func.grad(lambda v: Exp.apply(v).sum()))(tg.tensor(X))
    np.testing.assert_allclose(g.numpy(), np.exp(X), rtol=1e-12)


def test_jacobians_of_functions_without_vmap_support_still_work():
    """jacrev/jacfwd/hessian batch internally where they can and fall back to one sweep per
    row otherwise; a Function without vmap support takes the fallback."""

    class Sin(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x.cos()

    x = tg.tensor(X[0])
    np.testing.assert_allclose(tg.func.jacrev(Sin.apply)(x).numpy(), np.diag(np.cos(X[0])))
    np.testing.assert_allclose(tg.func.jacfwd(Sin.apply)(x).numpy(), np.diag(np.cos(X[0])))
    np.testing.assert_allclose(tg.func.hessian(lambda a: Sin.apply(a).sum())(x).numpy(),
                               np.diag(-np.sin(X[0])), atol=1e-12)


def test_checkpoint_under_vmap_batches():
    """Checkpointing is a custom Function: it batches op by op, recomputation included."""
    from tapegrad.utils.checkpoint import checkpoint

    def f(v):
        return checkpoint(lambda a: (a.sin() * a).sum(), v, use_reentrant=False)

    c = _no_loop()
    try:
        g = tg.vmap(tg.func.grad(f))(tg.tensor(X))
    finally:
        c.__exit__(None, None, None)
    np.testing.assert_allclose(g.numpy(), np.sin(X) + X * np.cos(X), rtol=1e-12)
