"""linalg.lstsq's residuals as PyTorch's: 'gels' of a zero A (or one without columns) gives 0
(LAPACK zeroes B there) with the residual formula's gradient; empty residuals of inputs that
require grad are on the graph."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

ZERO_SHAPES = [(3, 0), (2, 3, 0), (3, 2), (2, 4, 2)]


@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shape", ZERO_SHAPES)
@pytest.mark.parametrize("vector", [False, True])
def test_residuals_of_a_zero_matrix_as_torch(driver, shape, vector):
    rng = np.random.default_rng(1)
    a = np.zeros(shape)
    b = rng.uniform(-1, 1, shape[:-1] if vector else shape[:-1] + (2,))
    if vector and len(shape) > 2:
        b = b[0]  # (a vector B pairs with a single matrix)
        a = a[0]

    def run(L):
        A, B = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        r = L.linalg.lstsq(A, B, driver=driver)
        out = [r.residuals.detach().numpy(), r.residuals.requires_grad]
        if r.residuals.numel():
            out += [g.numpy() for g in L.autograd.grad(r.residuals.sum(), (A, B))]
        return out

    ours, theirs = run(tg), run(torch)
    assert len(ours) == len(theirs) and ours[1] == theirs[1]
    for u, v in zip(ours[:1] + ours[2:], theirs[:1] + theirs[2:]):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("driver", [None, "gelsd", "gels"])
@pytest.mark.parametrize("which", ["A", "B", "both", "none"])
def test_empty_residuals_require_grad_as_torch(driver, which):
    a = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]])  # (m < n: no residuals for any driver)
    b = np.array([[1.0], [2.0]])

    def run(L):
        A = L.tensor(a, requires_grad=which in ("A", "both"))
        B = L.tensor(b, requires_grad=which in ("B", "both"))
        r = L.linalg.lstsq(A, B, driver=driver).residuals
        return tuple(r.shape), r.requires_grad

    assert run(tg) == run(torch)


@pytest.mark.parametrize("shape", [(5, 3), (2, 5, 3), (3, 3)])
def test_empty_residuals_pass_no_gradient_as_torch(shape):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (2,))

    def run(L):
        A, B = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        r = L.linalg.lstsq(A, B).residuals  # (gelsy, the CPU default: no residuals)
        got = L.autograd.grad(r.sum(), (A, B), allow_unused=True)
        r = L.linalg.lstsq(A, B).residuals
        with pytest.raises(RuntimeError) as err:
            L.autograd.grad(r.sum(), (A, B))
        both = L.linalg.lstsq(A, B)
        full = L.autograd.grad((both.solution ** 2).sum() + both.residuals.sum(), (A, B))
        return (tuple(r.shape), r.requires_grad, got, str(err.value),
                [g.detach().numpy() for g in full])

    ours, theirs = run(tg), run(torch)
    assert ours[:4] == theirs[:4]
    assert ours[2] == (None, None)
    for x, y in zip(ours[4], theirs[4]):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd"])
@pytest.mark.parametrize("which", ["A", "B", "none"])
def test_empty_residuals_of_complex_inputs_are_real_as_torch(driver, which):
    a = np.array([[1 + 1j, 2.0], [3.0, 4j], [5.0, 6.0]])  # (gelsd: rank-deficient, no residuals)
    if driver == "gelsd":
        a[:, 1] = a[:, 0]
    b = np.array([[1 + 0j], [2.0], [3.0]])

    def run(L):
        A = L.tensor(a, requires_grad=which == "A")
        B = L.tensor(b, requires_grad=which == "B")
        r = L.linalg.lstsq(A, B, driver=driver).residuals
        return tuple(r.shape), str(r.dtype).replace("torch.", ""), r.requires_grad

    assert run(tg) == run(torch)
