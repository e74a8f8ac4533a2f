"""einsum's parsed equations and VJP plans are cached per equation and shapes: the same
equation at other shapes, dtypes and operands still gives NumPy's values and PyTorch's
gradients, errors are raised on every call, and a caller changing the parse it got does not
change the cache."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import linalg as L
from tests.op_checks import check_op

CASES = [("bii->b", [(4, 5, 5)]), ("bii->b", [(2, 3, 3)]), ("bii->bi", [(3, 4, 4)]),
         ("bij->b", [(2, 3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
         ("bij,bjk->bik", [(1, 3, 4), (3, 4, 2)]), ("i,i->", [(5,), (5,)]),
         ("...ii->...", [(2, 3, 3)]), ("ij,j", [(3, 4), (4,)])]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_match_pytorch_across_shapes(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for _ in range(2):  # the second round from the caches
        for eq, shapes in CASES:
            arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
            xs = [tg.tensor(a, requires_grad=True) for a in arrays]
            ts = [torch.tensor(a, requires_grad=True) for a in arrays]
            out, tout = tg.einsum(eq, *xs), torch.einsum(eq, *ts)
            tol = 1e-12 if dtype == np.float64 else 1e-5
            np.testing.assert_allclose(out.detach().numpy(), np.einsum(eq, *arrays), rtol=tol,
                                       atol=tol)
            g = rng.standard_normal(tuple(tout.shape)).astype(dtype)
            out.backward(tg.tensor(g))
            tout.backward(torch.tensor(g))
            for x, t in zip(xs, ts):
                np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


def test_finite_differences_of_a_batched_trace():
    rng = np.random.default_rng(1)
    for shape in ((3, 4, 4), (2, 2, 2)):
        check_op(lambda x: tg.einsum("bii->b", x), [rng.standard_normal(shape)], order=2)


def test_errors_every_call_and_the_cache_not_shared_with_callers():
    x = tg.ones(2, 3, 3)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="subscript i is repeated for operand 0"):
            tg.einsum("bii->b", tg.ones(2, 3, 4))
    subs, out, sizes = L._parse_einsum("bii->b", [(2, 3, 3)])
    subs[0], sizes["i"] = "zzz", 7  # (a caller's own copies)
    assert L._parse_einsum("bii->b", [(2, 3, 3)]) == (["bii"], "b", {"b": 2, "i": 3})
    np.testing.assert_array_equal(tg.einsum("bii->b", x).numpy(), [3.0, 3.0])
