"""svd_lowrank/pca_lowrank: PyTorch's shapes and errors; reconstructions and singular values
(not the random factors) against PyTorch; determinism under tg.manual_seed; gradients of the
singular values by finite differences (to second order) and against PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, needs_torch, torch

RNG = np.random.default_rng(5)
LOW = RNG.standard_normal((3, 20, 4)) @ RNG.standard_normal((3, 4, 12))  # rank 4 each


def _reconstruct(U, S, V):
    return (U * S[..., None, :]) @ V.mT


@needs_torch
@pytest.mark.parametrize("name", ["svd_lowrank", "pca_lowrank"])
@pytest.mark.parametrize("transposed", [False, True])
def test_lowrank_reconstructs_as_torch(name, transposed):
    A = LOW.transpose(0, 2, 1) if transposed else LOW
    got = getattr(tg, name)(tg.tensor(A), q=6)
    want = getattr(torch, name)(torch.tensor(A), q=6)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape) and str(g.dtype) == str(w.dtype)[6:]
    np.testing.assert_allclose(got[1].numpy()[..., :4], want[1].numpy()[..., :4], rtol=1e-10)
    np.testing.assert_allclose(_reconstruct(*got).numpy(), _reconstruct(*want).numpy(),
                               atol=1e-10)
    target = A - A.mean(-2, keepdims=True) if name == "pca_lowrank" else A
    np.testing.assert_allclose(_reconstruct(*got).numpy(), target, atol=1e-10)


@needs_torch
def test_svd_lowrank_of_a_difference_and_the_defaults():
    M = RNG.standard_normal((20, 12))
    got = tg.svd_lowrank(tg.tensor(LOW[0] + M), q=5, M=tg.tensor(M))
    want = torch.svd_lowrank(torch.tensor(LOW[0] + M), q=5, M=torch.tensor(M))
    np.testing.assert_allclose(_reconstruct(*got).numpy(), _reconstruct(*want).numpy(),
                               atol=1e-10)
    assert tuple(tg.pca_lowrank(tg.tensor(LOW[0][:3]))[0].shape) == tuple(
        torch.pca_lowrank(torch.tensor(LOW[0][:3]))[0].shape)
    assert tuple(tg.svd_lowrank(tg.tensor(LOW[0]))[0].shape) == (20, 6)
    uncentred = tg.pca_lowrank(tg.tensor(LOW[0]), q=4, center=False)
    np.testing.assert_allclose(_reconstruct(*uncentred).numpy(), LOW[0], atol=1e-10)

    def error(lib, **kw):
        try:
            lib.pca_lowrank(lib.tensor(LOW[0]), **kw)
        except Exception as e:  # noqa: BLE001 (the type and words are compared)
            return type(e).__name__, str(e)

    for kw in (dict(q=13), dict(q=-1), dict(niter=-1)):
        assert error(tg, **kw) == error(torch, **kw)


def test_lowrank_is_reproducible_under_manual_seed():
    tg.manual_seed(7)
    first = tg.svd_lowrank(tg.tensor(LOW[0]), q=6)
    tg.manual_seed(7)
    again = tg.svd_lowrank(tg.tensor(LOW[0]), q=6)
    for a, b in zip(first, again):
        assert np.array_equal(a.numpy(), b.numpy())


def test_singular_values_differentiate():
    A = RNG.standard_normal((6, 4))
    check_op(lambda a: tg.svd_lowrank(a, q=4)[1], [A])

    def seeded(a):  # (q below the rank: the values depend on the sketch, fixed here)
        tg.manual_seed(0)
        return tg.pca_lowrank(a, q=3)[1]

    check_op(seeded, [A])


@needs_torch
def test_singular_value_gradients_against_torch():
    A = RNG.standard_normal((6, 4))
    mine, theirs = tg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    w = np.array([1.0, -2.0, 0.5, 3.0])
    (tg.svd_lowrank(mine, q=4)[1] * tg.tensor(w)).sum().backward()
    (torch.svd_lowrank(theirs, q=4)[1] * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), atol=1e-10)
