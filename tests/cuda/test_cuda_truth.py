"""any, all and count_nonzero of CUDA tensors (counted on the device), the attention layers
that ask them (MultiheadAttention marks rows with nothing to attend to with ``all``), and the
masks isnan/isinf/isfinite, ``~`` and logical_not (comparisons on the device) against the CPU
path, on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn as nn
from test_cuda_sim import check_exact

RNG = np.random.default_rng(5)
A = RNG.uniform(-1.0, 1.0, (3, 4))
A[0], A[1, 2] = 0.0, 0.0
B = np.array([[True, True], [False, True]])

CASES = {
    "any": lambda t: tg.any(t(A)), "any_dim": lambda t: tg.any(t(A), 1),
    "any_keepdim": lambda t: t(A).any(0, keepdim=True), "any_last": lambda t: t(A).any(-1),
    "all": lambda t: tg.all(t(A)), "all_dims": lambda t: tg.all(t(A) > -2, dim=(0, 1)),
    "all_keepdim": lambda t: tg.all(t(A), keepdim=True), "all_bool": lambda t: t(B).all(1),
    "any_bool": lambda t: t(B).any(0), "all_uint8": lambda t: t(np.array([1, 0, 2],
                                                                      np.uint8)).all(),
    "all_int": lambda t: t(np.array([1, 0, 2])).all(), "any_0d": lambda t: t(0.0).any(),
    "all_0d_dim": lambda t: t(2.0).all(0), "any_nan": lambda t: t([0.0, np.nan]).any(),
    "any_empty": lambda t: t(np.zeros((0, 3))).any(0), "all_empty": lambda t: t([]).all(),
    "count": lambda t: tg.count_nonzero(t(A)), "count_dim": lambda t: tg.count_nonzero(t(A), 1),
    "count_dims": lambda t: tg.count_nonzero(t(A), (0, 1)),
}


def _run_layers(dev, pad):
    tg.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).to(dev)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0,
                                       batch_first=True).to(dev)
    x = tg.tensor(RNG.uniform(-1.0, 1.0, (2, 3, 4)), device=dev, requires_grad=True)
    y, w = mha(x, x, x, key_padding_mask=tg.tensor(pad, device=dev))
    z = layer(x, src_mask=nn.Transformer.generate_square_subsequent_mask(3).to(dev))
    (y.sum() + (z ** 2).mean()).backward()
    return [t.detach().cpu().numpy() for t in (y, w, z, x.grad, mha.in_proj_weight.grad,
                                               layer.linear1.weight.grad)]


def test_attention_layers():
    pad = np.array([[False, False, True], [False, False, False]])
    state = RNG.bit_generator.state
    cpu = _run_layers("cpu", pad)
    RNG.bit_generator.state = state
    for c, d in zip(cpu, _run_layers("cuda", pad)):
        np.testing.assert_allclose(d, c, rtol=1e-10, atol=1e-12)


V = np.array([[1.5, -np.inf, np.nan, 0.0], [np.inf, -0.0, 3.0, -2.0]])
MASKS = {
    "isnan": lambda t: tg.isnan(t(V)), "isinf": lambda t: tg.isinf(t(V)),
    "isfinite": lambda t: t(V).isfinite(), "isnan_int": lambda t: tg.isnan(t(np.array([1, 2]))),
    "isinf_int": lambda t: tg.isinf(t(np.array([1, 2]))),
    "isfinite_bool": lambda t: tg.isfinite(t(np.array([True, False]))),
    "invert_mask": lambda t: ~(t(V) > 0), "invert_int": lambda t: ~t(np.array([0, 5, -3])),
    "bitwise_not": lambda t: tg.bitwise_not(t(np.array([0, 5]))),
    "logical_not": lambda t: tg.logical_not(t(V)),
    "logical_not_mask": lambda t: tg.logical_not(t(V) > 0),
    "select_by_inverted_mask": lambda t: t(V)[~tg.isnan(t(V))],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_truth_reductions(name):
    check_exact(CASES[name])


@pytest.mark.parametrize("name", sorted(MASKS))
def test_masks_on_the_device(name):
    check_exact(MASKS[name])


def test_a_finite_mask_guards_a_gradient():
    out = {}
    for dev in ("cpu", "cuda"):
        x = tg.tensor(V, device=dev, requires_grad=True)
        y = tg.where(tg.isfinite(x), x * 2, 0.0).sum()
        y.backward()
        out[dev] = (y.item(), x.grad.cpu().numpy())
    assert out["cpu"][0] == out["cuda"][0]
    np.testing.assert_array_equal(out["cuda"][1], out["cpu"][1])
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        ~tg.tensor(V, device="cuda")
