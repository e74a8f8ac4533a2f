"""``tg.autograd.forward_ad`` refuses what ``torch.autograd.forward_ad`` refuses, in its words:
a dual without a level, integer primals and tangents, a dual made from a dual of the same level,
leaving a level never entered. Written out, so they run without torch; the last test compares
them with live PyTorch."""

import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch

CALLS = {
    "no level": lambda lib, fw: fw.make_dual(lib.ones(2), lib.ones(2)),
    "int primal": lambda lib, fw: _in_level(fw, lambda: fw.make_dual(
        lib.tensor([1, 2]), lib.tensor([1.0, 2.0]))),
    "int tangent": lambda lib, fw: _in_level(fw, lambda: fw.make_dual(
        lib.tensor([1.0, 2.0]), lib.tensor([1, 2]))),
    "dual of a dual": lambda lib, fw: _in_level(fw, lambda: fw.make_dual(
        fw.make_dual(lib.ones(2), lib.ones(2)), lib.ones(2))),
    "exit without a level": lambda lib, fw: fw.exit_dual_level(),
}


def _in_level(fw, make):
    with fw.dual_level():
        return make()


@pytest.mark.parametrize("name, error, message", [
    ("no level", RuntimeError, "Trying to create a dual Tensor for forward AD but no level "
                               "exists, make sure to enter_dual_level() first."),
    ("int primal", ValueError, "Expected primal to be floating point or complex, but got: "
                               "torch.int64"),
    ("int tangent", ValueError, "Expected tangent to be floating point or complex, but got: "
                                "torch.int64"),
    ("dual of a dual", RuntimeError, "Making a dual Tensor based on a Tensor that already has a "
                                     "forward gradient at the same level 0 is not supported."),
    ("exit without a level", RuntimeError, "Dual level must be a positive number."),
])
def test_refusals(name, error, message):
    with pytest.raises(error) as info:
        CALLS[name](tg, tg.autograd.forward_ad)
    assert str(info.value) == message


@needs_torch
@pytest.mark.parametrize("name", list(CALLS))
def test_refusals_match_torch(name):
    def refusal(lib):
        with pytest.raises(Exception) as info:
            CALLS[name](lib, lib.autograd.forward_ad)
        return type(info.value), str(info.value)

    assert refusal(tg) == refusal(torch)
