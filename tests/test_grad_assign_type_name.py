"""Assigning a non-tensor to ``.grad``: PyTorch's TypeError names the type as Python does
(``numpy.ndarray``, ``numpy.float64``, ``list``, a class's bare name)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


class Box:
    pass


@pytest.mark.parametrize("value", [np.zeros(2), np.float64(1.0), [1.0, 2.0], 1.5, "g", Box()])
def test_grad_assignment_type_error_names_the_type(value):
    messages = []
    for lib in (tg, torch):
        x = lib.zeros(2, requires_grad=True)
        with pytest.raises(TypeError) as e:
            x.grad = value
        messages.append(str(e.value))
    assert messages[0] == messages[1]
