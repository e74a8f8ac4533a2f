"""In-place ops whose backward reads their result (exp_, sigmoid_, tanh_, sqrt_, expm1_):
changing that tensor in place afterwards raises PyTorch's error at backward (before, the
gradient silently used the snapshot); ops whose backward reads the input (sin_, log_) keep
working, as in PyTorch, which saves a copy of the old value for them."""
import numpy as np
import pytest

import tapegrad as tg

D = np.arange(24.0).reshape(4, 6) / 30 + 0.3
RESULT_OPS = ["exp_", "sigmoid_", "tanh_", "sqrt_", "expm1_"]
INPUT_OPS = ["sin_", "log_", "cos_", "neg_"]


def _program(L, op, change):
    x = L.tensor(D, dtype=L.float64, requires_grad=True)
    b = x * 1
    y = getattr(b, op)()
    if change == "mul_":
        b.mul_(2)
    elif change == "view":
        b[0].add_(1)
    elif change == "no_grad":
        with L.no_grad():
            b.add_(1)
    (y * y).sum().backward()
    return x.grad


@pytest.mark.parametrize("change", ["mul_", "view", "no_grad"])
@pytest.mark.parametrize("op", RESULT_OPS)
def test_changed_result_raises(op, change):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _program(tg, op, change)


@pytest.mark.parametrize("op", RESULT_OPS + INPUT_OPS)
def test_unchanged_result_gradient(op):
    f = {"exp_": np.exp, "sigmoid_": lambda v: 1 / (1 + np.exp(-v)), "tanh_": np.tanh,
         "sqrt_": np.sqrt, "expm1_": np.expm1, "sin_": np.sin, "log_": np.log, "cos_": np.cos,
         "neg_": np.negative}[op]
    e = 1e-6
    want = (f(D + e) ** 2 - f(D - e) ** 2) / (2 * e)
    np.testing.assert_allclose(_program(tg, op, None).numpy(), want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("change", ["mul_", "view"])
@pytest.mark.parametrize("op", RESULT_OPS + INPUT_OPS)
def test_matches_torch(op, change):
    torch = pytest.importorskip("torch")
    outcome = []
    for L in (tg, torch):
        try:
            outcome.append(np.asarray(_program(L, op, change).numpy()).round(10).tolist())
        except RuntimeError as e:
            outcome.append(str(e).split(":")[0])
    assert outcome[0] == outcome[1]
