"""tg.compile of &, |, ^ and ~ on masks and integer tensors: a step combining masks
(``(x > 0) & valid``, ``~padding``) ran eagerly ('bitwise_and (code several ops share) is not
supported by tg.compile yet', '__invert__ ...'). Replayed (fullgraph: one trace) with eager's
and PyTorch's values and dtypes, the masks selecting gradients as eagerly."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _f(lib, x, valid):
    m = ((x > 0) & valid) | (x < -1.0)
    flip = m ^ (x > 0.5)
    ids = ((x * 3).long() & 6) | 1
    odd = (x * 2).int() ^ 3
    pad = ~valid
    loss = (lib.where(m, x, 0.5 * x) ** 2).sum() + (x * flip.to(x.dtype)).sum() + \
        (x * ids.to(x.dtype)).sum() + (x.masked_fill(pad, 0.0) * odd.to(x.dtype)).sum() + \
        (x * (~ids).to(x.dtype)).sum()
    return loss, m, flip, ids, odd, pad


def test_against_eager_and_torch():
    compiled = tg.compile(lambda x, v: _f(tg, x, v), fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x0, v0 = rng.normal(size=(4, 5)) * 2, rng.uniform(size=(4, 5)) > 0.3
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(x, tg.tensor(v0))
        rese, rest = _f(tg, xe, tg.tensor(v0)), _f(torch, tx, torch.tensor(v0))
        for r in (res, rese, rest):
            r[0].backward()
        np.testing.assert_allclose(res[0].item(), rese[0].item(), rtol=1e-14)
        np.testing.assert_allclose(res[0].item(), rest[0].item(), rtol=1e-12)
        np.testing.assert_array_equal(x.grad.numpy(), xe.grad.numpy())
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
        for a, b, t in zip(res[1:], rese[1:], rest[1:]):
            assert a.dtype == b.dtype and str(a.dtype) == str(t.dtype).replace("torch.", "")
            assert not a.requires_grad
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(a.numpy(), t.numpy())
    assert compiled._count == 1


def test_invert_of_a_float_tensor_raises_as_eager():
    compiled = tg.compile(lambda x: ~x)
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        compiled(tg.tensor([1.0, 2.0]))
