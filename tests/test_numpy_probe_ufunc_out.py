"""A ufunc's out= naming a tensor (with where= beside it) when a gradient is at stake:
np.divide(a, b, out=np.zeros_like(a), where=b != 0), NumPy's safe division, differentiates; the
ufunc sees only the entries where= selects, as in NumPy."""

import numpy as np
import pytest

import tapegrad as tg

A = np.array([0.5, -1.2, 2.0, 0.3, -0.7, 1.1])
B = np.array([1.0, 0.0, 2.0, -1.0, 0.0, 3.0])


def safe_div(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def test_safe_division_values_and_gradients():
    a, b = tg.tensor(A, requires_grad=True), tg.tensor(B, requires_grad=True)
    q = safe_div(a, b)
    np.testing.assert_array_equal(q.detach().numpy(), safe_div(A, B))
    q.sum().backward()
    nz = B != 0
    np.testing.assert_allclose(a.grad.numpy(), np.where(nz, 1 / np.where(nz, B, 1), 0), rtol=1e-15)
    # b = 0 is never divided by: its gradient is 0, not 0 * inf
    np.testing.assert_allclose(b.grad.numpy(), np.where(nz, -A / np.where(nz, B, 1) ** 2, 0),
                               rtol=1e-15)
    assert tg.autograd.gradcheck(lambda a, b: safe_div(a, b), (a, tg.tensor(B + 0.5,
                                                                            requires_grad=True)))


def test_against_torch():
    torch = pytest.importorskip("torch")
    a, c = tg.tensor(A, requires_grad=True), tg.tensor(A[::-1].copy(), requires_grad=True)
    out = c * 2.0  # kept where a <= 0: the gradient reaches c there
    r = np.log(a, out=out, where=a > 0)
    assert r is out
    w = np.arange(1.0, 7.0)
    (r * tg.tensor(w)).sum().backward()
    ta, tc = torch.tensor(A, requires_grad=True), torch.tensor(A[::-1].copy(), requires_grad=True)
    pos = ta > 0
    tr = torch.where(pos, torch.log(torch.where(pos, ta, 1.0)), tc * 2.0)
    (tr * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(r.detach().numpy(), tr.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(c.grad.numpy(), tc.grad.numpy(), rtol=1e-15)


def test_out_without_where_broadcast_cast_and_alias():
    x = tg.tensor(A, requires_grad=True)

    def f(x):
        y = np.empty_like(x)
        np.exp(x, out=y)
        m = np.zeros_like(np.stack([x, x]))
        np.multiply(y, 2.0, out=m)  # the inputs broadcast to out's shape
        z = x * 1.0
        np.sin(z, out=z)  # out is an input
        return m, z

    m, z = f(x)
    np.testing.assert_allclose(m.detach().numpy(), np.broadcast_to(2 * np.exp(A), (2, 6)),
                               rtol=1e-15)
    np.testing.assert_allclose(z.detach().numpy(), np.sin(A), rtol=1e-15)
    assert tg.autograd.gradcheck(f, (x,))
    o32 = tg.zeros(6, dtype=tg.float32)
    assert np.exp(x, out=o32).dtype == np.float32  # NumPy's same_kind cast into out
    np.testing.assert_allclose(o32.detach().numpy(), np.exp(A).astype(np.float32), rtol=1e-7)


def test_refusals():
    x = tg.tensor(A, requires_grad=True)
    with pytest.raises(TypeError, match="into a NumPy array"):
        np.multiply(x, 2.0, out=np.zeros(6))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        np.multiply(x, 2.0, out=x)
    with pytest.raises(TypeError, match=r"numpy\.multiply with out=, casting="):
        np.multiply(x, 2.0, out=tg.zeros(6), casting="unsafe")
    with pytest.raises(TypeError, match="Cannot cast ufunc 'multiply' output from"):
        np.multiply(x, 2.0, out=tg.zeros(6, dtype=tg.int64))
    with pytest.raises(ValueError, match="could not be broadcast"):
        np.multiply(x, 2.0, out=tg.zeros(3))
    with pytest.raises(ValueError, match="non-broadcastable output operand"):
        np.multiply(x, 2.0, out=tg.zeros(1))
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce with out="):
        np.add.reduce(x, out=tg.zeros(()))
    with pytest.raises(TypeError, match=r"numpy\.spacing with out="):
        np.spacing(x, out=tg.zeros(6))
    # no gradient at stake: NumPy writes the values, as before
    buf = tg.zeros(6)
    assert np.divide(tg.tensor(A), tg.tensor(B), out=buf, where=B != 0) is buf
    np.testing.assert_array_equal(buf.numpy(), safe_div(A, B))
