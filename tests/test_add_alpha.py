"""torch.add/torch.sub and Tensor.add/Tensor.sub with alpha= (``input + alpha * other``) and
other= by keyword, as PyTorch's: values, dtypes, errors, gradients, and under vmap and
tg.compile (which follow them op by op)."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

X = np.array([[1.5, -2.0, 0.25], [3.0, 0.5, -1.0]])
Y = np.array([0.5, -1.5, 2.0])

CALLS = [
    lambda L, x, y: L.add(x, y, alpha=2),
    lambda L, x, y: L.sub(x, y, alpha=-0.5),
    lambda L, x, y: x.add(y, alpha=3),
    lambda L, x, y: x.sub(other=y, alpha=2),
    lambda L, x, y: x.add(other=y),
    lambda L, x, y: L.add(x, 1.5, alpha=2),
    lambda L, x, y: L.add(x.long(), y.long(), alpha=2),
    lambda L, x, y: L.add(x.long(), 2.0, alpha=1.5),
    lambda L, x, y: L.add(x.long(), y.long(), alpha=1.5),
    lambda L, x, y: L.sub(x.long(), 2, alpha=0.5),
    lambda L, x, y: L.subtract(x.long(), y.long(), alpha=0.5),
    lambda L, x, y: x.long().add(y.long(), alpha=1.0),
    lambda L, x, y: L.add(x, y, alpha=1j),
    lambda L, x, y: L.add(x.long(), y.long(), alpha=True),
    lambda L, x, y: L.add(x > 0, y > 0, alpha=2),
    lambda L, x, y: L.sub(x > 0, y > 0, alpha=0),
]


@pytest.mark.parametrize("k", range(len(CALLS)))
def test_matches_torch(k):
    torch = pytest.importorskip("torch")
    results = []
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # (tapegrad's default: ints meeting floats)
    try:
        for L in (tg, torch):
            try:
                r = CALLS[k](L, L.tensor(X), L.tensor(Y))
                results.append((str(r.dtype).replace("torch.", ""), r.tolist()))
            except RuntimeError as e:
                results.append(str(e))
    finally:
        torch.set_default_dtype(default)
    assert results[0] == results[1]


def test_gradients():
    x, y = tg.tensor(X, requires_grad=True), tg.tensor(Y, requires_grad=True)
    (tg.add(x, y, alpha=2) * x.sub(y, alpha=3)).sum().backward()
    a, b = X + 2 * Y, X - 3 * Y
    np.testing.assert_allclose(x.grad.numpy(), a + b)
    np.testing.assert_allclose(y.grad.numpy(), (2 * b - 3 * a).sum(0))
    assert tg.autograd.gradcheck(lambda x, y: x.add(y, alpha=-1.5), (x, y))


def test_vmap_and_compile_follow_the_ops():
    x, y = tg.tensor(X), tg.tensor(Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tg.func.vmap(lambda a: a.sub(y, alpha=2))(x)
        f = tg.compile(lambda a: tg.add(a, y, alpha=2).sum())
        got = [float(f(x)), float(f(x))]
    np.testing.assert_allclose(out.numpy(), X - 2 * Y)
    np.testing.assert_allclose(got, [(X + 2 * Y).sum()] * 2)
