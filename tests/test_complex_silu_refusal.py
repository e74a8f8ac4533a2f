"""silu of a complex tensor: PyTorch computes the values and refuses the derivative (its
message), where tapegrad raised a KeyError from its refusal table."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

Z = np.array([1j, 2 + 1j, -0.5 - 3j, 0j])
MESSAGE = "silu does not support automatic differentiation for outputs with complex dtype."


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_values_without_grad(dtype):
    z = Z.astype(dtype)
    out = F.silu(tg.tensor(z))
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), z / (1 + np.exp(-z)), rtol=1e-6)
    with tg.no_grad():
        out = F.silu(tg.tensor(z, requires_grad=True))
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), z / (1 + np.exp(-z)), rtol=1e-6)


def test_derivative_refused_as_pytorch():
    z = tg.tensor(Z, requires_grad=True)
    with pytest.raises(RuntimeError, match="^" + MESSAGE.replace(".", r"\.") + "$"):
        F.silu(z)
    with pytest.raises(RuntimeError, match="complex dtype"):
        tg.nn.SiLU()(z)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    t = torch.nn.functional.silu(torch.tensor(Z))
    np.testing.assert_allclose(F.silu(tg.tensor(Z)).numpy(), t.numpy(), rtol=1e-12, atol=1e-15)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.silu(torch.tensor(Z, requires_grad=True))
    with pytest.raises(RuntimeError) as ours:
        F.silu(tg.tensor(Z, requires_grad=True))
    assert str(ours.value) == str(theirs.value)


def test_real_and_bool_unchanged():
    x = tg.tensor([-1.5, 0.2, 3.0], requires_grad=True)
    assert tg.autograd.gradcheck(F.silu, (x,))
    assert tg.autograd.gradgradcheck(F.silu, (x,))
    with pytest.raises(NotImplementedError, match="silu_cpu"):
        F.silu(tg.tensor([True, False]))
