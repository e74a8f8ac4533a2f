"""Whether a first gradient taken with ``create_graph=True`` records a graph through the input,
as PyTorch's does: ops whose PyTorch derivative passes the incoming gradient on unchanged
(the input does not enter it) give a gradient with no history when that gradient has none,
and ``grad(..., allow_unused=True)`` of it then gives None, not zeros."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _first_and_second(lib, f, xn, square):
    x = lib.tensor(xn, requires_grad=True)
    y = f(lib, x)
    y = (y * y).sum() if square else y.sum()
    g, = lib.autograd.grad(y, x, create_graph=True)
    h = None
    if g.requires_grad:
        h, = lib.autograd.grad((g * g).sum(), x, allow_unused=True)
    return g, h


def _same_as_torch(f, xn, square):
    gt, ht = _first_and_second(torch, f, xn, square)
    g, h = _first_and_second(tg, f, xn, square)
    assert g.requires_grad == gt.requires_grad
    assert (g.grad_fn is None) == (gt.grad_fn is None)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert (h is None) == (ht is None)
    if h is not None:
        np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


def _inputs(shape, zeros, seed):
    xn = np.random.default_rng(seed).standard_normal(shape)
    if zeros and xn.size:
        xn.flat[:zeros] = 0.0
    return xn


_PRODS = {
    "all": lambda L, x: x.prod(),
    "dim0": lambda L, x: x.prod(0),
    "last_keep": lambda L, x: x.prod(-1, keepdim=True),
}


@pytest.mark.parametrize("name", sorted(_PRODS))
@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (1, 3), (3, 1), (2, 3), (0, 2)])
@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("square", [False, True])
def test_prod_first_gradient_graph_as_torch(name, shape, zeros, square):
    _same_as_torch(_PRODS[name], _inputs(shape, zeros, 3), square)


@pytest.mark.parametrize("shape,dim", [((), None), ((1,), None), ((1, 3), 0), ((3, 1), -1),
                                       ((2, 3), 1)])
@pytest.mark.parametrize("zeros", [0, 1])
def test_prod_second_derivative_kept(shape, dim, zeros):
    xn = _inputs(shape, zeros, 5)
    x = tg.tensor(xn, requires_grad=True)
    w = tg.tensor(np.random.default_rng(6).standard_normal(shape))

    def f(x):
        p = x.prod() if dim is None else x.prod(dim)
        return (p * p * (x * w).sum()).sum()

    assert tg.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("shape", [(1,), (0,), (1, 1), (1, 3), (3, 1), (0, 2), (2, 0), (2, 3)])
@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("square", [False, True])
def test_cumprod_first_gradient_graph_as_torch(dim, shape, zeros, square):
    _same_as_torch(lambda L, x: x.cumprod(dim), _inputs(shape, zeros, 7), square)


@pytest.mark.parametrize("shape,dim", [((1, 3), 0), ((3, 1), 1), ((1,), 0), ((3, 2), 0)])
@pytest.mark.parametrize("zeros", [0, 1])
def test_cumprod_second_derivative_kept(shape, dim, zeros):
    x = tg.tensor(_inputs(shape, zeros, 8), requires_grad=True)
    w = tg.tensor(np.random.default_rng(9).standard_normal(shape))

    def f(x):
        c = x.cumprod(dim)
        return (c * c * w).sum() + (c * (x * w).sum()).sum()

    assert tg.autograd.gradgradcheck(f, (x,))


_DETS = {
    "linalg.det": lambda L, x: L.linalg.det(x),
    "det": lambda L, x: L.det(x),
    "Tensor.det": lambda L, x: x.det(),
}


@pytest.mark.parametrize("name", sorted(_DETS))
@pytest.mark.parametrize("shape", [(1, 1), (2, 1, 1), (0, 1, 1), (0, 2, 2), (3, 0, 0), (0, 0),
                                   (2, 2), (2, 3, 3)])
@pytest.mark.parametrize("zeros", [0, 1])
@pytest.mark.parametrize("square", [False, True])
def test_det_first_gradient_graph_as_torch(name, shape, zeros, square):
    _same_as_torch(_DETS[name], _inputs(shape, zeros, 11), square)


@pytest.mark.parametrize("shape", [(1, 1), (3, 1, 1), (2, 2)])
@pytest.mark.parametrize("zeros", [0, 1])
def test_det_second_derivative_kept(shape, zeros):
    x = tg.tensor(_inputs(shape, zeros, 12), requires_grad=True)
    w = tg.tensor(np.random.default_rng(13).standard_normal(shape))

    def f(x):
        d = tg.linalg.det(x)
        return (d * d).sum() + (d * (x * w).sum()).sum()

    assert tg.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("a", [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]],
                               [[0.0, 0.0], [0.0, 1.0]], np.arange(1.0, 10.0).reshape(3, 3)])
def test_det_second_gradient_graph_as_torch(a):
    """A 2x2's cofactors are 1x1 determinants: they keep the graph PyTorch's second
    derivative has (the third derivative is 0, not an error)."""
    v = np.random.default_rng(14).standard_normal(np.shape(a))
    out = []
    for L in (torch, tg):
        x = L.tensor(np.asarray(a, np.float64), requires_grad=True)
        g, = L.autograd.grad(L.linalg.det(x), x, create_graph=True)
        g2, = L.autograd.grad((g * L.tensor(v)).sum(), x, create_graph=True)
        g3, = L.autograd.grad((g2 * g2).sum(), x, allow_unused=True)
        out.append((g2.requires_grad, g2.detach().numpy(), None if g3 is None else g3.numpy()))
    assert out[0][0] == out[1][0]
    np.testing.assert_allclose(out[1][1], out[0][1], atol=1e-12)
    assert (out[0][2] is None) == (out[1][2] is None)
    if out[0][2] is not None:  # (PyTorch's is off at a singular matrix: central differences)
        np.testing.assert_allclose(out[1][2], _fd_third(np.asarray(a, np.float64), v),
                                   atol=1e-6)


def _fd_third(a, v, eps=0.25):  # (g2 * g2).sum() is quadratic: central differences exact
    def f(an):
        x = tg.tensor(an, requires_grad=True)
        g, = tg.autograd.grad(tg.linalg.det(x), x, create_graph=True)
        g2, = tg.autograd.grad((g * tg.tensor(v)).sum(), x)
        return float((g2 * g2).sum())
    out = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i] = eps
        out[i] = (f(a + e) - f(a - e)) / (2 * eps)
    return out


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("shape,dim", [((0,), 0), ((0, 2), 0), ((2, 0), -1), ((0, 1, 1), 1)])
def test_cum_extreme_of_empty_gradient_has_no_history(name, shape, dim):
    """PyTorch returns the empty input itself as its gradient (documented difference): the
    gradient here is a new empty tensor without history."""
    def first(lib):
        x = lib.tensor(np.zeros(shape), requires_grad=True)
        g, = lib.autograd.grad(getattr(lib, name)(x, dim).values.sum(), x, create_graph=True)
        return x, g

    xt, gt = first(torch)
    assert gt is xt  # (what the documented difference is about)
    x, g = first(tg)
    assert g is not x and g.shape == x.shape and g.grad_fn is None and not g.requires_grad
    # a real dependence through the values is kept on non-empty inputs
    xn = np.random.default_rng(15).standard_normal((4, 3))
    hs = []
    for lib in (torch, tg):
        x = lib.tensor(xn, requires_grad=True)
        v = getattr(lib, name)(x, 0).values
        g, = lib.autograd.grad((v * v).sum(), x, create_graph=True)
        assert g.requires_grad
        hs.append(lib.autograd.grad((g * g).sum(), x)[0].numpy())
    np.testing.assert_allclose(hs[1], hs[0], rtol=1e-12)


def _complex_first_and_second(lib, xn, square):
    x = lib.tensor(xn, requires_grad=True)
    y = lib.linalg.det(x)
    y = (y * y).real.sum() if square else y.real.sum()
    g, = lib.autograd.grad(y, x, create_graph=True)
    h = None
    if g.requires_grad:
        h, = lib.autograd.grad((g.abs() ** 2).sum(), x, allow_unused=True)
    return g, h


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
@pytest.mark.parametrize("shape,zeros", [(s, z) for s in [(1, 1), (2, 1, 1), (0, 1, 1), (0, 2, 2)]
                                          for z in (0, 1)] + [((2, 2), 0)])
@pytest.mark.parametrize("square", [False, True])
def test_complex_det_first_gradient_graph_as_torch(dtype, shape, zeros, square):
    """Also: a singular 1x1 no longer raises LinAlgError when the first gradient records."""
    rng = np.random.default_rng(16)
    xn = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if zeros and xn.size:
        xn.flat[:1] = 0.0
    gt, ht = _complex_first_and_second(torch, xn, square)
    g, h = _complex_first_and_second(tg, xn, square)
    assert g.requires_grad == gt.requires_grad
    assert (g.grad_fn is None) == (gt.grad_fn is None)
    tol = 1e-12 if dtype == np.complex128 else 1e-5
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=tol, atol=tol)
    assert (h is None) == (ht is None)
    if h is not None:
        np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=100 * tol, atol=100 * tol)


def _complex_cases():
    rng = np.random.default_rng(17)
    for shape in [(), (0,), (0, 2), (2, 0), (0, 3, 2), (2, 3)]:
        for zeros in (0, 1):
            xn = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
            if zeros and xn.size:
                xn.flat[:1] = 0.0
            yield shape, zeros, xn


_COMPLEX_PRODS = {
    "prod": lambda L, x: x.prod(),
    "prod0": lambda L, x: x.prod(0),
    "prod-1_keep": lambda L, x: x.prod(-1, keepdim=True),
    "cumprod0": lambda L, x: x.cumprod(0),
    "cumprod-1": lambda L, x: x.cumprod(-1),
}


@pytest.mark.parametrize("name", sorted(_COMPLEX_PRODS))
@pytest.mark.parametrize("case", list(_complex_cases()), ids=lambda c: f"{c[0]}-{c[1]}")
@pytest.mark.parametrize("square", [False, True])
def test_complex_products_first_gradient_as_torch(name, case, square):
    """0-d complex prod(dim) raised a permute error; empty complex products and running
    products recorded nothing (an error from grad where PyTorch computes)."""
    f = _COMPLEX_PRODS[name]
    out = []
    for lib in (torch, tg):
        x = lib.tensor(case[2], requires_grad=True)
        y = f(lib, x)
        y = (y * y).real.sum() if square else y.real.sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        h = lib.autograd.grad((g.abs() ** 2).sum(), x, allow_unused=True)[0] \
            if g.requires_grad else None
        out.append((g.requires_grad, g.detach().resolve_conj().numpy(),
                    None if h is None else h.resolve_conj().numpy()))
    assert out[1][0] == out[0][0]
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-12, atol=1e-12)
    assert (out[1][2] is None) == (out[0][2] is None)
    if out[0][2] is not None:
        np.testing.assert_allclose(out[1][2], out[0][2], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape,dim", [((1,), None), ((1, 1), 0), ((1, 3), 0), ((0, 1, 1), -1)])
def test_complex_prod_over_one_factor_gradient_has_no_history(shape, dim):
    """Documented difference: a complex product over an axis of length 1 is the input itself
    here; PyTorch's g * out / x records a graph through x (whose derivative is 0)."""
    xn = np.random.default_rng(18).standard_normal(shape) * (1 + 1j) + 0.5
    gs = []
    for lib in (torch, tg):
        x = lib.tensor(xn, requires_grad=True)
        y = x.prod() if dim is None else x.prod(dim)
        g, = lib.autograd.grad(y.real.sum(), x, create_graph=True)
        gs.append(g)
    assert gs[0].requires_grad and not gs[1].requires_grad and gs[1].grad_fn is None
    np.testing.assert_allclose(gs[1].numpy(), gs[0].detach().resolve_conj().numpy(), rtol=1e-12,
                               atol=1e-12)
