"""xlogy and special.xlog1py: values, first and second derivatives and forward-mode tangents at
the edges (x = 0 against y = inf, 0, -1, NaN), as PyTorch's rules give them; gradients and
second derivatives of regular points against finite differences."""
import itertools

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

XS = [0.0, 0.5, -1.0]
YS = [np.inf, -np.inf, 0.0, -1.0, -0.5, 2.0, np.nan, 1.0]
PAIRS = list(itertools.product(XS, YS))


def _fn(L, name):
    return L.xlogy if name == "xlogy" else L.special.xlog1py


def _derivatives(L, name):
    X = L.tensor(np.array([a for a, _ in PAIRS]), requires_grad=True)
    Y = L.tensor(np.array([b for _, b in PAIRS]), requires_grad=True)
    out = _fn(L, name)(X, Y)
    gx, gy = L.autograd.grad(out.sum(), (X, Y), create_graph=True)
    got = {"out": out, "gx": gx, "gy": gy}
    for k, g in (("gx", gx), ("gy", gy)):
        hx, hy = L.autograd.grad(g.sum(), (X, Y), allow_unused=True, retain_graph=True)
        got[k + "y"] = hy
        if k == "gy":
            got["gyx"] = hx
    return {k: v.detach().numpy() for k, v in got.items()}


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_values_and_derivatives_at_the_edges_as_torch(name):
    ours, theirs = _derivatives(tg, name), _derivatives(torch, name)
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_forward_mode_tangents_as_torch(name):
    import torch.autograd.forward_ad as fwd

    x = np.array([a for a, _ in PAIRS])
    y = np.array([b for _, b in PAIRS])
    tx, ty = np.linspace(0.5, 2.0, len(x)), np.linspace(-1.0, 1.5, len(x))
    with fwd.dual_level():
        o = _fn(torch, name)(fwd.make_dual(torch.tensor(x), torch.tensor(tx)),
                             fwd.make_dual(torch.tensor(y), torch.tensor(ty)))
        want = fwd.unpack_dual(o).tangent.numpy()
    _, got = tg.func.jvp(_fn(tg, name), (tg.tensor(x), tg.tensor(y)),
                         (tg.tensor(tx), tg.tensor(ty)))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_gradients_match_finite_differences(name):
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.uniform(-1, 1, (3, 1)), requires_grad=True)
    y = tg.tensor(rng.uniform(0.2, 2, 4), requires_grad=True)
    assert tg.autograd.gradcheck(_fn(tg, name), (x, y))
    assert tg.autograd.gradgradcheck(_fn(tg, name), (x, y))


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_node_names_as_torch(name):
    def names(L):
        a = L.tensor([1.0, 0.0], requires_grad=True)
        f = _fn(L, name)
        return [f(a, L.tensor(2.0)).grad_fn.name(), f(a, 2.0).grad_fn.name(),
                f(2.0, a).grad_fn.name()]

    assert names(tg) == names(torch)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_zeros_of_the_incoming_gradient_and_broadcast_operands_as_torch(name):
    """The zeros are written only where due (x == 0, or a zero incoming gradient against a
    non-NaN y, or a dead x): a broadcast x column, zeros in the gradient against y = inf and
    NaN, and 0-d operands at the pole."""
    def run(L):
        x = L.tensor([[0.0], [2.0], [0.0]], dtype=L.float64, requires_grad=True)
        y = L.tensor([np.inf, -1.0, 0.0, 3.0, np.nan], dtype=L.float64, requires_grad=True)
        out = _fn(L, name)(x, y)
        g = L.tensor([[0.0, 1.0, 2.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0, 0.0],
                      [1.0, 0.0, 1.0, 0.0, 0.0]], dtype=L.float64)
        gx, gy = L.autograd.grad(out, (x, y), g)
        z = L.tensor(0.0, dtype=L.float64, requires_grad=True)
        s = _fn(L, name)(z, L.tensor(-1.0, dtype=L.float64))
        (gs,) = L.autograd.grad(s, z)
        return [out.detach().numpy(), gx.numpy(), gy.numpy(), s.detach().numpy(), gs.numpy()]

    for got, want in zip(run(tg), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-15)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
@pytest.mark.parametrize("a, b", [(2.0, 3.0), (2, 3), (True, 2.0)])
def test_two_numbers_refused_as_pytorch(name, a, b):
    with pytest.raises(TypeError) as theirs:
        _fn(torch, name)(a, b)
    with pytest.raises(TypeError) as ours:
        _fn(tg, name)(a, b)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_one_number_either_side_as_pytorch(name):
    for a, b in [(2.0, [3.0, 0.5]), ([0.0, 2.0], 3), (0, [np.nan, 1.0])]:
        ours = _fn(tg, name)(a if np.isscalar(a) else tg.tensor(a, dtype=tg.float64),
                             b if np.isscalar(b) else tg.tensor(b, dtype=tg.float64))
        theirs = _fn(torch, name)(a if np.isscalar(a) else torch.tensor(a, dtype=torch.float64),
                                  b if np.isscalar(b) else torch.tensor(b, dtype=torch.float64))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), equal_nan=True)
