"""``grad_fn._saved_self`` / ``_saved_other`` / ``_saved_result`` / ``_saved_exponent`` /
``_saved_mat2``... of the common ops, as PyTorch exposes them (they raised AttributeError):
the saved values, None where PyTorch saves nothing (an operand of a product whose other
operand requires no grad), PyTorch's errors after a backward freed them or after an in-place
change. ``x ** y`` of two tensors is ``PowBackward1`` and ``c ** x`` ``PowBackward2``, as
PyTorch names them (they were ``PowBackward0`` and ``PowBackward1``)."""

import numpy as np
import pytest

import tapegrad as tg

ATTRS = ("_saved_self", "_saved_other", "_saved_result", "_saved_exponent", "_saved_mat2",
         "_saved_vec", "_saved_tensor", "_saved_self_sym_sizes", "_saved_mat2_sym_sizes")
CASES = {  # fn(lib, x, y, c, A, B): x, y, A, B require grad, c does not
    "mul": lambda L, x, y, c, A, B: x * y,
    "mul_const": lambda L, x, y, c, A, B: x * c,
    "const_mul": lambda L, x, y, c, A, B: c * x,
    "mul_number": lambda L, x, y, c, A, B: x * 2.5,
    "mul_non_leaves": lambda L, x, y, c, A, B: (x + 1) * (y * 2),
    "mul_0d": lambda L, x, y, c, A, B: x.sum() * y.sum(),
    "div": lambda L, x, y, c, A, B: x / y,
    "div_const": lambda L, x, y, c, A, B: x / c,
    "const_div": lambda L, x, y, c, A, B: c / x,
    "pow": lambda L, x, y, c, A, B: x ** y,
    "pow_const": lambda L, x, y, c, A, B: x ** c,
    "pow_number": lambda L, x, y, c, A, B: x ** 2.5,
    "exp": lambda L, x, y, c, A, B: x.exp(),
    "exp_0d": lambda L, x, y, c, A, B: x.sum().exp(),
    "tanh": lambda L, x, y, c, A, B: (x * 1).tanh(),
    "sigmoid": lambda L, x, y, c, A, B: x.sigmoid(),
    "mm": lambda L, x, y, c, A, B: A @ B,
    "mm_const": lambda L, x, y, c, A, B: A @ B.detach(),
    "mv": lambda L, x, y, c, A, B: A @ x,
    "dot": lambda L, x, y, c, A, B: x @ y,
}


def _inputs(L):
    x = L.tensor([1.0, 2.0, 0.5], dtype=L.float64, requires_grad=True)
    y = L.tensor([3.0, 4.0, 1.5], dtype=L.float64, requires_grad=True)
    c = L.tensor([0.5, -1.0, 2.0], dtype=L.float64)
    A = L.tensor(np.arange(6.0).reshape(2, 3), dtype=L.float64, requires_grad=True)
    B = L.tensor(np.arange(6.0).reshape(3, 2) / 3, dtype=L.float64, requires_grad=True)
    return dict(x=x, y=y, c=c, A=A, B=B)


def _described(L, name):
    ins = _inputs(L)
    g = CASES[name](L, **ins).grad_fn
    out = {"node": g.name() if L is tg else type(g).__name__}
    for a in ATTRS:
        try:
            v = getattr(g, a)
        except AttributeError:
            continue
        if v is None or isinstance(v, (tuple, float)):
            out[a] = v
            continue
        leaf = next((k for k, t in ins.items() if v is t and k != "c"), None)
        out[a] = (leaf, v.requires_grad, tuple(v.shape))
        out[a + " value"] = v.detach().numpy()
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_saved_values_as_pytorch(name):
    torch = pytest.importorskip("torch")
    got, want = _described(tg, name), _described(torch, name)
    assert sorted(got) == sorted(want)
    for k in want:
        if k.endswith(" value"):
            np.testing.assert_allclose(got[k], want[k], rtol=1e-14)
        else:
            assert got[k] == want[k], k


def test_saved_values_without_pytorch():
    ins = _inputs(tg)
    x, y, c, A, B = (ins[k] for k in "xycAB")
    g = (x * y).grad_fn
    assert g._saved_self is x and g._saved_other is y
    g = (x * c).grad_fn
    assert g._saved_self is None and g._saved_other.tolist() == c.tolist()
    z = x ** y
    g = z.grad_fn
    assert g.name() == "PowBackward1" and (2.0 ** x).grad_fn.name() == "PowBackward2"
    np.testing.assert_array_equal(g._saved_result.detach().numpy(), z.detach().numpy())
    assert g._saved_result.grad_fn == g and g._saved_exponent is y
    assert (x ** 2.5).grad_fn._saved_exponent == 2.5
    e = (x * 1).exp()
    np.testing.assert_array_equal(e.grad_fn._saved_result.detach().numpy(), np.exp([1, 2, .5]))
    assert (A @ B).grad_fn._saved_mat2 is B and (A @ B).grad_fn._saved_self_sym_sizes == (2, 3)
    with pytest.raises(AttributeError, match="'MulBackward0' object has no attribute "
                                             "'_saved_result'"):
        (x * y).grad_fn._saved_result


def test_freed_and_modified_saved_values_raise():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    z = x * x
    z.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        z.grad_fn._saved_self
    w = x * 1
    z = w * w
    w.mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.grad_fn._saved_other
    z = x.exp()
    z.grad_fn._saved_result.mul_(2)  # (shares the saved value's version counter)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
