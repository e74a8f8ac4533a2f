"""``nn.Parameter`` of an integer or bool tensor raises the constructor's PyTorch words
(capitalised, "and complex"), and is allowed with ``requires_grad=False``."""

import pytest

import tapegrad as tg


def _outcomes(lib):
    out = []
    for data in (lib.tensor([1, 2]), lib.tensor([True])):
        with pytest.raises(RuntimeError) as info:
            lib.nn.Parameter(data)
        out.append(str(info.value))
    kept = lib.nn.Parameter(lib.tensor([1, 2]), requires_grad=False)
    out.append((kept.requires_grad, kept.tolist()))
    out.append(lib.nn.Parameter(lib.tensor([1j])).requires_grad)
    return out


def test_integer_parameter_error():
    assert _outcomes(tg) == [
        "Only Tensors of floating point and complex dtype can require gradients"] * 2 + [
        (False, [1, 2]), True]


def test_integer_parameter_error_matches_torch(torch):
    assert _outcomes(tg) == _outcomes(torch)
