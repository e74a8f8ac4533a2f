"""jacrev runs the function once, as torch.func.jacrev: in-place changes it makes to its
arguments (a BatchNorm's running statistics passed to functional_call) happen once."""

import numpy as np
import pytest

import tapegrad as tg

X = np.random.default_rng(0).standard_normal((4, 3))


def _bn_jacrev(lib):
    m = lib.nn.BatchNorm1d(3).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor([1.5, -0.5, 2.0], dtype=lib.float64))
    params = dict(m.named_parameters())  # (they require grad: the rows are differentiable)
    buffers = {k: v.clone() for k, v in m.named_buffers()}
    x = lib.tensor(X)

    def f(p, b):
        return lib.func.functional_call(m, (p, b), (x,)).sum(0) ** 2

    jac = lib.func.jacrev(f)(params, buffers)
    return buffers, jac


def test_batch_norm_buffers_updated_once_as_torch():
    torch = pytest.importorskip("torch")
    (b1, j1), (b2, j2) = _bn_jacrev(tg), _bn_jacrev(torch)
    assert int(b1["num_batches_tracked"]) == int(b2["num_batches_tracked"]) == 1
    for k in ("running_mean", "running_var"):
        np.testing.assert_allclose(b1[k].numpy(), b2[k].numpy(), rtol=1e-12)
    for k in ("weight", "bias"):
        assert j1[k].requires_grad == j2[k].requires_grad
        np.testing.assert_allclose(j1[k].detach().numpy(), j2[k].detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_argument_changed_in_place_once():
    w = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    count = tg.zeros(1, dtype=tg.float64)

    def f(w, count):
        count.add_(1.0)
        return (w * w).sin()

    jac = tg.func.jacrev(f)(w, count)
    assert float(count) == 1.0
    assert jac.requires_grad
    np.testing.assert_allclose(jac.detach().numpy(),
                               np.diag(2 * w.detach().numpy() * np.cos(w.detach().numpy() ** 2)),
                               rtol=1e-12)
