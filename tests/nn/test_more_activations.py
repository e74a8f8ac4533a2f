"""hardsigmoid, hardswish, softshrink, hardshrink, threshold, selu, celu, mish, softsign,
tanhshrink, softmin, glu and prelu (functions and modules): values and gradients as PyTorch's,
at their kinks, +-inf and NaN too; finite differences in float64."""

import numpy as np
import pytest

import tapegrad as tg

POINTS = [np.nan, np.inf, -np.inf, -5.0, -3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 3.0, 5.0, 25.0]

POINTWISE = {
    "hardsigmoid": lambda T: T.nn.functional.hardsigmoid,
    "hardswish": lambda T: T.nn.functional.hardswish,
    "softshrink": lambda T: T.nn.functional.softshrink,
    "softshrink 1": lambda T: (lambda t: T.nn.functional.softshrink(t, 1.0)),
    "hardshrink": lambda T: T.nn.functional.hardshrink,
    "hardshrink 0": lambda T: (lambda t: T.nn.functional.hardshrink(t, 0.0)),
    "threshold": lambda T: (lambda t: T.nn.functional.threshold(t, 0.5, -2.0)),
    "selu": lambda T: T.nn.functional.selu,
    "celu": lambda T: T.nn.functional.celu,
    "celu 2": lambda T: (lambda t: T.nn.functional.celu(t, 2.0)),
    "Hardsigmoid": lambda T: T.nn.Hardsigmoid(),
    "Hardswish": lambda T: T.nn.Hardswish(),
    "SELU": lambda T: T.nn.SELU(),
    "CELU": lambda T: T.nn.CELU(0.5),
    "Softshrink": lambda T: T.nn.Softshrink(0.3),
    "Hardshrink": lambda T: T.nn.Hardshrink(0.3),
    "Threshold": lambda T: T.nn.Threshold(0.1, 20.0),
}
SMOOTH = {  # NaN/inf give NumPy's warnings here (PyTorch is silent): finite points only
    "mish": lambda T: T.nn.functional.mish,
    "softsign": lambda T: T.nn.functional.softsign,
    "tanhshrink": lambda T: T.nn.functional.tanhshrink,
    "Mish": lambda T: T.nn.Mish(),
    "Softsign": lambda T: T.nn.Softsign(),
    "Tanhshrink": lambda T: T.nn.Tanhshrink(),
}


def _pointwise(lib, make, points):
    x = lib.tensor(points, dtype=lib.float64, requires_grad=True)
    y = make(lib)(x)
    y.sum().backward()
    return np.asarray(y.tolist()), np.asarray(x.grad.tolist())


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_piecewise_activations_match_torch_everywhere(torch, name):
    ours = _pointwise(tg, POINTWISE[name], POINTS)
    theirs = _pointwise(torch, POINTWISE[name], POINTS)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_smooth_activations_match_torch(torch, name):
    finite = POINTS[3:]
    for a, b in zip(_pointwise(tg, SMOOTH[name], finite), _pointwise(torch, SMOOTH[name], finite)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


GRID = np.linspace(-2.0, 2.0, 12).reshape(2, 6)
SHAPED = {
    "softmin dim 1": lambda T: (lambda t: T.nn.functional.softmin(t, dim=1)),
    "Softmin dim 0": lambda T: T.nn.Softmin(0),
    "glu": lambda T: T.nn.functional.glu,
    "glu dim 0": lambda T: (lambda t: T.nn.functional.glu(t, 0)),
    "GLU": lambda T: T.nn.GLU(),
    "prelu one weight": lambda T: (lambda t: T.nn.functional.prelu(
        t, T.tensor([0.2], dtype=T.float64))),
    "prelu per channel": lambda T: (lambda t: T.nn.functional.prelu(
        t, T.tensor(np.linspace(0.1, 0.6, 6), dtype=T.float64))),
}


def _shaped(lib, make):
    x = lib.tensor(GRID, dtype=lib.float64, requires_grad=True)
    y = make(lib)(x)
    w = lib.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)), dtype=lib.float64)
    (y * w).sum().backward()
    return np.asarray(y.tolist()), np.asarray(x.grad.tolist())


@pytest.mark.parametrize("name", sorted(SHAPED))
def test_shaped_activations_match_torch(torch, name):
    for a, b in zip(_shaped(tg, SHAPED[name]), _shaped(torch, SHAPED[name])):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_prelu_module_matches_torch(torch):
    def run(lib):
        m = lib.nn.PReLU(3).double()
        x = lib.tensor(np.linspace(-2, 2, 12).reshape(4, 3), dtype=lib.float64,
                       requires_grad=True)
        y = m(x)
        (y * y).sum().backward()
        return y.tolist(), x.grad.tolist(), m.weight.grad.tolist(), \
            [n for n, _ in m.named_parameters()]

    assert run(tg) == run(torch)


def test_errors_match_torch(torch):
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="Halving dimension must be even"):
            lib.nn.functional.glu(lib.ones(2, 5))
        with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel"):
            lib.nn.functional.prelu(lib.ones(2, 6), lib.ones(2))
        with pytest.raises(RuntimeError, match="lambda must be in range"):
            lib.nn.functional.softshrink(lib.ones(2), -1.0)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        tg.nn.functional.softmin(tg.ones(2, 3))


def test_finite_differences_and_known_values():
    F = tg.nn.functional
    x = tg.tensor([-2.5, -1.0, 0.7, 2.0, 4.0], dtype=tg.float64, requires_grad=True)
    for f in (F.hardswish, F.selu, F.celu, F.mish, F.softsign, F.tanhshrink,
              lambda t: F.celu(t, 0.5), lambda t: F.softmin(t, dim=0)):
        assert tg.autograd.gradgradcheck(f, (x,))
    for f in (F.hardsigmoid, F.softshrink, F.hardshrink, lambda t: F.threshold(t, 0.0, 1.0)):
        assert tg.autograd.gradcheck(f, (x,))
    assert F.hardsigmoid(tg.tensor([-1.0])).item() == 1 / 3  # (x + 3) / 6, as PyTorch rounds
    assert F.softshrink(tg.tensor([0.2, -0.7, 2.0])).tolist() == pytest.approx([0.0, -0.2, 1.5])
    assert F.threshold(tg.tensor([np.nan, -1.0]), 0.0, 5.0).tolist()[1] == 5.0
    assert F.glu(tg.tensor([[1.0, 0.0]])).tolist() == [[0.5]]


def test_gumbel_softmax():
    F = tg.nn.functional
    tg.manual_seed(0)
    logits = tg.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]], requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(-1), 1.0)
    hard = F.gumbel_softmax(logits, hard=True)
    assert set(np.unique(hard.detach().numpy())) <= {0.0, 1.0}
    assert (hard.detach().numpy().sum(-1) == 1).all()
    w = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (hard * w).sum().backward()  # straight through: the soft sample's gradient
    assert np.abs(logits.grad.numpy()).sum() > 0
    draws = np.stack([F.gumbel_softmax(logits, hard=True).detach().numpy()
                      for _ in range(4000)])  # one-hot draws: frequencies are softmax(logits)
    np.testing.assert_allclose(draws.mean(0), F.softmax(logits, -1).detach().numpy(), atol=0.03)
