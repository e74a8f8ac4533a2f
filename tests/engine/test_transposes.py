"""Transposes of large arrays: the compiled sweep walks a transposing strided map (the VJP of
``x.t()``, ``permute``, and of its re-taped scatter) in tiles, and ``contiguous`` copies a
transposed matrix in tiles. Both move values without arithmetic, or add them in the order the
plain walk does, so the results must be exact."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import vecmath

SHAPES = [(256, 1024), (300, 77), (33, 4096)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_transposes_gradient_is_the_transposed_seed(shape, dtype):
    r = np.random.default_rng(sum(shape))
    x = tg.tensor(r.standard_normal(shape).astype(dtype), requires_grad=True)
    g = r.standard_normal(shape[::-1]).astype(dtype)
    x.t().backward(tg.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), g.T)
    x.grad = None
    (x.t() * 2.0).backward(tg.tensor(g))  # (the transpose's input reached through a product)
    np.testing.assert_array_equal(x.grad.numpy(), (g * dtype(2.0)).T)


def test_batched_and_broadcast_transposes_add_in_the_plain_order():
    r = np.random.default_rng(1)
    x0 = r.standard_normal((70, 90))
    x = tg.tensor(x0, requires_grad=True)
    g = r.standard_normal((3, 90, 70))
    x.expand(3, 70, 90).transpose(1, 2).backward(tg.tensor(g))  # three planes reach each x
    want = np.zeros((70, 90))
    for k in range(3):
        want += g[k].T
    np.testing.assert_array_equal(x.grad.numpy(), want)
    y = tg.tensor(r.standard_normal((4, 64, 96)), requires_grad=True)
    h = r.standard_normal((96, 4, 64))
    y.permute(2, 0, 1).backward(tg.tensor(h))
    np.testing.assert_array_equal(y.grad.numpy(), h.transpose(1, 2, 0))


def test_second_order_through_a_transpose_against_torch():
    """The re-taped VJP of a transpose is a strided scatter, swept in tiles by the next
    backward."""
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(2)
    a, w, v = r.standard_normal((128, 96)), r.standard_normal((96, 128)), \
        r.standard_normal((128, 96))
    out = []
    for L in (tg, torch):
        x = L.tensor(a, requires_grad=True)
        (g,) = L.autograd.grad((L.tanh(x.t() * L.tensor(w)) ** 2).sum(), x, create_graph=True)
        (h,) = L.autograd.grad((g * L.tensor(v)).sum(), x)
        out.append((g.detach().numpy(), h.numpy()))
    for mine, theirs in zip(*out):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_contiguous_copies_a_transposed_matrix_in_c_order(dtype):
    r = np.random.default_rng(3)
    # (tiled where the columns are a multiple of 256 bytes apart: edge tiles of every size)
    for shape in ((256, 1024), (1000, 37), (4097, 3), (65, 129), (7, 9), (4096, 64), (33, 544),
                  (100, 96), (1024, 256)):
        a = r.standard_normal(shape).astype(dtype)
        c = vecmath.c_order(a.T)
        assert c.flags.c_contiguous and c.dtype == dtype
        np.testing.assert_array_equal(c, a.T)
        x = tg.tensor(a, requires_grad=True)
        y = x.t().contiguous()
        assert y.is_contiguous() and type(y.grad_fn).__name__ == "CloneBackward0"
        np.testing.assert_array_equal(y.detach().numpy(), a.T)
        y.backward(tg.tensor(np.ones(shape[::-1], dtype)))
        np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape, dtype))
    from tapegrad.vecmath import transpose_kernels

    for shape in ((33, 17), (1, 40), (40, 1), (64, 48), (70, 31)):  # the tiles on any shape
        a = r.standard_normal(shape).astype(dtype)
        out = np.empty(shape[::-1], dtype)
        transpose_kernels.copy_transposed(a.T, out)
        np.testing.assert_array_equal(out, a.T)
    b = r.standard_normal((3, 40, 50))
    np.testing.assert_array_equal(vecmath.c_order(b.transpose(0, 2, 1)), b.transpose(0, 2, 1))
