"""An op without a CUDA path refuses a CUDA tensor with NotImplementedError naming the op the
user called (through vmap's, keyword and method wrappers) and the device, instead of an
anonymous "an operation", on numba-cuda's simulator (see conftest.py)."""

import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg


def _x():
    return tg.tensor([[1.0, 2.5, 0.0], [4.0, -5.0, 6.0]], device="cuda")


CALLS = {  # name in the message: a call with no CUDA path
    "signbit": lambda: tg.signbit(_x()), "isposinf": lambda: tg.isposinf(_x()),
    "isneginf": lambda: _x().isneginf(),
    "rfft": lambda: tg.fft.rfft(_x()),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_error_names_the_op_and_the_device(name):
    with pytest.raises(NotImplementedError, match=rf"^{name}\(\) .*not implemented for cuda "
                       r"tensors in tapegrad.*\.cpu\(\)"):
        CALLS[name]()
