"""``Tensor.T``/``mT``/``H`` on tensors that are not matrices, against PyTorch: ``T`` warns once
per process that reversing other than 2 dims (or the identity on 0-d) is deprecated, ``mT`` of
a vector raises and of a 0-d tensor warns, ``H`` of a batch points to ``mH``."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.torch_names import matrix_props

torch = pytest.importorskip("torch")

SHAPES = [(), (3,), (2, 3), (2, 3, 4), (2, 1, 3, 4)]


def torch_messages(code):
    """The warnings a fresh Python process running ``code`` under torch prints (PyTorch gives
    these once per process, so an earlier test here could have used them up)."""
    r = subprocess.run([sys.executable, "-W", "always", "-c", "import torch\n" + code],
                       capture_output=True, text=True, timeout=120)
    return [line.split("UserWarning: ", 1)[1].split(" (Triggered internally")[0]
            for line in r.stderr.splitlines() if "UserWarning: " in line]


def tg_messages(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [str(x.message) for x in w]


@pytest.mark.parametrize("shape", SHAPES)
def test_T_values_and_warning_as_torch(shape):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    matrix_props._warned.clear()
    got = tg_messages(lambda: tg.tensor(a).T)
    code = f"x = torch.zeros({shape})\nx.T\nx.T"
    assert got == torch_messages(code)
    assert tg_messages(lambda: tg.tensor(a).T) == []  # once per process, as PyTorch's
    np.testing.assert_array_equal(tg.tensor(a).T.numpy(), torch.tensor(a).T.numpy())


def test_T_gradient():
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    w = np.random.default_rng(1).standard_normal((4, 3, 2))
    x = tg.tensor(a, requires_grad=True)
    (x.T * tg.tensor(w)).sum().backward()
    xt = torch.tensor(a, requires_grad=True)
    (xt.T * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    assert tg.autograd.gradcheck(lambda t: (t.T ** 2).sum(), (tg.tensor(a, requires_grad=True),))


@pytest.mark.parametrize("shape", SHAPES)
def test_mT_as_torch(shape):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    matrix_props._warned.clear()
    try:
        expected = torch.tensor(a).mT.numpy()
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            tg.tensor(a).mT
        assert str(got.value) == str(e)
        return
    got = tg_messages(lambda: np.testing.assert_array_equal(tg.tensor(a).mT.numpy(), expected))
    assert got == torch_messages(f"torch.zeros({shape}).mT")


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_H_error_as_torch(shape):
    with pytest.raises(RuntimeError) as e:
        torch.zeros(shape).H
    with pytest.raises(RuntimeError) as got:
        tg.zeros(shape).H
    assert str(got.value) == str(e.value)
