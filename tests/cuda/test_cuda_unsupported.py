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
    "fmod": lambda: tg.fmod(_x(), 1.5), "isnan": lambda: tg.isnan(_x()),
    "trunc": lambda: _x().trunc(), "nonzero": lambda: _x().nonzero(),
    "unique": lambda: tg.unique(_x()), "quantile": lambda: tg.quantile(_x(), 0.5),
    "masked_select": lambda: _x().masked_select(_x() > 1),
    "multinomial": lambda: tg.multinomial(tg.tensor([0.0, 1.0], device="cuda"), 1),
    "logical_not": lambda: tg.logical_not(_x() > 1), "rfft": lambda: tg.fft.rfft(_x()),
    "floor_divide": lambda: tg.tensor([1, 2], device="cuda") // 2,  # (a factory's closure)
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_error_names_the_op_and_the_device(name):
    with pytest.raises(NotImplementedError, match=rf"^{name}\(\) .*not implemented for cuda "
                       r"tensors in tapegrad.*\.cpu\(\)"):
        CALLS[name]()
