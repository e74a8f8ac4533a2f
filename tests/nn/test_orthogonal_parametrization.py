"""``nn.utils.parametrizations.orthogonal``: the weight stays orthogonal through training and
assignment, its maps (matrix_exp, cayley, householder, with or without the trivialization's
base) give PyTorch's weights and gradients from the same original, and PyTorch's errors."""

import numpy as np
import pytest

import tapegrad as tg

CASES = [((4, 4), {}), ((3, 3), {"orthogonal_map": "cayley"}),
         ((4, 4), {"orthogonal_map": "householder"}),
         ((5, 3), {"orthogonal_map": "householder", "use_trivialization": False}),
         ((3, 5), {"use_trivialization": False})]


def _run(lib, shape, kwargs):
    rng = np.random.default_rng(0)
    m = lib.nn.Linear(shape[1], shape[0], bias=False).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor(rng.standard_normal(shape)))
    lib.nn.utils.parametrizations.orthogonal(m, **kwargs)
    x = lib.tensor(rng.standard_normal((2, shape[1])))
    y = m(x)
    (y * lib.tensor(rng.standard_normal(tuple(y.shape)))).sum().backward()
    original = m.parametrizations.weight.original
    return (m.weight.detach().numpy(), original.grad.numpy(), list(m.state_dict()),
            [n for n, _ in m.named_parameters()])


@pytest.mark.parametrize("shape,kwargs", CASES)
def test_weight_is_orthogonal(shape, kwargs):
    w = _run(tg, shape, kwargs)[0]
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


@pytest.mark.parametrize("shape,kwargs", CASES)
def test_matches_torch(torch, shape, kwargs):
    ours, theirs = _run(tg, shape, kwargs), _run(torch, shape, kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12)
    assert ours[2:] == theirs[2:]


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_maps_have_finite_difference_gradients(orthogonal_map):
    m = tg.nn.Linear(3, 4 if orthogonal_map == "householder" else 3, bias=False).double()
    tg.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orthogonal_map,
                                            use_trivialization=orthogonal_map != "householder")
    orth = m.parametrizations.weight[0]
    x = tg.tensor(np.random.default_rng(1).standard_normal(tuple(m.weight.shape)) * 0.3,
                  requires_grad=True)
    assert tg.autograd.gradcheck(orth, (x,))


def test_assignment_and_training_keep_it_orthogonal():
    m = tg.nn.Linear(3, 5).double()
    tg.nn.utils.parametrizations.orthogonal(m)
    m.weight = tg.tensor(np.random.default_rng(2).standard_normal((5, 3)))
    opt = tg.optim.SGD(m.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        (m(tg.ones(4, 3, dtype=tg.float64)) ** 2).sum().backward()
        opt.step()
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-12)


def test_errors():
    orthogonal = tg.nn.utils.parametrizations.orthogonal
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", '
                                         '"cayley", "householder". Got: bogus'):
        orthogonal(tg.nn.Linear(3, 3), orthogonal_map="bogus")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor "
                                         "of 1 dimensions."):
        orthogonal(tg.nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        orthogonal(tg.nn.Linear(3, 3), "nope")
    with pytest.raises(ValueError, match="householder parametrization does not support complex"):
        lin = tg.nn.Linear(3, 4)
        lin.weight = tg.nn.Parameter(tg.ones(4, 3, dtype=tg.complex128))
        orthogonal(lin, orthogonal_map="householder")
    m = orthogonal(tg.nn.Linear(3, 3), orthogonal_map="matrix_exp", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m.weight = tg.eye(3, dtype=m.weight.dtype)
