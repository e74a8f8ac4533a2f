"""In-place ops under ``no_grad`` inside forward mode: a tensor with history takes a
forward-only record of its new value (its tangent follows, as PyTorch's dual tensors'), a
view of it is regathered, and a leaf or a view of a leaf changes value only (it stays a leaf).
"""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import jvp, vmap

X = [1.0, 2.0, 3.0]
V = [1.0, 0.5, 0.25]


def _tangent(f, x=X, v=V):
    _, t = jvp(f, (tg.tensor(x, dtype=tg.float64),), (tg.tensor(v, dtype=tg.float64),))
    return t.detach().numpy()


def clamped(lib):
    """An in-place op whose derivative reads its input (clamp_ saves it)."""
    def f(x):
        with lib.no_grad():
            y = x * 1
            y.clamp_(1.5, 2.5)
        return y
    return f


def relu_in_place(lib):
    def f(x):
        with lib.no_grad():
            y = lib.nn.functional.relu(x - 2, inplace=True)
        return y
    return f


def assigned(lib):
    def f(x):
        y = x * 1
        with lib.no_grad():
            y[0:2] = x[1:] * 5
        return y
    return f


def view_of_changed_base(lib):
    def f(x):
        with lib.no_grad():
            y = x * 1
            v = y[0:2]
            y.mul_(3)
            return v * 1
    return f


def test_in_place_op_reading_its_input_keeps_the_tangent():
    # (it raised: the op's saved input was the tensor written over)
    np.testing.assert_allclose(_tangent(clamped(tg)), [0.0, 0.5, 0.0])
    np.testing.assert_allclose(_tangent(relu_in_place(tg)), [0.0, 0.0, 0.25])


def test_in_place_op_under_vmap_inside_jvp():
    xs = tg.tensor([X, [2.0, 0.0, 1.0]], dtype=tg.float64)
    vs = tg.tensor([V, V], dtype=tg.float64)
    _, t = jvp(vmap(clamped(tg)), (xs,), (vs,))
    np.testing.assert_allclose(t.numpy(), [[0.0, 0.5, 0.0], [1.0, 0.0, 0.0]])


def test_setitem_gives_the_value_tangent_not_the_old_one():
    np.testing.assert_allclose(_tangent(assigned(tg)), [2.5, 1.25, 0.25])


def test_view_regathered_after_its_base_changed():
    np.testing.assert_allclose(_tangent(view_of_changed_base(tg)), [3.0, 1.5])


def test_parameter_changed_through_a_view_stays_a_leaf():
    p = tg.nn.Parameter(tg.ones(3, dtype=tg.float64))

    def f(x):
        with tg.no_grad():
            p[0:2].mul_(2)
            p[2] = 4.0
        return x * p

    with pytest.raises(RuntimeError, match="that would mutate a captured Tensor"):
        _tangent(f)  # (torch.func.jvp refuses to change a captured tensor: a dual level does not)
    np.testing.assert_allclose(p.detach().numpy(), [1.0, 1.0, 1.0])
    fwAD = tg.autograd.forward_ad
    with fwAD.dual_level():
        x = fwAD.make_dual(tg.tensor(X, dtype=tg.float64), tg.tensor(V, dtype=tg.float64))
        tangent = fwAD.unpack_dual(f(x)).tangent
    assert tangent.requires_grad  # (x * p: differentiable in the parameter, as PyTorch's)
    np.testing.assert_allclose(tangent.detach().numpy(), [2.0, 1.0, 1.0])
    assert p.is_leaf and p.grad_fn is None
    np.testing.assert_allclose(p.detach().numpy(), [2.0, 2.0, 4.0])
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [4.0, 4.0, 8.0])


@pytest.mark.parametrize("case", [clamped, relu_in_place, assigned, view_of_changed_base])
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    _, want = torch.func.jvp(case(torch), (torch.tensor(X, dtype=torch.float64),),
                             (torch.tensor(V, dtype=torch.float64),))
    np.testing.assert_allclose(_tangent(case(tg)), want.numpy())
