"""In-place ops on an inference tensor used outside inference mode, against PyTorch: on a leaf
requiring grad, an op that would record (a normal tensor operand, or a number add_/sub_/mul_/
div_ wrap) raises PyTorch's leaf error first; others (inference operands, numbers of other
ops, no operand, random fills, setitem, under no_grad, without requires_grad) its inference
tensor error. The tensor is left unchanged either way."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

WRITES = {
    "mul_(2)": lambda n, n0, m: n.mul_(2.0),
    "add_(1)": lambda n, n0, m: n.add_(1),
    "sub_(1)": lambda n, n0, m: n.sub_(1),
    "div_(2)": lambda n, n0, m: n.div_(2),
    "true_divide_(2)": lambda n, n0, m: n.true_divide_(2),
    "multiply_(2)": lambda n, n0, m: n.multiply_(2),
    "divide_(2)": lambda n, n0, m: n.divide_(2),
    "subtract_(1)": lambda n, n0, m: n.subtract_(1),
    "subtract_(1, alpha=2)": lambda n, n0, m: n.subtract_(1, alpha=2),
    "add_(2, alpha=2)": lambda n, n0, m: n.add_(2, alpha=2),
    "add_(m)": lambda n, n0, m: n.add_(m),
    "add_(m, alpha=2)": lambda n, n0, m: n.add_(m, alpha=2),
    "sub_(m)": lambda n, n0, m: n.sub_(m),
    "mul_(n0)": lambda n, n0, m: n.mul_(n0),
    "add_(n0)": lambda n, n0, m: n.add_(n0),
    "copy_(m)": lambda n, n0, m: n.copy_(m),
    "copy_(n0)": lambda n, n0, m: n.copy_(n0),
    "addcmul_(m, m)": lambda n, n0, m: n.addcmul_(m, m),
    "addcdiv_(n0, n0)": lambda n, n0, m: n.addcdiv_(n0, n0),
    "lerp_(m, 0.5)": lambda n, n0, m: n.lerp_(m, 0.5),
    "clamp_(m)": lambda n, n0, m: n.clamp_(m),
    "clamp_(min=0.5)": lambda n, n0, m: n.clamp_(min=0.5),
    "pow_(m)": lambda n, n0, m: n.pow_(m),
    "pow_(2)": lambda n, n0, m: n.pow_(2),
    "masked_fill_": lambda n, n0, m: n.masked_fill_(m > 0, 1.0),
    "fill_(1)": lambda n, n0, m: n.fill_(1.0),
    "fill_(m[0])": lambda n, n0, m: n.fill_(m[0]),
    "zero_": lambda n, n0, m: n.zero_(),
    "sin_": lambda n, n0, m: n.sin_(),
    "exp_": lambda n, n0, m: n.exp_(),
    "relu_": lambda n, n0, m: n.relu_(),
    "uniform_": lambda n, n0, m: n.uniform_(),
    "normal_": lambda n, n0, m: n.normal_(),
    "setitem(0.5)": lambda n, n0, m: n.__setitem__(0, 0.5),
    "setitem(m)": lambda n, n0, m: n.__setitem__(slice(0, 2), m[:2]),
    "view.mul_(2)": lambda n, n0, m: n[0].mul_(2),
}


def _run(L, write, requires_grad, mode):
    with L.inference_mode():
        n = L.tensor([0.5, 1.5, 2.5], dtype=L.float64, requires_grad=requires_grad)
        n0 = L.tensor([1.0, 2.0, 3.0], dtype=L.float64)
    m = L.tensor([3.0, 2.0, 1.0], dtype=L.float64)
    try:
        if mode == "no_grad":
            with L.no_grad():
                write(n, n0, m)
        else:
            write(n, n0, m)
    except RuntimeError as e:
        return str(e), n.detach().numpy().tolist()
    return "no error", None


@pytest.mark.parametrize("name", list(WRITES))
@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("mode", ["grad", "no_grad"])
def test_inference_write_error_as_pytorch(name, requires_grad, mode):
    msg, values = _run(tg, WRITES[name], requires_grad, mode)
    want, _ = _run(torch, WRITES[name], requires_grad, mode)
    assert msg == want
    np.testing.assert_array_equal(values, [0.5, 1.5, 2.5])  # (tapegrad writes nothing)
