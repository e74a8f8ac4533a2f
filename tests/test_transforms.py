"""tg.func transforms against torch.func: jvp, vjp, jacrev, jacfwd, hessian, linearize,
pytrees, argnums/has_aux, nested compositions, forward_ad, is_grads_batched."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD

torch = pytest.importorskip("torch")
tf = torch.func

RNG = np.random.default_rng(0)
X = RNG.standard_normal(4)
Y = RNG.standard_normal((3, 4))


def _np(t):
    if isinstance(t, (tuple, list)):
        return [_np(x) for x in t]
    if isinstance(t, dict):
        return {k: _np(v) for k, v in t.items()}
    return t if isinstance(t, np.ndarray) else np.asarray(t.detach().numpy())


def close(a, b, tol=1e-10):
    a, b = _np(a), _np(b)
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            close(x, y, tol) if isinstance(x, (list, dict)) else \
                np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            close(a[k], b[k], tol)
    else:
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def both(*arrays):
    return [tg.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def f1(lib, x, y):  # R^4 x R^{3x4} -> R^3
    return lib.tanh(y @ x) * lib.sin(x).sum() + (y ** 2).mean(1)


def scalar(lib, x, y):
    return (lib.exp(lib.sin(y @ x)) * (x * x).sum()).sum()


def test_jvp_vjp_linearize_match_torch():
    (x, y), (tx, ty) = both(X, Y)
    (vx, vy), (tvx, tvy) = both(RNG.standard_normal(4), RNG.standard_normal((3, 4)))
    out, jv = tg.func.jvp(lambda a, b: f1(tg, a, b), (x, y), (vx, vy))
    tout, tjv = tf.jvp(lambda a, b: f1(torch, a, b), (tx, ty), (tvx, tvy))
    close(out, tout)
    close(jv, tjv)
    ct = RNG.standard_normal(3)
    out, fn = tg.func.vjp(lambda a, b: f1(tg, a, b), x, y)
    tout, tfn = tf.vjp(lambda a, b: f1(torch, a, b), tx, ty)
    close(fn(tg.tensor(ct)), tfn(torch.tensor(ct)))
    out, jfn = tg.func.linearize(lambda a: f1(tg, a, y), x)
    close(jfn(vx), tf.jvp(lambda a: f1(torch, a, ty), (tx,), (tvx,))[1])
    close(jfn(2 * vx), 2 * tf.jvp(lambda a: f1(torch, a, ty), (tx,), (tvx,))[1])


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians_match_torch(argnums):
    (x, y), (tx, ty) = both(X, Y)
    for ours, theirs in ((tg.func.jacrev, tf.jacrev), (tg.func.jacfwd, tf.jacfwd)):
        j = ours(lambda a, b: f1(tg, a, b), argnums)(x, y)
        tj = theirs(lambda a, b: f1(torch, a, b), argnums)(tx, ty)
        close(j, list(tj) if isinstance(tj, tuple) else tj)


def test_hessian_and_nested_compositions_match_torch():
    (x, y), (tx, ty) = both(X, Y)
    h = tg.func.hessian(lambda a: scalar(tg, a, y))(x)
    close(h, tf.hessian(lambda a: scalar(torch, a, ty))(tx))
    jj = tg.func.jacfwd(tg.func.jacrev(lambda a: f1(tg, a, y)))(x)
    close(jj, tf.jacfwd(tf.jacrev(lambda a: f1(torch, a, ty)))(tx))
    rr = tg.func.jacrev(tg.func.jacrev(lambda a: f1(tg, a, y)))(x)
    close(rr, tf.jacrev(tf.jacrev(lambda a: f1(torch, a, ty)))(tx))
    gg = tg.func.grad(lambda a: tg.func.grad(lambda b: scalar(tg, b, y))(a).sum())(x)
    close(gg, tf.grad(lambda a: tf.grad(lambda b: scalar(torch, b, ty))(a).sum())(tx))
    h3 = tg.func.jacfwd(tg.func.hessian(lambda a: (a.sin() * a ** 2).sum()))(x)
    close(h3, tf.jacfwd(tf.hessian(lambda a: (a.sin() * a ** 2).sum()))(tx))


def test_grad_of_grad_with_closure_over_outer_tensor():
    w = tg.tensor(Y, requires_grad=True)
    tw = torch.tensor(Y, requires_grad=True)
    x, tx = tg.tensor(X), torch.tensor(X)
    gg = tg.func.grad(lambda a: tg.func.grad(lambda b: scalar(tg, b, w))(a).pow(2).sum())(x)
    tgg = tf.grad(lambda a: tf.grad(lambda b: scalar(torch, b, tw))(a).pow(2).sum())(tx)
    close(gg, tgg)
    # the result stays differentiable w.r.t. the closed-over w (create_graph inside)
    g = tg.func.grad(lambda b: scalar(tg, b, w))(x)
    assert g.requires_grad
    (g ** 2).sum().backward()
    (tf.grad(lambda b: scalar(torch, b, tw))(tx) ** 2).sum().backward()
    close(w.grad, tw.grad)


def test_pytrees_argnums_has_aux():
    (x, y), (tx, ty) = both(X, Y)

    def f(lib, p, scale):
        out = lib.tanh(p["w"] @ p["b"][0]) * scale
        return out.sum(), {"out": out, "n": [out.mean()]}

    p = {"w": y, "b": [x]}
    tp = {"w": ty, "b": [tx]}
    g, aux = tg.func.grad(lambda p, s: f(tg, p, s), has_aux=True)(p, 2.0)
    tgr, taux = tf.grad(lambda p, s: f(torch, p, s), has_aux=True)(tp, 2.0)
    close(g, tgr)
    close(aux["out"], taux["out"])
    close(aux["n"][0], taux["n"][0])
    (gv, val) = tg.func.grad_and_value(lambda p: f(tg, p, 1.0)[0])(p)
    tgv, tval = tf.grad_and_value(lambda p: f(torch, p, 1.0)[0])(tp)
    close(gv, tgv)
    close(val, tval)
    j = tg.func.jacrev(lambda p: {"a": p["w"].sum(0) * p["b"][0], "b": (p["w"] ** 2,)})(p)
    tj = tf.jacrev(lambda p: {"a": p["w"].sum(0) * p["b"][0], "b": (p["w"] ** 2,)})(tp)
    close(j["a"], tj["a"])
    close(j["b"][0], tj["b"][0])
    out, jv, aux = tg.func.jvp(lambda a: (a.sin(), a.cos()), (x,), (tg.ones(4),), has_aux=True)
    close(jv, torch.tensor(X).cos())
    close(aux, torch.tensor(X).cos())


def test_errors_name_tapegrad_functions():
    x = tg.tensor(X)
    with pytest.raises(RuntimeError, match="same python structure"):
        tg.func.jvp(lambda a: a, (x,), (x, x))
    with pytest.raises(RuntimeError, match="forward gradient that has a different size"):
        tg.func.jvp(lambda a: a, (x,), (tg.ones(3),))
    with pytest.raises(RuntimeError, match="scalar"):
        tg.func.grad(lambda a: a)(x)
    _, fn = tg.func.vjp(lambda a: (a, a), x)
    with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
        fn(x)


def test_top_level_aliases():
    assert tg.vmap is tg.func.vmap and tg.jacrev is tg.func.jacrev
    assert tg.jacfwd is tg.func.jacfwd and tg.hessian is tg.func.hessian
    assert tg.jvp is tg.func.jvp and tg.vjp is tg.func.vjp
    assert tg.grad(lambda a: a ** 2)(3.0) == 6.0


def test_forward_ad_dual_numbers():
    x, t = tg.tensor(X), tg.tensor(RNG.standard_normal(4))
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        y = tg.tanh(d) * d.exp().sum()
        p, tan = fwAD.unpack_dual(y)
        assert fwAD.unpack_dual(x).tangent is None
    with torch.autograd.forward_ad.dual_level():
        td = torch.autograd.forward_ad.make_dual(torch.tensor(X), torch.tensor(t.numpy()))
        ty = torch.tanh(td) * td.exp().sum()
        tp, ttan = torch.autograd.forward_ad.unpack_dual(ty)
    close(p, tp)
    close(tan, ttan)
    assert isinstance(fwAD.unpack_dual(p), fwAD.UnpackedDualTensor)
    with pytest.raises(RuntimeError, match="forward AD but no level exists"):
        fwAD.make_dual(x, t)


def test_is_grads_batched():
    x = tg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    eye = np.eye(4)
    g, = tg.autograd.grad(x.sin() * x, x, tg.tensor(eye), is_grads_batched=True)
    tgr, = torch.autograd.grad(tx.sin() * tx, tx, torch.tensor(eye), is_grads_batched=True)
    close(g, tgr)


def test_functional_vectorize_and_forward_strategy():
    (x,), (tx,) = both(X)
    f = lambda a: (a.exp() * a.sin()).sum() * a  # noqa: E731
    tfn = lambda a: (a.exp() * a.sin()).sum() * a  # noqa: E731
    for kw in (dict(vectorize=True), dict(vectorize=True, strategy="forward-mode")):
        close(tg.autograd.functional.jacobian(f, x, **kw),
              torch.autograd.functional.jacobian(tfn, tx, **kw))
    r = lambda a: ((1 - a[:-1]) ** 2 + 100 * (a[1:] - a[:-1] ** 2) ** 2).sum()  # noqa: E731
    close(tg.autograd.functional.hessian(r, x, vectorize=True),
          torch.autograd.functional.hessian(r, tx, vectorize=True))
    close(tg.autograd.functional.hessian(r, x, vectorize=True,
                                         outer_jacobian_strategy="forward-mode"),
          torch.autograd.functional.hessian(r, tx, vectorize=True,
                                            outer_jacobian_strategy="forward-mode"))


def test_docstring_examples():
    import doctest
    import importlib

    for name in ("tapegrad.func.transforms", "tapegrad.func.jacobians", "tapegrad.func.vmap",
                 "tapegrad.func.pytree", "tapegrad.func.custom",
                 "tapegrad.autograd.forward_ad", "tapegrad.utils.checkpoint"):
        res = doctest.testmod(importlib.import_module(name),
                              optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0, name
