"""clip_grad_norm_ / get_total_norm with norm types other than 2 (negative ones and -inf:
the smallest magnitude), against PyTorch's."""

import math

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _grads(rng, shapes):
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("norm_type", [-math.inf, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.5, math.inf])
def test_clip_grad_norm_matches_pytorch(norm_type):
    rng = np.random.default_rng(7)
    for shapes in [[(4, 3), (3,)], [(5,)], [(2, 2, 2), (1,), (6,)]]:
        grads = _grads(rng, shapes)
        tps, gps = [], []
        for g in grads:
            t = torch.ones(g.shape, dtype=torch.float64, requires_grad=True)
            t.grad = torch.tensor(g)
            p = tg.ones(g.shape, requires_grad=True)
            p.grad = tg.tensor(g)
            tps.append(t)
            gps.append(p)
        for max_norm in (0.05, 1e3):
            tn = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
            gn = tg.nn.utils.clip_grad_norm_(gps, max_norm, norm_type=norm_type)
            np.testing.assert_allclose(gn.item(), tn.item(), rtol=1e-12)
            for t, p in zip(tps, gps):
                np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_minus_inf_norm_is_smallest_magnitude():
    ts = [tg.tensor([0.5, -2.0, 3.0]), tg.tensor([-1.0, 0.25])]
    assert tg.nn.utils.get_total_norm(ts, -math.inf).item() == 0.25
    assert tg.nn.utils.get_total_norm(ts, "-inf").item() == 0.25


@pytest.mark.parametrize("norm_type", [math.inf, -math.inf, -1.0, -0.5])
@pytest.mark.parametrize("foreach", [None, False])
def test_empty_tensor_without_identity_raises_as_pytorch(norm_type, foreach):
    with pytest.raises(RuntimeError) as expected:
        torch.nn.utils.get_total_norm([torch.ones(3), torch.zeros(0)], norm_type, foreach=foreach)
    with pytest.raises(RuntimeError) as got:
        tg.nn.utils.get_total_norm([tg.ones(3), tg.zeros(0)], norm_type, foreach=foreach)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("norm_type", [0.0, 1.0, 2.0])
def test_empty_tensor_with_identity_counts_nothing(norm_type):
    t = torch.nn.utils.get_total_norm([torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), torch.zeros(0, dtype=torch.float64)], norm_type)
    g = tg.nn.utils.get_total_norm([tg.tensor([1.0, 2.0, 3.0]), tg.zeros(0)], norm_type)
    assert g.item() == pytest.approx(t.item(), rel=1e-12)
