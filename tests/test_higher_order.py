"""Higher order by re-taping: autograd.grad/backward with create_graph as in PyTorch, every
registered opcode through fast == re-taped sweeps and gradgradcheck, third derivatives,
Hessians against finite differences and torch, a gradient-penalty loop's memory."""

import gc
import math
import tracemalloc
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape
from tapegrad.ops.backward_ops import sigmoid_backward, tanh_backward
from tapegrad.registry import REGISTRY, Op
from tests.op_checks import check_op

grad = tg.autograd.grad


def t(v, rg=True):
    return tg.tensor(v, requires_grad=rg)


# ---- autograd.grad with create_graph ------------------------------------------------------

def test_create_graph_gives_differentiable_gradient():
    x = t(3.0)
    g, = grad(x ** 3, x, create_graph=True)
    assert g.item() == 27 and g.requires_grad and g.grad_fn is not None
    g2, = grad(g, x)
    assert g2.item() == 18 and not g2.requires_grad


def test_without_create_graph_no_history():
    x = t(3.0)
    g, = grad(x ** 3, x)
    assert not g.requires_grad and g.grad_fn is None
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and "
                                           "does not have a grad_fn"):
        grad(g, x)


def test_repeated_orders_and_allow_unused():
    x = t(2.0)
    a, = grad(x ** 3, x, create_graph=True)
    b, = grad(a, x, create_graph=True)
    c, = grad(b, x, create_graph=True)
    assert (a.item(), b.item(), c.item()) == (12, 12, 6)
    assert grad(c, x, allow_unused=True)[0].item() == 0  # c = 6: constant graph, zero grad
    d, = grad(b, x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(d, x)


def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    x = t(3.0)
    res = grad(x * x, x)
    assert isinstance(res, tuple) and res[0].item() == 6 and x.grad is None


def test_unused_inputs():
    x, u = t(3.0), t(1.0)
    with pytest.raises(RuntimeError) as e:
        grad(x * x, [x, u])
    assert str(e.value) == ("The differentiated Tensor at index 1 appears to not have been used "
                            "in the graph. Set allow_unused=True if this is the desired behavior.")
    with pytest.raises(RuntimeError, match="index 0 appears"):
        grad(x * x, [u])
    g = grad(x * x, [x, u], allow_unused=True)
    assert g[0].item() == 6 and g[1] is None
    g = grad(x * x, [x, u], materialize_grads=True)
    assert g[1].item() == 0 and g[1].shape == ()
    g = grad(x * x, [x, u], create_graph=True, materialize_grads=True)
    assert g[0].requires_grad and g[1].item() == 0


def test_grad_argument_errors():
    x = t(3.0)
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require"):
        grad(x * x, [tg.tensor(1.0)])
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        grad(tg.tensor(1.0) * 2, [x])
    with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be empty."):
        grad((x * 2).sum(), [])
    with pytest.raises(RuntimeError, match="all inputs have to be Tensors or GradientEdges, "
                                           "but got float"):  # (PyTorch's type, too)
        grad(x * 2, [1.0])


def test_grad_outputs_under_create_graph():
    x = t(2.0)
    g, = grad([x * 2, x * 3], x, grad_outputs=[tg.tensor(1.0), tg.tensor(10.0)],
              create_graph=True)
    assert g.item() == 32
    z = t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        grad([z * 2, z * 3], z, grad_outputs=[tg.ones(2)], create_graph=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of "):
        grad(z * 2, z, grad_outputs=tg.ones(3), create_graph=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        grad(z * 2, z, create_graph=True)
    # a grad_output that itself requires grad: the result depends on it
    w = t([3.0, 4.0])
    g, = grad(z * z, z, grad_outputs=w, create_graph=True)
    gw, = grad(g.sum(), w)
    np.testing.assert_allclose(gw.numpy(), [2.0, 4.0])


def test_non_leaf_and_multiple_inputs():
    x = t(3.0)
    h = x * 2
    assert grad(h * h, h, create_graph=True)[0].item() == 12
    a = t(5.0)
    assert grad(a, a)[0].item() == 1
    x1, x2 = t(1.0), t(2.0)
    g1, g2 = grad(x1 * x2, (x1, x2), create_graph=True)
    assert (g1.item(), g2.item()) == (2, 1)


def test_retain_graph_defaults_to_create_graph():
    x = t(2.0)
    y = x.exp() * x
    grad(y, x, create_graph=True)
    g, = grad(y, x)  # still alive: create_graph retained it
    assert math.isclose(g.item(), 3 * math.exp(2))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        grad(y, x)
    y = x.exp() * x
    grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        grad(y, x)


def test_hessian_by_hand():
    x = t([1.0, 2.0])
    f = x[0] ** 2 * x[1] + x[1] ** 3
    g = grad(f, x, create_graph=True)[0]
    np.testing.assert_allclose(g.detach().numpy(), [4.0, 13.0])
    rows = [grad(g[i], x, retain_graph=True)[0].numpy() for i in range(2)]
    np.testing.assert_allclose(np.stack(rows), [[4.0, 2.0], [2.0, 12.0]])


# ---- backward(create_graph=True): warning, retain_graph, inputs=, grad mode in hooks -------

_CREATE_GRAPH_WARNING = (
        "Using backward() with create_graph=True will create a reference cycle between the "
        "parameter and its gradient which can cause a memory leak. We recommend using "
        "autograd.grad when creating the graph to avoid this. If you have to use this function, "
        "make sure to reset the .grad fields of your parameters to None after use to break the "
        "cycle and avoid the leak.")


def test_backward_create_graph_warning_and_out_of_place_accumulation():
    x = t(3.0)
    with pytest.warns(UserWarning) as rec:
        (x ** 3).backward(create_graph=True)
    assert str(rec[0].message) == _CREATE_GRAPH_WARNING
    assert x.grad.item() == 27 and x.grad.requires_grad and x.grad.grad_fn is not None
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == 18

    p = t(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (p ** 3).backward(create_graph=True)
        first = p.grad
        (p ** 3).backward(create_graph=True)
    assert p.grad.item() == 24 and p.grad is not first and p.grad.grad_fn is not None
    assert first.item() == 12  # out of place: the first gradient object is unchanged


def test_backward_retain_defaults_to_create_graph_and_inputs():
    a, b = t(2.0), t(3.0)
    y = a.exp() * b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y.backward(create_graph=True, inputs=[a])
    assert b.grad is None and a.grad.requires_grad
    ga, = grad(a.grad, a, retain_graph=True)
    assert math.isclose(ga.item(), 3 * math.exp(2))
    y.backward(inputs=[b])  # graph retained by create_graph
    assert math.isclose(b.grad.item(), math.exp(2))


def test_grad_mode_seen_by_hooks():
    seen = []
    x = t([1.0, 2.0])
    y = x * x
    y.register_hook(lambda g: seen.append(("y", tg.is_grad_enabled())))
    x.register_hook(lambda g: seen.append(("x", tg.is_grad_enabled())))
    y.sum().backward(retain_graph=True)
    assert seen == [("y", False), ("x", False)]
    seen.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y.sum().backward(create_graph=True)
    assert seen == [("y", True), ("x", True)]
    seen.clear()
    s = y.sum()
    with tg.no_grad():  # create_graph turns grad mode on for the backward, then restores it
        grad(s, x, create_graph=True)
        assert not tg.is_grad_enabled()
    assert seen == [("y", True), ("x", True)]
    assert tg.is_grad_enabled()


# ---- third derivatives ---------------------------------------------------------------------

def _nth(f, x, n):
    out = f(x)
    for _ in range(n):
        out, = grad(out, x, create_graph=True)
    return out


def test_third_derivative_of_cube_is_exact():
    for v in (-1.5, 0.0, 2.0):
        x = t(v)
        assert _nth(lambda a: a ** 3, x, 3).item() == 6.0
        assert _nth(lambda a: a ** 3, x, 2).item() == 6.0 * v


def test_third_derivative_of_sin_x_cubed():
    def d3(v):  # d^3/dx^3 sin(x) x^3
        s, c = math.sin(v), math.cos(v)
        return -c * v ** 3 - 9 * s * v ** 2 + 18 * c * v + 6 * s

    for v in (-0.7, 0.3, 2.0):
        x = t(v)
        got = _nth(lambda a: tg.sin(a) * a ** 3, x, 3).item()
        assert math.isclose(got, d3(v), rel_tol=1e-12, abs_tol=1e-12)
        xs = t([v, 2 * v])  # the same through arrays (arena kind 1)
        got = _nth(lambda a: (tg.sin(a) * a ** 3).sum(), xs, 1)
        h = [grad(got[i], xs, create_graph=True)[0] for i in range(2)]
        third = grad(h[1][1], xs)[0].numpy()
        assert math.isclose(third[1], d3(2 * v), rel_tol=1e-12, abs_tol=1e-12)


# ---- every registered opcode: fast sweep == re-taped sweep, gradgradcheck ------------------

_R = np.random.default_rng(3)
_P = _R.uniform(0.5, 1.5, (2, 3))  # positive inputs
_X = _R.standard_normal((2, 3))
_Y = _R.standard_normal((2, 3))


class _Square(tg.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * 2 * a


def _setitem(a, b):
    c = a * 1.0
    c[0] = b[1]
    return c


_SQ = np.array([[2.0, 0.3, -0.4], [0.1, 1.5, 0.2], [-0.3, 0.4, 1.0]])  # well-conditioned
_TALL = np.array([[1.0, 0.2, 0.1], [0.3, -1.2, 0.4], [0.2, 0.1, 0.7], [-0.5, 0.3, 0.2]])


def _sym(a):
    return (a + a.mT) * 0.5


# (name, fn, arrays): each entry is checked by tests/op_checks.check_op (order 2)
OP_TABLE = [
    ("neg", lambda a: -a, [_X]),
    ("complex", lambda a: (a * (0.5 + 0.3j)).exp().real, [_X]),
    ("exp", tg.exp, [_X]),
    ("log", tg.log, [_P]),
    ("log1p", tg.log1p, [_P]),
    ("expm1", tg.expm1, [_X]),
    ("sin", tg.sin, [_X]),
    ("cos", tg.cos, [_X]),
    ("tan", tg.tan, [_X * 0.3]),
    ("tanh", tg.tanh, [_X]),
    ("sigmoid", tg.sigmoid, [_X]),
    ("relu", tg.relu, [_X]),
    ("sqrt", tg.sqrt, [_P]),
    ("abs", tg.abs, [_X]),
    ("clone", lambda a: a.clone(), [_X]),
    # small values: float32 rounding stays far below the finite-difference step
    ("to", lambda a: a.to(tg.float32).to(tg.float64) * a, [_X * 1e-4]),
    ("add_c", lambda a: a + 2.5, [_X]),
    ("mul_c", lambda a: 3.0 * a - 1.0, [_X]),
    ("pow_c", lambda a: a ** 3 + a ** 2 + a ** 0.5, [_P]),
    ("rpow_c", lambda a: 2.0 ** a, [_X]),
    ("rdiv_c", lambda a: 2.0 / a, [_P]),
    ("clamp", lambda a: tg.clamp(a, -0.5, 0.5), [_X]),
    ("leaky_relu", lambda a: tg.nn.functional.leaky_relu(a, 0.2) * a, [_X]),
    ("hardtanh", lambda a: tg.nn.functional.hardtanh(a, -0.5, 0.5) * a, [_X]),
    ("elu", lambda a: tg.nn.functional.elu(a, 0.7) * a, [_X]),
    ("stack", lambda a: tg.stack([a * a, a], 1), [_X]),
    ("linear", lambda a, b: tg.nn.functional.linear(a * a, b, b[:, 0]) ** 2, [_X, _Y]),
    ("layer_norm", lambda a, b: tg.nn.functional.layer_norm(a * a, (3,), b[0], b[1]) ** 2,
     [_X, _Y]),
    ("batch_norm", lambda a, b: tg.nn.functional.batch_norm(
        a * a, None, None, b[0], b[1], training=True) ** 2, [_X, _Y]),
    ("batch_norm_eval", lambda a, b: tg.nn.functional.batch_norm(
        a * a, tg.tensor(_Y[1] * 0.1), tg.tensor(_P[0]), b[0], b[1]) ** 2, [_X, _Y]),
    ("avg_pool", lambda a: tg.nn.functional.avg_pool2d((a * a).reshape(1, 1, 2, 3), 2, 1,
                                                        1) ** 2, [_X]),
    ("avg_pool_backward", lambda a: tg.autograd.grad(
        (tg.nn.functional.avg_pool1d((a * a).reshape(1, 2, 3), 2, 1) ** 3).sum(), a,
        create_graph=True)[0], [_X]),
    ("adaptive_avg_pool", lambda a: tg.nn.functional.adaptive_avg_pool2d(
        (a * a).reshape(1, 2, 3), (2, 2)) ** 2, [_X]),
    ("adaptive_avg_pool_backward", lambda a: tg.autograd.grad(
        (tg.nn.functional.adaptive_avg_pool1d((a * a).reshape(2, 3), 2) ** 3).sum(), a,
        create_graph=True)[0], [_X]),
    ("grid_sample", lambda a, b: tg.nn.functional.grid_sample(
        (a * a).reshape(1, 1, 2, 3), (tg.tanh(b) * 1.2).reshape(1, 1, 3, 2),
        padding_mode="reflection", align_corners=False) ** 2, [_X, _Y]),
    ("resize", lambda a: tg.nn.functional.interpolate((a * a).reshape(1, 2, 3), size=5,
                                                      mode="linear") ** 2, [_X]),
    ("resize_backward", lambda a: tg.autograd.grad(
        (tg.nn.functional.interpolate((a * a).reshape(1, 2, 3), scale_factor=2,
                                      mode="linear") ** 3).sum(), a, create_graph=True)[0],
     [_X]),
    ("index_add_op", lambda a, b: tg.index_add(a * a, 1, tg.tensor([2, 0, 2]), tg.sin(b),
                                               alpha=-1.5) ** 2, [_X, _Y]),
    ("index_add_op_backward", lambda a, b: grad((tg.index_add(
        a, 0, tg.tensor([1, 1]), b * b, alpha=2.0) ** 3).sum(), b, create_graph=True)[0],
     [_X, _Y]),
    ("vector_norm2", lambda a: tg.linalg.vector_norm(a * a, 2, 1) ** 3, [_X]),
    ("bce_with_logits", lambda a, b: tg.nn.functional.binary_cross_entropy_with_logits(
        a, b, reduction="none"), [_X, _Y]),
    ("bce", lambda a, b: tg.nn.functional.binary_cross_entropy(
        tg.sigmoid(a), tg.sigmoid(b), reduction="none"), [_X, _Y]),
    ("bce_backward", lambda a, b: tg.autograd.grad(tg.nn.functional.binary_cross_entropy(
        tg.sigmoid(a), tg.sigmoid(b)), a, create_graph=True)[0], [_X, _Y]),
    # relu's derivative of a constant seed: linked to relu's result (``depends``), as PyTorch's
    ("depends", lambda a: tg.autograd.grad(tg.relu(a).sum(), a, create_graph=True)[0] * a,
     [_X]),
    ("mse_loss", lambda a, b: tg.nn.functional.mse_loss(a, b, reduction="none"), [_X, _Y]),
    ("huber_loss", lambda a, b: tg.nn.functional.huber_loss(a * 2.0, b, reduction="none",
                                                            delta=0.8), [_X, _Y]),
    ("smooth_l1_loss", lambda a, b: tg.nn.functional.smooth_l1_loss(a * 2.0, b, reduction="none",
                                                                    beta=0.8), [_X, _Y]),
    ("logsigmoid", lambda a: tg.nn.functional.logsigmoid(a) * a, [_X]),
    ("softplus", lambda a: tg.nn.functional.softplus(a, beta=1.5, threshold=0.8) * a, [_X]),
    ("silu", lambda a: tg.nn.functional.silu(a) * a, [_X]),
    ("gelu", lambda a: tg.nn.functional.gelu(a) * a, [_X]),
    ("gelu_tanh", lambda a: tg.nn.functional.gelu(a, approximate="tanh") * a, [_X]),
    ("xlogy", lambda a, b: tg.xlogy(a, b), [_X, _P]),
    ("xlog1py", lambda a, b: tg.special.xlog1py(a, b), [_X, _P]),
    ("sign", lambda a: tg.sign(a) * a, [_X]),
    ("add", tg.add, [_X, _Y]),
    ("sub", tg.sub, [_X, _Y]),
    ("mul", tg.mul, [_X, _Y]),
    ("div", tg.div, [_X, _P]),
    ("pow", tg.pow, [_P, _Y]),
    ("maximum", tg.maximum, [_X, _Y]),
    ("minimum", tg.minimum, [_X, _Y]),
    ("where", lambda a, b: tg.where(a > b, a, b * 2), [_X, _Y]),
    # tanh's re-taped derivative is one record; checked directly and as tanh's (third order)
    ("tanh_backward", tanh_backward, [_X, _Y]),
    ("tanh_grad", lambda a: grad((tg.tanh(a) * a).sum(), a, create_graph=True)[0], [_X]),
    ("sigmoid_backward", sigmoid_backward, [_X, _Y]),
    ("sigmoid_grad", lambda a: grad((tg.sigmoid(a) * a).sum(), a, create_graph=True)[0],
     [_X]),
    ("reshape", lambda a: a.reshape(3, 2) * a.reshape(3, 2), [_X]),
    ("strided", lambda a: a.T[1:] * a[None, :, 1] + a.flip(0)[0, 1:], [_X]),
    ("sum", lambda a: a.sum(0) * a.sum(), [_X]),
    ("index", lambda a: a[[0, 1, 1], [2, 0, 0]] ** 2, [_X]),
    ("index_add", lambda a: a[[0, 1, 1]].sum(0) ** 2, [_X]),
    # SCATTER_INDEX has no public forward: the re-taped VJP of indexing records it
    ("scatter_index", lambda a: grad((a[[0, 1, 1]] ** 3).sum(), a, create_graph=True)[0], [_X]),
    ("matmul", lambda a, b: a @ b.T, [_X, _Y]),
    ("matvec", lambda a, b: tg.tanh(a @ b[0]), [_X, _Y]),
    ("vecmat", lambda a, b: a[0] @ b.T, [_X, _Y]),
    ("dot", lambda a, b: a[0] @ b[1], [_X, _Y]),
    ("cat", lambda a, b: tg.cat([a, b * a], 0), [_X, _Y]),
    ("amax", lambda a: tg.amax(a * a, 1), [_X]),
    ("prod", lambda a: tg.prod(a, 1), [_X]),
    ("einsum", lambda a, b: tg.einsum("ij,kj->ik", a, b) ** 2, [_X, _Y]),
    ("convolution", lambda a, b: tg.nn.functional.conv1d(a.reshape(1, 2, 3), b.reshape(3, 2, 1),
                                                         padding=1) ** 2, [_X, _Y]),
    ("conv_transpose", lambda a, b: tg.nn.functional.conv_transpose1d(
        a.reshape(1, 2, 3), b.reshape(2, 3, 1), stride=2, output_padding=1) ** 2, [_X, _Y]),
    ("cumsum", lambda a: tg.cumsum(a * a, 1), [_X]),
    ("var", lambda a: tg.var(a * a, 1), [_X]),
    ("std", lambda a: tg.std(a * a, 0, keepdim=True, correction=0), [_X]),
    ("softmax", lambda a: tg.softmax(a * a, 1) * a, [_X]),
    ("log_softmax", lambda a: tg.log_softmax(a, 0) * a, [_X]),
    ("nll_loss", lambda a: tg.nn.functional.cross_entropy(a * a, tg.tensor([2, 0])), [_X]),
    ("logsumexp", lambda a: tg.logsumexp(a * a, 1) * a[:, 0], [_X]),
    ("setitem", _setitem, [_X, _Y]),
    ("custom", lambda a: _Square.apply(a) * a, [_X]),
    ("solve", lambda a, b: tg.linalg.solve(a, b), [_SQ, _TALL[:3]]),
    ("inv", tg.linalg.inv, [_SQ]),
    ("det", tg.linalg.det, [_SQ]),
    ("lu_factor", lambda a: tg.linalg.lu_factor(a)[0], [_SQ]),
    ("logabsdet", lambda a: tg.linalg.slogdet(a)[1], [_SQ]),
    ("eigh", lambda a: (lambda r: r[0] + (r[1] ** 2).sum(0))(tg.linalg.eigh(_sym(a))), [_SQ]),
    ("svd", lambda a: (lambda r: (r[0] ** 2).sum(0) + r[1] + (r[2] ** 2).sum(1))(
        tg.linalg.svd(a, full_matrices=False)), [_TALL]),
    ("qr", lambda a: (lambda r: r[0].sum(0) * r[1].sum(0))(tg.linalg.qr(a)), [_TALL]),
    ("cholesky", lambda a: tg.linalg.cholesky(a @ a.mT + tg.eye(3)), [_SQ]),
    ("pinv", tg.linalg.pinv, [_TALL]),
    # ops/extra.py: inputs squashed into each function's domain
    ("atan", lambda a: tg.atan(a * a), [_X]),
    ("asin", lambda a: tg.asin(tg.tanh(a) * 0.8), [_X]),
    ("acos", lambda a: tg.acos(tg.tanh(a) * 0.8), [_X]),
    ("atanh", lambda a: tg.atanh(tg.tanh(a) * 0.8), [_X]),
    ("sinh", lambda a: tg.sinh(a * a), [_X]),
    ("cosh", lambda a: tg.cosh(a) * a, [_X]),
    ("asinh", lambda a: tg.asinh(a * a), [_X]),
    ("acosh", lambda a: tg.acosh(a * a + 1.5), [_X]),
    ("erf", lambda a: tg.erf(a * a), [_X]),
    ("erfc", lambda a: tg.erfc(a) * a, [_X]),
    ("atan2", lambda a, b: tg.atan2(a * b, b + 3.0), [_X, _Y]),
    ("fmod", lambda a, b: tg.fmod(a * 2.0, b * 0.1 + 3.0) * a, [_X, _Y]),
    ("remainder", lambda a, b: tg.remainder(a * 2.0, b * 0.1 - 3.0) * a, [_X, _Y]),
    ("copysign", lambda a, b: tg.copysign(a * a + 0.5, b) * a, [_X, _Y]),
    ("log2", lambda a: tg.log2(a * a + 0.5) * a, [_X]),
    ("log10", lambda a: tg.log10(a * a + 0.5) * a, [_X]),
    ("logcumsumexp", lambda a: tg.logcumsumexp(a * a, 1), [_X]),
    ("cumprod", lambda a: tg.cumprod(a * a, 1), [_X]),
]


def _codes_recorded(fn, arrays):
    tape.retire(tape.current())  # a fresh segment: its records are this call's
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    # this segment and those it imports from (a backward moves recording to a fresh segment)
    codes, todo, seen = set(), [out._seg], set()
    while todo:
        seg = todo.pop()
        if id(seg) in seen:
            continue
        seen.add(id(seg))
        codes |= {int(c) & tape.CODE_MASK for c in seg.records()[:, tape.OP]}
        todo += [src[0] for src in seg.imports.values() if isinstance(src, tuple)]
    return codes


@pytest.mark.parametrize("name,fn,arrays", OP_TABLE, ids=[e[0] for e in OP_TABLE])
def test_op_fast_equals_retaped_and_gradgradcheck(name, fn, arrays):
    check_op(fn, arrays, order=2)


def test_every_registered_opcode_is_exercised():
    seen = set()
    for _, fn, arrays in OP_TABLE:
        seen |= _codes_recorded(fn, arrays)
    missing = sorted(REGISTRY[c].name for c in set(REGISTRY) - seen - {Op.IMPORT, Op.OUTPUT})
    assert not missing, f"opcodes no higher-order test exercises: {missing}"


# ---- Hessians: Rosenbrock (n=5), a small MLP loss -----------------------------------------

def _rosenbrock(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def _rosen_np(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _fd_hessian(f, x0, eps=1e-4):
    n = len(x0)
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            e_i, e_j = np.eye(n)[i] * eps, np.eye(n)[j] * eps
            H[i, j] = (f(x0 + e_i + e_j) - f(x0 + e_i - e_j) - f(x0 - e_i + e_j)
                       + f(x0 - e_i - e_j)) / (4 * eps * eps)
    return H


def _rosen_hess_exact(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def test_rosenbrock_hessian():
    x0 = np.array([-1.2, 1.0, 0.8, 1.1, 0.5])
    H = tg.autograd.functional.hessian(_rosenbrock, tg.tensor(x0)).numpy()
    np.testing.assert_allclose(H, _rosen_hess_exact(x0), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(H, _fd_hessian(_rosen_np, x0), rtol=1e-4, atol=1e-3)


def test_rosenbrock_hessian_matches_torch(torch):
    x0 = np.array([-1.2, 1.0, 0.8, 1.1, 0.5])
    H = tg.autograd.functional.hessian(_rosenbrock, tg.tensor(x0)).numpy()
    Ht = torch.autograd.functional.hessian(_rosenbrock, torch.tensor(x0)).numpy()
    np.testing.assert_allclose(H, Ht, rtol=1e-12, atol=1e-10)


_MLP_R = np.random.default_rng(7)
_W1 = _MLP_R.standard_normal((4, 3)) * 0.5
_W2 = _MLP_R.standard_normal((1, 4)) * 0.5
_XB = _MLP_R.standard_normal((6, 3))
_YB = _MLP_R.standard_normal((6, 1))


def _mlp_loss(w, lib, W1, W2, X, Y):
    """Loss as a function of the flat parameter vector w = [W1, b1, W2]."""
    w1 = w[:12].reshape(4, 3)
    b1 = w[12:16]
    w2 = w[16:20].reshape(1, 4)
    h = lib.tanh(X @ w1.T + b1)
    return ((h @ w2.T - Y) ** 2).mean()


def test_mlp_hessian_fd_and_torch(torch):
    w0 = np.concatenate([_W1.ravel(), np.full(4, 0.1), _W2.ravel()])
    X, Y = tg.tensor(_XB), tg.tensor(_YB)
    H = tg.autograd.functional.hessian(lambda w: _mlp_loss(w, tg, None, None, X, Y),
                                       tg.tensor(w0)).numpy()
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    fd = _fd_hessian(lambda w: float(_mlp_loss(w, np, None, None, _XB, _YB)), w0, eps=1e-4)
    np.testing.assert_allclose(H, fd, rtol=1e-4, atol=1e-6)
    TX, TY = torch.tensor(_XB), torch.tensor(_YB)
    Ht = torch.autograd.functional.hessian(lambda w: _mlp_loss(w, torch, None, None, TX, TY),
                                           torch.tensor(w0)).numpy()
    np.testing.assert_allclose(H, Ht, rtol=1e-10, atol=1e-12)


# ---- gradient penalty training loop: bounded memory --------------------------------------

def test_gradient_penalty_loop_bounded_memory():
    rng = np.random.default_rng(0)
    X = tg.tensor(rng.standard_normal((8, 3)))
    Y = tg.tensor(rng.standard_normal((8, 1)))
    W = tg.tensor(rng.standard_normal((3, 1)) * 0.1, requires_grad=True)
    b = tg.tensor(np.zeros(1), requires_grad=True)
    lr = 0.01

    def step():
        loss = ((tg.tanh(X @ W + b) - Y) ** 2).mean()
        gW, gb = grad(loss, (W, b), create_graph=True)
        total = loss + (gW ** 2).sum() + (gb ** 2).sum()
        total.backward()
        with tg.no_grad():
            W.data = W.data - lr * W.grad.data
            b.data = b.data - lr * b.grad.data
        W.grad = None
        b.grad = None
        return total.item()

    first = step()
    gc.collect()
    tracemalloc.start()
    try:
        peaks = {}
        for i in range(1, 1001):
            last = step()
            if i in (100, 1000):
                gc.collect()
                peaks[i] = tracemalloc.get_traced_memory()[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert last < first  # it trains
    assert peak < 8 * 2 ** 20  # generous: a leak of a few KB per step would exceed it
    assert peaks[1000] - peaks[100] < 256 * 1024, peaks  # not growing between 100 and 1000


def test_retaping_records_nothing_for_a_constant_input():
    """``create_graph`` evaluates only the formulas of inputs that are recorded: the gradient
    of ``(x * c).sum()`` with a constant ``c`` is a constant (as in PyTorch), and the
    constant's own formula (``g * x``) leaves no dead record on the tape."""
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    c = tg.tensor([0.5, 4.0, -1.0])
    y = (x * c).sum()
    n = len(y._seg.records())
    (g,) = tg.autograd.grad(y, x, create_graph=True)
    assert not g.requires_grad
    np.testing.assert_array_equal(g.numpy(), [0.5, 4.0, -1.0])
    assert len(y._seg.records()) == n


def test_square_gradient_with_a_constant_seed_folds_its_factor():
    """The first re-taped records see a constant adjoint: ``g * (2 * x ** 1)`` becomes
    ``(2 g) * x ** 1`` (two records, not three), with the same values, the next order's
    dependency on x kept, and Hessians unchanged."""
    x0 = np.array([0.3, -1.2, 2.0, 0.7])
    x = tg.tensor(x0, requires_grad=True)
    y = (x ** 2).sum() + (x[1:] * x[:-1] ** 3).sum()
    n = len(y._seg.records())
    (g,) = tg.autograd.grad(y, x, create_graph=True)
    want = 2 * x0
    want[1:] += x0[:-1] ** 3
    want[:-1] += 3 * x0[:-1] ** 2 * x0[1:]
    np.testing.assert_allclose(g.detach().numpy(), want, rtol=1e-14)
    emitted = [REGISTRY[int(r) & tape.CODE_MASK].name for r in y._seg.records()[n:, 0]]
    assert emitted.count("_mul_c") == 1  # only x ** 3 (its adjoint is not constant) keeps it
    H = np.stack([tg.autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(4)])
    Hw = np.diag(2 + np.r_[6 * x0[:-1] * x0[1:], 0.0])
    for i in range(3):
        Hw[i, i + 1] += 3 * x0[i] ** 2
        Hw[i + 1, i] += 3 * x0[i] ** 2
    np.testing.assert_allclose(H, Hw, rtol=1e-13)
    third, = tg.autograd.grad(tg.autograd.grad((x ** 2).sum(), x, create_graph=True)[0].sum(),
                              x, create_graph=True)
    assert third.requires_grad  # 2 * x ** 0 still depends on x, as in PyTorch


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tanh_gradient_is_one_record_and_matches_torch(torch, dtype):
    """``create_graph`` records tanh's derivative as one TANH_BACKWARD record (PyTorch's
    tanh_backward) instead of ``g * (1 - out * out)``'s three; values, the Hessian-vector
    product through it and the third derivative agree with PyTorch."""
    r = np.random.default_rng(7)
    A0, x0, v0 = (a.astype(dtype) for a in (r.standard_normal((5, 5)) / 2,
                                             r.standard_normal(5), r.standard_normal(5)))
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)

    def hvp(lib, A, x, v):
        y = (lib.tanh(A @ x) ** 2).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g, x, v, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        return g, h, k

    x = tg.tensor(x0, requires_grad=True)
    y = tg.tanh(x * 1.5)
    n = len(y._seg.records())
    (g,) = grad(y.sum(), x, create_graph=True)
    xt = torch.tensor(x0, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.tanh(xt * 1.5).sum(), xt, create_graph=True)
    assert g.grad_fn.name() == "MulBackward0" == gt.grad_fn.name()  # the chain rule's * 1.5
    assert g.grad_fn.next_functions[0][0].name() == "TanhBackwardBackward0" == \
        gt.grad_fn.next_functions[0][0].name()
    emitted = [REGISTRY[int(c) & tape.CODE_MASK].name for c in y._seg.records()[n:, 0]]
    assert emitted.count("tanh_backward") == 1 and "mul" not in emitted, emitted
    x = tg.tensor(x0, requires_grad=True)
    xt = torch.tensor(x0, requires_grad=True)
    got = hvp(tg, tg.tensor(A0), x, tg.tensor(v0))
    want = hvp(torch, torch.tensor(A0), xt, torch.tensor(v0))
    for a, b in zip(got, want):
        assert a.dtype == getattr(np, dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)


@pytest.mark.parametrize("shape", [(2, 3), (2, 1, 3), (1,)])
def test_create_graph_gradients_are_their_vjps_nodes(torch, shape):
    """A gradient of an input of several dims is the node of its last VJP op, as PyTorch's
    (not a view of the tape's flat adjoint), and ``next_functions`` crosses from the
    backward's records to the forward's (the backward records on a segment of its own) down
    to the leaf's AccumulateGrad."""
    x0 = np.random.default_rng(9).standard_normal(shape)

    def walk(node, depth):
        names, level = [], [node]
        for _ in range(depth):
            names.append(sorted(n.name().replace("torch::autograd::", "") for n in level))
            level = [f for n in level for f, _ in n.next_functions if f is not None]
        return names

    chains = []
    for L in (tg, torch):
        x = L.tensor(x0, requires_grad=True)
        y = L.exp(x * 1.5)
        g, = L.autograd.grad((y * y).sum(), x, create_graph=True)
        assert tuple(g.shape) == shape
        chains.append(walk(g.grad_fn, 5))
    assert chains[0] == chains[1]
    assert chains[0][0] == ["MulBackward0"] and "AccumulateGrad" in chains[0][4]


def test_sigmoid_gradient_is_one_record_and_matches_torch(torch):
    """sigmoid's re-taped derivative is one SIGMOID_BACKWARD record (PyTorch's
    sigmoid_backward, node SigmoidBackwardBackward0); the gradient, a Hessian-vector product
    and a third derivative through it agree with PyTorch."""
    r = np.random.default_rng(8)
    A0, x0, v0 = r.standard_normal((5, 5)), r.standard_normal(5), r.standard_normal(5)

    def derivatives(lib, x):
        y = (lib.sigmoid(lib.tensor(A0) @ x) ** 2).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g, x, lib.tensor(v0), create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        return g, h, k

    x = tg.tensor(x0, requires_grad=True)
    y = tg.sigmoid(x).sum()
    n = len(y._seg.records())
    (g,) = grad(y, x, create_graph=True)
    assert g.grad_fn.name() == "SigmoidBackwardBackward0"
    emitted = [REGISTRY[int(c) & tape.CODE_MASK].name for c in y._seg.records()[n:, 0]]
    assert emitted == ["sigmoid_backward"], emitted
    got = derivatives(tg, tg.tensor(x0, requires_grad=True))
    want = derivatives(torch, torch.tensor(x0, requires_grad=True))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)


_RELU_FAMILY = {
    "relu": lambda L, v: L.relu(v),
    "leaky_relu": lambda L, v: L.nn.functional.leaky_relu(v, 0.1),
    "hardtanh": lambda L, v: L.nn.functional.hardtanh(v),
    "relu6": lambda L, v: L.nn.functional.relu6(v),
    "clamp": lambda L, v: v.clamp(-0.5, 0.5),  # a composition of masks in PyTorch: constant
}


@pytest.mark.parametrize("name", sorted(_RELU_FAMILY))
def test_gradient_penalty_of_a_relu_layer(name):
    """A gradient of a ReLU layer from a constant seed requires grad, as PyTorch's (its
    derivative is an op of the saved result there): a penalty on it differentiates to zeros,
    not to an error; clamp's stays constant, as PyTorch's."""
    def run(L):
        w = L.tensor(np.array([[1.0, -2.0], [0.5, 1.0]]), requires_grad=True)
        out = _RELU_FAMILY[name](L, w @ L.tensor(np.array([1.0, 1.0])))
        (g,) = L.autograd.grad(out.sum(), w, create_graph=True)
        if not g.requires_grad:
            return False, g.detach().numpy(), None
        (g ** 2).sum().backward()
        return True, g.detach().numpy(), w.grad.numpy()

    ours = run(tg)
    assert ours[0] == (name != "clamp")
    if ours[0]:
        np.testing.assert_array_equal(ours[2], np.zeros((2, 2)))
    torch = pytest.importorskip("torch")
    theirs = run(torch)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        if a is not None:
            np.testing.assert_array_equal(a, b)
