"""Edge cases of ``tg.func``'s Jacobians: complex arguments and outputs are refused in
PyTorch's words, and an input without elements gives an empty Jacobian (it crashed in the
forward sweep). The messages are written out, so the checks run without torch; the last test
compares them with live PyTorch."""

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_complex_input_is_refused(name):
    jac = getattr(tg.func, name)
    with pytest.raises(RuntimeError, match=f"{name}: Expected all inputs to be real but "
                                           "received complex tensor at flattened input idx: 1"):
        jac(lambda x, z: x * 2, argnums=0)(tg.tensor([1.0]), tg.tensor([1 + 1j]))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_complex_output_is_refused(name):
    jac = getattr(tg.func, name)
    with pytest.raises(RuntimeError, match=f"{name}: Expected all outputs to be real but "
                                           "received complex tensor at flattened input idx: 1"):
        jac(lambda x: (x, x * (1 + 1j)))(tg.tensor([1.0, 2.0]))


def test_complex_output_refused_inside_grad():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="jacfwd: Expected all outputs to be real"):
        tg.func.jacfwd(lambda x: x * w * 1j)(tg.tensor([1.0, 2.0]))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_input_without_elements(name):
    jac = getattr(tg.func, name)
    assert jac(lambda x: x * 2)(tg.zeros(0)).shape == (0, 0)
    assert jac(lambda x: x.sin().exp() @ x)(tg.zeros(0)).shape == (0,)
    full, empty = jac(lambda x, y: x * y.sum(), argnums=(0, 1))(tg.ones(2), tg.zeros(0))
    np.testing.assert_array_equal(full.numpy(), np.zeros((2, 2)))
    assert empty.shape == (2, 0)


@needs_torch
@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_complex_messages_match_torch(name):
    def message(lib, f, *args):
        with pytest.raises(RuntimeError) as info:
            getattr(lib.func, name)(f)(*args)
        return str(info.value)

    for f, arg in [(lambda x: x * 2, [1 + 1j, 2.0]), (lambda x: x * 1j, [1.0, 2.0])]:
        assert (message(tg, f, tg.tensor(arg, dtype=tg.complex128 if isinstance(arg[0], complex)
                                         else tg.float64))
                == message(torch, f, torch.tensor(arg, dtype=torch.complex128
                                                  if isinstance(arg[0], complex)
                                                  else torch.float64)))
