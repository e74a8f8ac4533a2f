"""Ops whose CPU code builds a constant or a mask on the host (diag, tril/triu, scatter of a
number, one_hot, attention masks, where with a 0-d CPU tensor) and diagonal/trace on CUDA
tensors against the CPU path, on numba-cuda's simulator (see conftest.py): the constant
goes to the input's device instead of meeting it as a CPU tensor (PyTorch's mixed-device
error, or a CPU result)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn.functional as F
from test_cuda_more import like
from test_cuda_sim import check

RNG = np.random.default_rng(3)
M = RNG.uniform(-1.0, 1.0, (3, 4))
V = RNG.uniform(-1.0, 1.0, 3)
Q, K, W = (RNG.uniform(-1.0, 1.0, (1, 3, 2)) for _ in range(3))


VIEWS = {
    "diagonal": lambda x: tg.diagonal(x), "diagonal_offset": lambda x: x.diagonal(1),
    "diagonal_below": lambda x: tg.diagonal(x, -1), "diagonal_dims": lambda x: tg.diagonal(
        x.reshape(3, 2, 2), 0, 1, 2), "trace": lambda x: tg.trace(x[:, :3]),
    "diag_of_vector": lambda x: tg.diag(x[0]), "diag_above": lambda x: tg.diag(x[1], 1),
    "diag_below": lambda x: tg.diag(x[2], -2), "diag_of_matrix": lambda x: tg.diag(x),
    "tril": lambda x: tg.tril(x), "triu_offset": lambda x: tg.triu(x, -1),
    "tril_batch": lambda x: x.reshape(2, 3, 2).tril(1),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_diagonals_and_triangles(name, dtype):
    check(VIEWS[name], M, dtype=dtype)


def test_scatter_of_a_number():
    check(lambda x: x.scatter(1, like([[0], [2], [3]], x), 0.5), M)
    check(lambda x: tg.scatter(x, 0, like([[2, 0, 1, 1]], x), value=-1.0), M)


def test_where_moves_a_0d_cpu_tensor_to_the_device():
    check(lambda x: tg.where(like(M > 0, x), x, tg.tensor(0.25)), M)
    check(lambda x: tg.where(like(M > 0, x), tg.tensor(2.0), x), M)
    x = tg.tensor(M, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        tg.where(tg.tensor(M > 0), x, x)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        tg.where(like(M > 0, x), x, tg.tensor(M))


def test_one_hot_stays_on_the_device():
    y = F.one_hot(tg.tensor([1, 0, 3], device="cuda"), 4)
    assert y.device == "cuda" and y.dtype == np.int64
    np.testing.assert_array_equal(y.cpu().numpy(), np.eye(4, dtype=np.int64)[[1, 0, 3]])


def test_attention_masks():
    allowed = np.array([[True, False, True], [False] * 3, [True] * 3])
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), Q, K, W)
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=like(allowed, q)),
          Q, K, W)


NN = {  # functional forms whose constants, noise or host reads were CPU-only
    "hardswish": lambda x: F.hardswish(x), "hardshrink": lambda x: F.hardshrink(x, 0.3),
    "rrelu_training": lambda x: F.rrelu(x, training=True),
    "gumbel_softmax_hard": lambda x: F.gumbel_softmax(x, tau=0.5, hard=True) * tg.arange(
        4.0, device=x.device),
    "gaussian_nll_float_var": lambda x: F.gaussian_nll_loss(x, x.detach() * 0.5, 0.5),
    "embedding_bag_mean": lambda w: F.embedding_bag(
        tg.tensor([1, 2, 0], device=w.device), w, tg.tensor([0, 2], device=w.device),
        mode="mean"),
    "embedding_bag_max": lambda w: F.embedding_bag(
        tg.tensor([[1, 2], [2, 0]], device=w.device), w, mode="max"),
}


@pytest.mark.parametrize("name", sorted(NN))
def test_functional_forms(name):
    check(NN[name], M, seed=0)
