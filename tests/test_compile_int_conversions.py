"""tg.compile of x.long(), x.int() and x.bool(): a step turning a mask or rounded values into
integers (positions counted from a mask, bucket ids) ran eagerly ('long is not supported by
tg.compile yet'). Replayed as the other conversions (fullgraph: one trace), with eager's and
PyTorch's values, dtypes and gradients."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _f(lib, x):
    pos = (x > 0).long() + (x > 1).long()
    ids = (x * 2).int()
    keep = x.bool().logical_and(x.abs() > 0.3)
    return (x * pos.to(x.dtype) + x ** 2 * ids.to(x.dtype)).sum() + (x * keep.double()).sum(), \
        pos, ids, keep


def test_against_eager_and_torch():
    compiled = tg.compile(lambda x: _f(tg, x), fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x0 = rng.normal(size=(4, 5)) * 2
        x0[0, 0] = 0.0
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(x)
        rese, rest = _f(tg, xe), _f(torch, tx)
        for r in (res, rese, rest):
            r[0].backward()
        assert res[0].item() == rese[0].item()
        np.testing.assert_allclose(res[0].item(), rest[0].item(), rtol=1e-12)
        np.testing.assert_array_equal(x.grad.numpy(), xe.grad.numpy())
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
        for a, b, t, dt in zip(res[1:], rese[1:], rest[1:], (tg.int64, tg.int32, tg.bool)):
            assert a.dtype == b.dtype == dt and not a.requires_grad
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(a.numpy(), t.numpy())
    assert compiled._count == 1
